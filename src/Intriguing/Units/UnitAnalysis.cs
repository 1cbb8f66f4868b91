using System.Diagnostics;
using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Units;

/// <summary>One layer's activations over the image pool, with what the coherence measures need beside them.</summary>
/// <param name="Layer">The layer's name.</param>
/// <param name="LayerIndex">Its index among the model's hidden layers.</param>
/// <param name="Activations">phi(x), float32 [pool, units].</param>
/// <param name="LayerBelow">Name of the layer below ("pixels" for the first hidden layer).</param>
/// <param name="BelowActivations">That layer's activations, [pool, units below].</param>
/// <param name="Pixels">The pool's images, float32 [pool, 784].</param>
/// <param name="Labels">The pool's labels, int64 [pool].</param>
public sealed record LayerInput(string Layer, int LayerIndex, Tensor Activations, string LayerBelow, Tensor BelowActivations, Tensor Pixels, Tensor Labels);

/// <summary>
/// Section 3 of the paper, measured: for a layer phi, the images of a held-out pool that maximise &lt;phi(x), e_i&gt;
/// for every single unit e_i, and &lt;phi(x), v&gt; for random unit directions v; how coherent each direction's top K
/// images are (label purity, pairwise cosine similarity in the layer below and in pixel space) against chance; and a
/// two-sided Mann-Whitney test with Cliff's delta of units against random directions, Holm-corrected over the tests
/// reported together (<see cref="UnitVerdicts"/>). The paper says single units
/// are no more coherent than random directions (Figures 1-4); Bau et al. (2017) found the opposite for the units of
/// large convnets. This class measures which holds on a given layer.
/// </summary>
public static class UnitAnalysis
{
    /// <summary>The name of the layer below the first hidden layer: the input pixels.</summary>
    public const string PixelsLayer = "pixels";

    /// <summary>Images per forward pass when the pool's activations are computed, unless told otherwise: 1,000.</summary>
    public const int DefaultBatch = 1000;

    /// <summary>Analyses every layer in <paramref name="layers"/> (indices into <see cref="Classifier.HiddenLayerNames"/>) over <paramref name="pool"/>.</summary>
    public static ModelUnits Analyze(Classifier model, string modelName, LabeledImages pool, IReadOnlyList<int> layers,
        UnitAnalysisOptions options, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pool);
        options.Validate(pool.Count);
        using var units = UnitPool.Of(model, modelName, pool, layers, DefaultBatch, progress);
        return Analyze(units, options, progress);
    }

    /// <summary>
    /// Analyses every layer of <paramref name="pool"/> (<see cref="UnitPool.Layers"/>) from its activations: the work
    /// after the per-image forward passes, the same for a pool computed at once and one put together from shards.
    /// </summary>
    /// <exception cref="BadInputException">Settings out of range for the pool.</exception>
    public static ModelUnits Analyze(UnitPool pool, UnitAnalysisOptions options, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(pool.Count);
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var results = new List<LayerUnits>();
        for (int position = 0; position < pool.Layers.Count; position++)
        {
            int layer = pool.Layers[position];
            progress?.Report(new ProgressUpdate("unit analysis", position, pool.Layers.Count, pool.HiddenLayers[layer]));
            using var layerScope = NewDisposeScope();
            var input = new LayerInput(
                pool.HiddenLayers[layer], layer, pool.Activations[layer],
                layer == 0 ? PixelsLayer : pool.HiddenLayers[layer - 1], layer == 0 ? pool.Pixels : pool.Activations[layer - 1],
                pool.Pixels, pool.Labels);
            results.Add(AnalyzeLayer(input, options));
        }
        progress?.Report(new ProgressUpdate("unit analysis", pool.Layers.Count, pool.Layers.Count));
        // Every test of the layers reported together is one family for Holm's correction.
        return new ModelUnits(pool.Model, pool.Count, options.Top, options.RandomDirections, options.Seed, UnitVerdicts.JudgeTogether(results),
            pool.ActivationSeconds, pool.ActivationSeconds + clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// phi_k(x) of every hidden layer over <paramref name="images"/>, on the CPU, computed <paramref name="batchSize"/>
    /// images at a time from the first, without a graph.
    /// </summary>
    public static Tensor[] PoolActivations(Classifier model, Tensor images, int batchSize = DefaultBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        if (batchSize < 1)
        {
            throw new BadInputException($"batch size must be at least 1; got {batchSize}");
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            int count = (int)images.shape[0];
            var batches = new List<Tensor[]>();
            for (int start = 0; start < count; start += batchSize)
            {
                var batch = images.narrow(0, start, Math.Min(batchSize, count - start)).to(model.Device);
                batches.Add(model.Activations(batch).Select(activation => activation.cpu()).ToArray());
            }
            int layers = model.HiddenLayerNames.Count;
            return Enumerable.Range(0, layers)
                .Select(layer => cat(batches.Select(batch => batch[layer]).ToList(), 0).contiguous().MoveToOuterDisposeScope())
                .ToArray();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The comparison for one layer whose activations over the pool are given.</summary>
    /// <exception cref="BadInputException">Shapes that do not agree, or settings out of range.</exception>
    public static LayerUnits AnalyzeLayer(LayerInput input, UnitAnalysisOptions options)
    {
        int pool = Check(input);
        options.Validate(pool);
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        int units = (int)input.Activations.shape[1];
        var activations = input.Activations.detach().to(ScalarType.Float32).cpu();
        int[] labels = [.. input.Labels.cpu().to(ScalarType.Int64).data<long>().ToArray().Select(label => (int)label)];
        var belowNormalized = Coherence.Normalize(input.BelowActivations.cpu());
        var pixelsNormalized = Coherence.Normalize(input.Pixels.cpu());

        var naturalSelections = TopImages.Select(activations, options.Top);
        var directions = RandomDirections.Draw(options.RandomDirections, units, options.Seed);
        var randomSelections = TopImages.Select(activations.matmul(directions.t()), options.Top);

        var natural = Family(naturalSelections, natural: true, labels, belowNormalized, pixelsNormalized);
        var random = Family(randomSelections, natural: false, labels, belowNormalized, pixelsNormalized);

        var chanceSets = Coherence.RandomSets(pool, options.Top, options.ChanceSamples, unchecked(options.Seed + 1));
        var chance = new ChanceLevels(
            options.ChanceSamples,
            chanceSets.Average(set => Coherence.Purity(set, labels).Purity),
            Coherence.MeanPairwiseCosine(belowNormalized, chanceSets).Average(),
            Coherence.MeanPairwiseCosine(pixelsNormalized, chanceSets).Average());

        var comparedNatural = natural.PerDirection.Where(direction => !direction.Inactive).ToList();
        var comparedRandom = random.PerDirection.Where(direction => !direction.Inactive).ToList();
        if (comparedNatural.Count == 0 || comparedRandom.Count == 0)
        {
            throw new BadInputException($"layer {input.Layer}: every {(comparedNatural.Count == 0 ? "unit" : "random direction")} is active on fewer than {options.Top} images of the pool; there is nothing to compare");
        }
        // A layer on its own is a family of its three tests; Analyze and the units study correct over every layer they report.
        var comparisons = UnitVerdicts.Correct(
        [
            [
                Compare(LayerUnits.PurityMeasure, comparedNatural, comparedRandom, direction => direction.Purity, chance.Purity),
                Compare(LayerUnits.LayerBelowCosineMeasure, comparedNatural, comparedRandom, direction => direction.LayerBelowCosine, chance.LayerBelowCosine),
                Compare(LayerUnits.PixelCosineMeasure, comparedNatural, comparedRandom, direction => direction.PixelCosine, chance.PixelCosine),
            ],
        ])[0];
        var verdict = UnitVerdicts.Judge(input.Layer, input.LayerBelow, comparisons, natural.Compared, random.Compared, options.Top);
        return new LayerUnits(input.Layer, input.LayerIndex, input.LayerBelow, units, pool, options.Top, options.Seed,
            natural, random, chance, comparisons, verdict, clock.Elapsed.TotalSeconds);
    }

    private static DirectionFamily Family(TopSelection[] selections, bool natural, int[] labels, Tensor belowNormalized, Tensor pixelsNormalized)
    {
        var sets = selections.Select(selection => selection.Images).ToList();
        double[] below = Coherence.MeanPairwiseCosine(belowNormalized, sets);
        double[] pixels = Coherence.MeanPairwiseCosine(pixelsNormalized, sets);
        var perDirection = new DirectionCoherence[selections.Length];
        for (int index = 0; index < selections.Length; index++)
        {
            var selection = selections[index];
            var (purity, label) = Coherence.Purity(selection.Images, labels);
            perDirection[index] = new DirectionCoherence(
                natural ? $"unit {index}" : $"random {index}", natural, index, selection.Images, selection.Scores,
                label, purity, below[index], pixels[index], selection.Inactive, selection.TiedAtCut);
        }
        var compared = perDirection.Where(direction => !direction.Inactive).ToList();
        double[] purities = [.. compared.Select(direction => direction.Purity)];
        double mean = purities.Length == 0 ? double.NaN : purities.Average();
        double halfWidth = purities.Length < 2 ? double.NaN : 1.96 * StandardDeviation(purities) / Math.Sqrt(purities.Length);
        return new DirectionFamily(
            perDirection.Length,
            compared.Count,
            perDirection.Length - compared.Count,
            compared.Count(direction => direction.TiedAtCut),
            mean,
            [mean - halfWidth, mean + halfWidth],
            compared.Count == 0 ? double.NaN : compared.Average(direction => direction.LayerBelowCosine),
            compared.Count == 0 ? double.NaN : compared.Average(direction => direction.PixelCosine),
            perDirection.Average(direction => direction.Purity),
            perDirection);
    }

    private static MeasureComparison Compare(string measure, IReadOnlyList<DirectionCoherence> natural, IReadOnlyList<DirectionCoherence> random,
        Func<DirectionCoherence, double> value, double chance)
    {
        double[] naturalValues = [.. natural.Select(value)];
        double[] randomValues = [.. random.Select(value)];
        var test = MannWhitney.Test(naturalValues, randomValues);
        return new MeasureComparison(measure, naturalValues.Average(), randomValues.Average(), chance, test.PValue, test.CliffsDelta,
            test.Magnitude, test.U, test.Z, test.CountA, test.CountB, AdjustedPValue: double.NaN, Tests: 0);
    }

    private static double StandardDeviation(double[] values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(value => (value - mean) * (value - mean)) / (values.Length - 1));
    }

    private static int Check(LayerInput input)
    {
        if (input.Activations.dim() != 2)
        {
            throw new BadInputException($"layer {input.Layer}: activations must be [pool, units]; got [{string.Join(", ", input.Activations.shape)}]");
        }
        long pool = input.Activations.shape[0];
        if (input.BelowActivations.shape[0] != pool || input.Pixels.shape[0] != pool || input.Labels.dim() != 1 || input.Labels.shape[0] != pool)
        {
            throw new BadInputException(
                $"layer {input.Layer}: {pool} activation rows but {input.BelowActivations.shape[0]} rows below, {input.Pixels.shape[0]} images and {input.Labels.shape[0]} labels; expected one per image");
        }
        return (int)pool;
    }
}
