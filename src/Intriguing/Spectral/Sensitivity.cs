using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>Pairs (x, x + r) to measure on: clean inputs [n, ..] and their perturbations r [n, ..], named by where r came from.</summary>
public sealed record PerturbationSet(string Source, Tensor Inputs, Tensor Perturbations);

/// <summary>The largest and the median ratio ||phi(x) - phi(x + r)|| / ||input difference|| over <paramref name="Samples"/> pairs.</summary>
public sealed record RatioStats(string Source, int Samples, double MaxRatio, double MedianRatio);

/// <summary>What one layer did to the differences reaching it: its ratios over every source, and per source.</summary>
public sealed record LayerSensitivity(string Name, int Samples, double MaxRatio, IReadOnlyList<RatioStats> BySource);

/// <summary>
/// Measured amplification: per layer (output difference over input difference of that layer) and for the whole network
/// (output difference over ||r||), from every perturbation set plus, per layer, the worst local direction.
/// </summary>
public sealed record SensitivityResult(IReadOnlyList<LayerSensitivity> Layers, int Samples, double MaxRatio, IReadOnlyList<RatioStats> NetworkBySource);

/// <summary>
/// Measures how much a network and each of its layers actually amplify perturbations: max ||phi_k(z) - phi_k(z')|| / ||z - z'||
/// over pairs whose input differences come from random noise, from the attacks' adversarial examples, and from power
/// iteration on the Jacobian (the locally worst direction). These are the numbers each upper bound must sit above.
/// </summary>
public static class Sensitivity
{
    /// <summary>Relative size of the finite-difference step in a Jacobian power iteration (float64).</summary>
    public const double DefaultRelativeStep = 1e-4;

    /// <param name="stack">The network.</param>
    /// <param name="sets">Pairs to propagate through every layer; each row's network ratio and each layer's ratio count.</param>
    /// <param name="localInputs">Clean inputs at which each layer's own worst direction is sought (power iteration on that layer's
    /// Jacobian at its input), or null to skip that source.</param>
    /// <param name="localIterations">Power iterations for the local directions.</param>
    /// <param name="batchSize">Rows propagated at once.</param>
    /// <param name="relativeStep">Finite-difference step relative to the input's norm.</param>
    /// <param name="seed">Seeds the local power iterations' starts.</param>
    /// <param name="progress">Progress per batch, or null.</param>
    public static SensitivityResult Measure(
        LayerStack stack,
        IReadOnlyList<PerturbationSet> sets,
        Tensor? localInputs = null,
        int localIterations = 20,
        int batchSize = 250,
        double relativeStep = DefaultRelativeStep,
        int seed = 0,
        IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(sets);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int layerCount = stack.Layers.Count;
        var layerRatios = Enumerable.Range(0, layerCount).Select(_ => new Dictionary<string, List<double>>()).ToArray();
        var networkRatios = new Dictionary<string, List<double>>();
        int done = 0;
        int total = sets.Count + (localInputs is null ? 0 : 1);
        foreach (var set in sets)
        {
            long rows = set.Inputs.shape[0];
            if (set.Perturbations.shape[0] != rows)
            {
                throw new BadInputException($"perturbation set '{set.Source}': {rows} inputs but {set.Perturbations.shape[0]} perturbations");
            }
            for (long start = 0; start < rows; start += batchSize)
            {
                using var batchScope = NewDisposeScope();
                long size = Math.Min(batchSize, rows - start);
                var x = set.Inputs.narrow(0, start, size);
                var r = set.Perturbations.narrow(0, start, size).to_type(x.dtype);
                var clean = stack.Outputs(x);
                var perturbed = stack.Outputs(x + r);
                var differences = clean.Zip(perturbed, (a, b) => RowNorms(a - b)).ToArray();
                for (int k = 0; k < layerCount; k++)
                {
                    Add(layerRatios[k], set.Source, Ratios(differences[k + 1], differences[k]));
                }
                Add(networkRatios, set.Source, Ratios(differences[layerCount], RowNorms(r.reshape(size, -1))));
            }
            progress?.Report(new ProgressUpdate($"measure {stack.Name}", ++done, total, set.Source));
        }

        if (localInputs is not null)
        {
            var generator = new Generator((ulong)seed);
            for (long start = 0; start < localInputs.shape[0]; start += batchSize)
            {
                using var batchScope = NewDisposeScope();
                var z = localInputs.narrow(0, start, Math.Min(batchSize, localInputs.shape[0] - start));
                for (int k = 0; k < layerCount; k++)
                {
                    var layer = stack.Layers[k];
                    var direction = WorstDirection(layer.Apply, z, localIterations, relativeStep, generator);
                    var change = RowNorms((layer.Apply(z + direction) - layer.Apply(z)).flatten(1));
                    Add(layerRatios[k], "local", Ratios(change, RowNorms(direction.flatten(1))));
                    z = layer.Apply(z);
                }
            }
            progress?.Report(new ProgressUpdate($"measure {stack.Name}", ++done, total, "local"));
        }

        var layers = stack.Layers.Select((layer, k) =>
        {
            var bySource = layerRatios[k].Select(entry => Stats(entry.Key, entry.Value)).ToList();
            return new LayerSensitivity(layer.Name, bySource.Sum(stats => stats.Samples), Max(bySource), bySource);
        }).ToList();
        var network = networkRatios.Select(entry => Stats(entry.Key, entry.Value)).ToList();
        return new SensitivityResult(layers, network.Sum(stats => stats.Samples), Max(network), network);
    }

    /// <summary>
    /// For each row of <paramref name="z"/>, a perturbation r (of norm <paramref name="relativeStep"/> * max(||z||, 1)) along the
    /// direction that <paramref name="function"/> stretches most near z: power iteration on J^T J, with J v from a finite
    /// difference and J^T u from autograd. Rows are independent (the function must treat them so).
    /// </summary>
    public static Tensor WorstDirection(Func<Tensor, Tensor> function, Tensor z, int iterations, double relativeStep, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(function);
        using var scope = NewDisposeScope();
        var flat = z.reshape(z.shape[0], -1);
        var scale = (RowNorms(flat).clamp_min(1.0) * relativeStep).unsqueeze(1);
        var v = randn(flat.shape, dtype: z.dtype, generator: generator);
        v = v / RowNorms(v).clamp_min(1e-300).unsqueeze(1);
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            using var step = NewDisposeScope();
            Tensor difference;
            using (no_grad())
            {
                difference = (function((flat + v * scale).reshape(z.shape)) - function(z)).flatten(1) / scale;
            }
            Tensor pulledBack;
            using (enable_grad())
            {
                var input = z.detach().clone().requires_grad_(true);
                var output = function(input).flatten(1);
                pulledBack = autograd.grad([output], [input], [difference])[0].reshape(flat.shape);
            }
            var norms = RowNorms(pulledBack).unsqueeze(1);
            // A row whose pull-back vanished (a dead ReLU region) keeps its previous direction.
            var next = where(norms > 0, pulledBack / norms.clamp_min(1e-300), v).MoveToOuterDisposeScope();
            v.Dispose();
            v = next;
        }
        return (v * scale).reshape(z.shape).MoveToOuterDisposeScope();
    }

    private static Tensor RowNorms(Tensor rows) => linalg.vector_norm(rows.reshape(rows.shape[0], -1), 2, [1], keepdim: false);

    /// <summary>numerator / denominator per row, for the rows whose input difference is not zero.</summary>
    private static double[] Ratios(Tensor numerator, Tensor denominator)
    {
        var ratio = (numerator / denominator).to_type(ScalarType.Float64);
        var keep = denominator > 0;
        return ratio.masked_select(keep).cpu().data<double>().ToArray();
    }

    private static void Add(Dictionary<string, List<double>> ratios, string source, double[] values)
    {
        if (!ratios.TryGetValue(source, out var list))
        {
            ratios[source] = list = [];
        }
        list.AddRange(values);
    }

    private static RatioStats Stats(string source, List<double> values)
    {
        if (values.Count == 0)
        {
            return new RatioStats(source, 0, double.NaN, double.NaN);
        }
        var sorted = values.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new RatioStats(source, sorted.Length, sorted[^1], median);
    }

    private static double Max(IEnumerable<RatioStats> stats) =>
        stats.Where(entry => entry.Samples > 0).Select(entry => entry.MaxRatio).DefaultIfEmpty(double.NaN).Max();
}
