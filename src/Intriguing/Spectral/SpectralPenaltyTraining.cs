using System.Globalization;
using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Training;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>
/// Joins the zoo's training loop (<see cref="TrainingHook"/>) and adds <c>weight * sum_k sigma_k</c>, the spectral-norm
/// penalty of <see cref="SpectralPenalty"/>, to every batch's loss: one power step per layer per batch, the singular vectors
/// carried from batch to batch.
/// </summary>
public sealed class SpectralPenaltyHook(double weight, int seed = 0) : TrainingHook, IDisposable
{
    /// <summary>Power steps per layer per batch: the singular vectors are carried from batch to batch, so one is enough.</summary>
    public const int PowerStepsPerBatch = 1;

    private readonly SpectralPenalty penalty = new(iterationsPerCall: PowerStepsPerBatch, seed);

    /// <summary>The penalty's weight.</summary>
    public double Weight => weight;

    /// <summary><c>weight * sum_k sigma_k</c> of <paramref name="model"/>'s current weights, a scalar tensor.</summary>
    public override Tensor? ExtraLoss(Classifier model, TrainingBatch batch) => penalty.Compute(model) * weight;

    /// <summary>Frees the penalty's singular vectors.</summary>
    public void Dispose() => penalty.Dispose();
}

/// <summary>
/// The paper's suggestion tried (Section 4.4: regularise by penalising each layer's upper Lipschitz bound): a zoo model
/// trained by its own recipe plus the spectral-norm penalty, cached beside the plain model under the variant
/// <c>spectral&lt;weight&gt;</c>.
/// </summary>
public static class SpectralPenaltyTraining
{
    /// <summary>The penalty weight the study uses: 0.01 puts sum sigma_k (about 27 on the plain fc100-100-10) at about a quarter of a nat.</summary>
    public const double DefaultWeight = 0.01;

    /// <summary>
    /// The zoo model <paramref name="name"/> trained on <paramref name="split"/> of <paramref name="data"/> with the penalty at
    /// <paramref name="weight"/>: from the cache, or trained by the model's (<paramref name="quick"/>) recipe and cached.
    /// </summary>
    /// <exception cref="BadInputException">A weight that is not finite and &gt; 0, an unknown model, or data the model cannot read.</exception>
    public static TrainedModel GetOrTrain(string name, ImageDataset data, Split split, int seed, bool quick, double weight,
        IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(weight > 0) || !double.IsFinite(weight))
        {
            throw new BadInputException($"--penalty must be a finite number > 0; got {weight}");
        }
        var spec = ModelZoo.Get(name);
        data.CheckFits(InputSpace.Mnist, spec.Name);
        string variant = "spectral" + weight.ToString("G6", CultureInfo.InvariantCulture);
        string path = ModelStore.CachePath(spec, split, seed, quick, null, data.Name, variant);
        string recipe = $"{spec.RecipeFor(split, quick, null).Describe()} + spectral-norm penalty {weight.ToString("G6", CultureInfo.InvariantCulture)} * sum of layer norms";
        return ModelStore.LoadOrTrain(path, recipe, data.Name, () =>
        {
            data.RequireTraining($"training {spec.Name} with the spectral-norm penalty");
            using var hook = new SpectralPenaltyHook(weight, seed);
            var trained = ZooTraining.Train(spec, data.Get, split, seed, quick, null, progress, null, data.Name, hook);
            trained = trained with { Path = path, Report = trained.Report with { Recipe = recipe } };
            ModelStore.Save(trained);
            return trained;
        }, progress);
    }
}
