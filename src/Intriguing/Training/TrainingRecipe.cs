namespace Intriguing.Training;

/// <summary>Which optimiser a <see cref="TrainingRecipe"/> uses.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent with Nesterov momentum.</summary>
    Sgd,

    /// <summary>Adam (Kingma and Ba).</summary>
    Adam,
}

/// <summary>
/// How a zoo model is trained with labels: mini-batch size, optimiser, a learning rate that decays from
/// <see cref="LearningRate"/> to <see cref="FinalLearningRate"/> along a cosine over all steps, and for AE400-10
/// the unsupervised pre-training of its sparse autoencoder (<see cref="Pretraining"/>).
/// </summary>
public sealed record TrainingRecipe(
    int Epochs,
    int BatchSize,
    OptimizerKind Optimizer,
    double LearningRate,
    double FinalLearningRate,
    double Momentum = 0.9,
    AutoencoderRecipe? Pretraining = null,
    int WarmupEpochs = 0)
{
    /// <summary>The same recipe for <paramref name="epochs"/> epochs.</summary>
    /// <exception cref="BadInputException"><paramref name="epochs"/> below 1.</exception>
    public TrainingRecipe WithEpochs(int epochs)
    {
        if (epochs < 1)
        {
            throw new BadInputException($"--epochs must be at least 1; got {epochs}");
        }
        return this with { Epochs = epochs };
    }

    /// <summary>
    /// The learning rate at <paramref name="step"/> of <paramref name="totalSteps"/>: a linear ramp from near zero over
    /// the first <paramref name="warmupSteps"/> (wide sigmoid layers diverge at a large rate from their initial weights),
    /// then cosine decay from <see cref="LearningRate"/> to <see cref="FinalLearningRate"/>.
    /// </summary>
    public double LearningRateAt(long step, long totalSteps, long warmupSteps = 0)
    {
        if (step < warmupSteps)
        {
            return LearningRate * (step + 1) / warmupSteps;
        }
        long decaySteps = totalSteps - warmupSteps;
        double progress = decaySteps <= 1 ? 1.0 : (double)(step - warmupSteps) / (decaySteps - 1);
        return FinalLearningRate + (LearningRate - FinalLearningRate) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>
    /// The version of <see cref="TrainingLoop"/>'s arithmetic (batch order, optimiser, pretraining): part of every
    /// description, so a model trained by an earlier loop is never taken from the cache for this one.
    /// </summary>
    public const string LoopVersion = "loop 2";

    /// <summary>One line for logs, the model's JSON sidecar and the report.</summary>
    public string Describe()
    {
        var text = FormattableString.Invariant(
            $"{Optimizer.ToString().ToLowerInvariant()}{(Optimizer == OptimizerKind.Sgd ? $" (nesterov momentum {Momentum})" : "")}, batch {BatchSize}, {Epochs} epochs, lr {LearningRate:G3} -> {FinalLearningRate:G3} cosine{(WarmupEpochs > 0 ? $" after {WarmupEpochs} warm-up epochs" : "")}");
        return (Pretraining is null ? text : text + "; " + Pretraining.Describe()) + "; " + LoopVersion;
    }
}

/// <summary>
/// Unsupervised pre-training of a sparse autoencoder layer (AE400-10): reconstruction error
/// 1/2 ||x - x_hat||^2 per image, plus <see cref="SparsityWeight"/> * sum_j KL(rho || rho_hat_j) pulling each unit's
/// mean activation rho_hat_j towards <see cref="SparsityTarget"/>, plus weight decay
/// <see cref="WeightDecay"/>/2 * (||W_enc||^2 + ||W_dec||^2). Trained with Adam.
/// </summary>
public sealed record AutoencoderRecipe(
    int Epochs,
    int BatchSize,
    double LearningRate,
    double SparsityTarget,
    double SparsityWeight,
    double WeightDecay)
{
    /// <summary>The pre-training in one line of words, for recipes and reports.</summary>
    public string Describe() => FormattableString.Invariant(
        $"sparse autoencoder pre-training: adam, batch {BatchSize}, {Epochs} epochs, lr {LearningRate:G3}, sparsity target {SparsityTarget} weight {SparsityWeight}, weight decay {WeightDecay:G3}");
}
