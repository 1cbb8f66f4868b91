using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training.Adversarial;

/// <summary>
/// FGSM training (Goodfellow, Shlens and Szegedy 2015, https://arxiv.org/abs/1412.6572): loss = alpha * CE(x) +
/// (1 - alpha) * CE(x + eps sign(grad)), alpha = 0.5. With <paramref name="randomStart"/> it is the "fast" variant of
/// Wong, Rice and Kolter 2020 (https://arxiv.org/abs/2001.03994): start uniform in the eps-ball, one step of 1.25 eps,
/// project back: PGD-L-inf with one step. The adversarial points are made in <see cref="Prepare"/> (input gradients
/// only), the adversarial half of the loss is <see cref="ExtraLoss"/>.
/// </summary>
public sealed class FgsmTraining(double epsilon, bool randomStart, int seed, double alpha = 0.5) : TrainingHook
{
    private Tensor? adversarials;

    /// <summary>The attack each batch is perturbed with: FGSM, or one PGD step of 1.25 eps from a random start.</summary>
    public Attack Attack { get; } = randomStart
        ? new PgdLinf { Epsilon = epsilon, StepSize = 1.25 * epsilon, Steps = 1, RandomStart = true, Seed = seed }
        : new Fgsm { Epsilon = epsilon };

    /// <summary>The hook's settings in one line, for cache keys.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"fgsm-training(alpha={alpha}, randomStart={randomStart}, attack={Attack.Describe()})");

    /// <summary>Perturbs the batch; the clean loss gets weight alpha.</summary>
    public override TrainingBatch Prepare(Classifier model, TrainingBatch batch)
    {
        // Belongs to the batch's dispose scope, like everything the hook makes for the batch.
        adversarials = Attack.Perturb(model, batch.Inputs, batch.Labels, null, batch.FirstIndex).Adversarials.detach();
        return batch with { CleanWeight = alpha };
    }

    /// <summary>(1 - alpha) times the cross-entropy on the perturbed batch.</summary>
    public override Tensor? ExtraLoss(Classifier model, TrainingBatch batch) =>
        adversarials is null ? null : nn.functional.cross_entropy(model.forward(adversarials), batch.Labels) * (1 - alpha);
}

/// <summary>
/// PGD training (Madry, Makelov, Schmidt, Tsipras and Vladu 2018, https://arxiv.org/abs/1706.06083): each batch is
/// replaced by its PGD-L-inf points (random start, <paramref name="steps"/> steps of 2.5 eps / steps) and the model
/// trains on those only. Each row's random start comes from its own stream (seed, running row index). With
/// <paramref name="rampEpochs"/> R > 0, eps grows over the first R epochs: epoch e (from 0) uses eps (e + 1) / (R + 1)
/// until epoch R, then eps (a curriculum; from scratch at eps 0.3 the small convnet collapsed to one class without it).
/// </summary>
public sealed class PgdTraining(double epsilon, int steps, int seed, int rampEpochs = 0) : TrainingHook
{
    /// <summary>The attack at the full eps (after the ramp).</summary>
    public Attack Attack { get; } = AttackAt(epsilon, steps, seed);

    /// <summary>The hook's settings in one line, for cache keys.</summary>
    public string Describe() => rampEpochs == 0
        ? $"pgd-training(attack={Attack.Describe()})"
        : string.Create(CultureInfo.InvariantCulture, $"pgd-training(attack={Attack.Describe()}, rampEpochs={rampEpochs})");

    /// <summary>The eps of <paramref name="epoch"/> (from 0) under the ramp.</summary>
    public double EpsilonAt(int epoch) => epoch >= rampEpochs ? epsilon : epsilon * (epoch + 1) / (rampEpochs + 1);

    /// <summary>Replaces the batch by its PGD points at the epoch's eps.</summary>
    public override TrainingBatch Prepare(Classifier model, TrainingBatch batch)
    {
        var attack = batch.Epoch >= rampEpochs ? Attack : AttackAt(EpsilonAt(batch.Epoch), steps, seed);
        return batch with { Inputs = attack.Perturb(model, batch.Inputs, batch.Labels, null, batch.FirstIndex).Adversarials.detach() };
    }

    private static PgdLinf AttackAt(double epsilon, int steps, int seed) =>
        new() { Epsilon = epsilon, StepSize = 2.5 * epsilon / steps, Steps = steps, RandomStart = true, Seed = seed };
}

/// <summary>
/// Dropout (Hinton et al. 2012; the paper's 1.3% baseline) for zoo models that have none, as a hook: the clean term's
/// weight is set to 0 and the loss is the cross-entropy of a dropped-out forward pass, built from the model's own
/// pieces: the input dropped with probability <paramref name="inputDrop"/>, the last hidden layer's activations
/// (<see cref="Classifier.Activations"/>) dropped with probability <paramref name="hiddenDrop"/>, then the layers above
/// it (<see cref="Classifier.ForwardFromHidden"/>). Inverted dropout (kept units scaled by 1/(1-p)), so the trained
/// model is used as it is. Draws come from torch's generator, which the loop seeds per epoch.
/// </summary>
public sealed class DropoutTraining(double inputDrop = 0.2, double hiddenDrop = 0.5) : TrainingHook
{
    /// <summary>The hook's settings in one line, for cache keys.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"dropout(input={inputDrop}, lastHidden={hiddenDrop})");

    /// <summary>Checks the model has a hidden layer to drop units from.</summary>
    /// <exception cref="BadInputException">A model without hidden layers.</exception>
    public override void Starting(Classifier model)
    {
        if (model.HiddenLayerNames.Count == 0)
        {
            throw new BadInputException($"--method dropout: model '{model.GetName()}' has no hidden layer to drop units from");
        }
    }

    /// <summary>No clean loss: <see cref="ExtraLoss"/> is the whole loss.</summary>
    public override TrainingBatch Prepare(Classifier model, TrainingBatch batch) => batch with { CleanWeight = 0 };

    /// <summary>The cross-entropy with dropout on the inputs and the last hidden layer.</summary>
    public override Tensor? ExtraLoss(Classifier model, TrainingBatch batch)
    {
        var inputs = nn.functional.dropout(batch.Inputs, inputDrop, training: true);
        int last = model.HiddenLayerNames.Count - 1;
        var hidden = nn.functional.dropout(model.Activations(inputs)[last], hiddenDrop, training: true);
        return nn.functional.cross_entropy(model.ForwardFromHidden(last, hidden), batch.Labels);
    }
}
