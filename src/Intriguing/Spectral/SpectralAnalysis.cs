using System.Diagnostics;
using Intriguing.Attacks;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>How the analysis measures: random perturbation sizes (L2), power-iteration lengths, batch size, seed.</summary>
public sealed record SpectralSettings(
    int Seed = 0,
    IReadOnlyList<double>? RandomRadii = null,
    int JacobianIterations = 10,
    int LocalIterations = 10,
    int BatchSize = 250,
    BoundSettings? Bounds = null)
{
    /// <summary>Every setting in one line, for fingerprints (the seed is left to the caller); defaults filled in as the analysis fills them.</summary>
    public string Describe(IReadOnlyList<double> defaultRadii) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"radii={string.Join(";", (RandomRadii ?? defaultRadii).Select(radius => radius.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))}," +
        $"jacobian-iterations={JacobianIterations},local-iterations={LocalIterations},batch={BatchSize},bounds=({(Bounds ?? new BoundSettings()).Describe()})");
}

/// <summary>
/// One layer's row: the bound and the exact constant (docs/json-output.md's name, kind, bound, exact), the largest measured ratio,
/// and how each number was found. <paramref name="Paper"/> is Table 5's number for AlexNet's conv and fc layers.
/// <paramref name="BoundKind"/> and <paramref name="ExactKind"/> say what the numbers are (<see cref="NumberKind"/>): a
/// convolution's "exact" is a power-iteration estimate from below.
/// </summary>
public sealed record LayerRow(
    string Name,
    string Kind,
    double Bound,
    double? Exact,
    double MaxRatio,
    int Samples,
    IReadOnlyList<RatioStats> MeasuredBySource,
    string BoundMethod,
    Agreement? PowerIteration,
    FourierBound? Fourier,
    Agreement? Circular,
    double? Paper,
    string BoundKind = NumberKind.Exact,
    string? ExactKind = NumberKind.Exact,
    double BoundSeconds = 0);

/// <summary>The whole network's measured amplification ||phi(x) - phi(x + r)|| / ||r|| (the <c>empirical</c> of docs/json-output.md).</summary>
public sealed record EmpiricalSummary(double MaxRatio, int Samples, IReadOnlyList<RatioStats> BySource);

/// <summary>Everything the spectral analysis of one network found.</summary>
/// <param name="Inputs">What the measurements ran on, in words.</param>
/// <param name="Weights">Where the weights came from, in words.</param>
/// <param name="BoundSeconds">Wall time of the bounds.</param>
/// <param name="MeasureSeconds">Wall time of the measurements (attacks not included).</param>
/// <param name="CpuSeconds">Processor time the process spent on both, all threads: the work itself, whatever else loads the machine.</param>
/// <param name="Model">The network's name.</param>
/// <param name="Layers">One row per layer: bound, exact value, measured amplification, the paper's number.</param>
/// <param name="Product">The product of the layers' bounds, the network's upper Lipschitz bound.</param>
/// <param name="Empirical">The network's measured amplification.</param>
/// <param name="Sound">True when no measured ratio exceeds its bound (<paramref name="Soundness"/>'s verdict).</param>
/// <param name="Soundness">The check in full, with any violation.</param>
/// <param name="Certified">What the bound certifies against what the attacks needed; null without labels (AlexNet).</param>
/// <param name="CertifiedImages">The same per image.</param>
public sealed record SpectralResult(
    string Model,
    IReadOnlyList<LayerRow> Layers,
    double Product,
    EmpiricalSummary Empirical,
    bool Sound,
    SoundnessVerdict Soundness,
    CertifiedSummary? Certified,
    IReadOnlyList<CertifiedImage> CertifiedImages,
    string Inputs,
    string Weights,
    double BoundSeconds,
    double MeasureSeconds,
    double CpuSeconds);

/// <summary>
/// Section 4.4 end to end: per-layer upper Lipschitz bounds and their product, the amplification actually measured on
/// random, adversarial and worst-local perturbations, the soundness check (no measured ratio above its bound), and for a
/// classifier the L2 radius the bound certifies around each test image beside what the attacks needed.
/// </summary>
public static class SpectralAnalysis
{
    /// <summary>The L2 sizes of the random perturbations for the zoo's [784] inputs.</summary>
    public static readonly IReadOnlyList<double> ZooRandomRadii = [0.1, 1.0, 5.0];

    /// <summary>The L2 sizes of the random perturbations for AlexNet's [3, 227, 227] inputs.</summary>
    public static readonly IReadOnlyList<double> AlexNetRandomRadii = [1.0, 10.0, 50.0];

    /// <summary>
    /// AlexNet's measurement settings: float32 convolution power iterations, capped so the whole analysis stays within two minutes,
    /// no circular check (its grids are large), small batches (each image is 3 x 227 x 227).
    /// </summary>
    public static SpectralSettings AlexNetSettings(int seed) => new(seed, AlexNetRandomRadii, JacobianIterations: 5, LocalIterations: 5, BatchSize: 4,
        Bounds: new BoundSettings(seed, LinearIterations: 300, ConvolutionIterations: 30, ConvolutionPrecision: ScalarType.Float32, CircularCheck: false));

    /// <summary>
    /// A zoo classifier on test <paramref name="images"/> [N, 784] with <paramref name="labels"/> and attack results on the same
    /// images (by method; their successful examples give the adversarial r). Measured in float64 on the model's float32 weights.
    /// </summary>
    public static SpectralResult ForClassifier(Classifier model, string name, Tensor images, Tensor labels,
        IReadOnlyDictionary<string, AttackResult> attacks, SpectralSettings? settings = null, string weights = "trained zoo model",
        IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(attacks);
        settings ??= new SpectralSettings();
        using var scope = NewDisposeScope();
        var x = images.detach().cpu().to_type(ScalarType.Float64);
        var stack = LayerStack.FromClassifier(model, name, images.narrow(0, 0, Math.Min(16, images.shape[0])).cpu());

        double cpuStart = ProcessorSeconds();
        var clock = Stopwatch.StartNew();
        var bounds = LayerBounds.Compute(stack, settings.Bounds, progress);
        double boundSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var sets = new List<PerturbationSet>(CommonSets(stack, x, settings.RandomRadii ?? ZooRandomRadii, settings));
        foreach (var (method, result) in attacks)
        {
            var fooled = result.Examples.Where(example => example.Success && example.OriginallyCorrect && example.L2 > 0)
                .Select(example => (long)example.Index).ToArray();
            if (fooled.Length == 0)
            {
                continue;
            }
            var rows = tensor(fooled);
            var clean = x.index_select(0, rows);
            var adversarial = result.Adversarials.detach().cpu().to_type(ScalarType.Float64).index_select(0, rows);
            sets.Add(new PerturbationSet(method, clean, adversarial - clean));
        }
        var measured = Sensitivity.Measure(stack, sets, x, settings.LocalIterations, settings.BatchSize, seed: settings.Seed, progress: progress);
        double product = LayerBounds.Product(bounds);
        IReadOnlyList<CertifiedImage> certified;
        using (no_grad())
        {
            certified = CertifiedRadius.Compute(stack.Forward(x), labels, product, attacks);
        }
        var verdict = Soundness.Check(bounds.Select(bound => bound.Bound).ToList(), product, measured, Soundness.Float64Tolerance, certified);
        double measureSeconds = clock.Elapsed.TotalSeconds;
        return Assemble(name, bounds, measured, verdict, CertifiedRadius.Summarise((int)x.shape[0], certified), certified,
            $"the first {x.shape[0]} MNIST test images", weights, boundSeconds, measureSeconds, ProcessorSeconds() - cpuStart, paper: null);
    }

    /// <summary>
    /// AlexNet on <paramref name="count"/> random images (uniform pixels in [0,1], seeded: no ImageNet here), in float32.
    /// Table 5's numbers are attached to the conv and fc rows for comparison.
    /// </summary>
    public static SpectralResult ForAlexNet(AlexNet network, int count, string weights, SpectralSettings? settings = null,
        IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        settings ??= AlexNetSettings(0);
        using var scope = NewDisposeScope();
        var stack = network.Stack();
        double cpuStart = ProcessorSeconds();
        var clock = Stopwatch.StartNew();
        var bounds = LayerBounds.Compute(stack, settings.Bounds, progress);
        double boundSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var generator = new Generator((ulong)settings.Seed);
        var x = rand([count, 3, AlexNet.InputSide, AlexNet.InputSide], generator: generator);
        var sets = CommonSets(stack, x, settings.RandomRadii ?? AlexNetRandomRadii, settings);
        var measured = Sensitivity.Measure(stack, sets, x, settings.LocalIterations, settings.BatchSize, relativeStep: 1e-2,
            seed: settings.Seed, progress: progress);
        double product = LayerBounds.Product(bounds);
        var verdict = Soundness.Check(bounds.Select(bound => bound.Bound).ToList(), product, measured, Soundness.Float32Tolerance);
        double measureSeconds = clock.Elapsed.TotalSeconds;
        return Assemble("alexnet", bounds, measured, verdict, null, [],
            $"{count} random images (uniform pixels, seed {settings.Seed}), float32", weights, boundSeconds, measureSeconds, ProcessorSeconds() - cpuStart,
            AlexNet.PaperTable5);
    }

    /// <summary>Random perturbations of each radius, and the network's locally worst direction at every input.</summary>
    private static List<PerturbationSet> CommonSets(LayerStack stack, Tensor x, IReadOnlyList<double> radii, SpectralSettings settings)
    {
        var generator = new Generator((ulong)settings.Seed + 1);
        var sets = new List<PerturbationSet>();
        foreach (double radius in radii)
        {
            var noise = randn(x.shape, dtype: x.dtype, generator: generator);
            var norms = linalg.vector_norm(noise.reshape(x.shape[0], -1), 2, [1], keepdim: false);
            var shape = new long[x.dim()];
            Array.Fill(shape, 1L);
            shape[0] = x.shape[0];
            sets.Add(new PerturbationSet(FormattableString.Invariant($"random L2 {radius:G}"), x, noise / norms.reshape(shape) * radius));
        }
        var directions = new List<Tensor>();
        for (long start = 0; start < x.shape[0]; start += settings.BatchSize)
        {
            var batch = x.narrow(0, start, Math.Min(settings.BatchSize, x.shape[0] - start));
            directions.Add(Sensitivity.WorstDirection(stack.Forward, batch, settings.JacobianIterations,
                x.dtype == ScalarType.Float64 ? Sensitivity.DefaultRelativeStep : 1e-2, generator));
        }
        sets.Add(new PerturbationSet("jacobian", x, cat(directions, 0)));
        return sets;
    }

    private static SpectralResult Assemble(string model, IReadOnlyList<LayerBound> bounds, SensitivityResult measured, SoundnessVerdict verdict,
        CertifiedSummary? certified, IReadOnlyList<CertifiedImage> images, string inputs, string weights, double boundSeconds, double measureSeconds,
        double cpuSeconds, IReadOnlyDictionary<string, double>? paper)
    {
        var rows = bounds.Select((bound, k) => new LayerRow(
            bound.Name, bound.Kind, bound.Bound, bound.Exact, measured.Layers[k].MaxRatio, measured.Layers[k].Samples,
            measured.Layers[k].BySource, bound.BoundMethod, bound.PowerIteration, bound.Fourier, bound.Circular,
            paper is not null && paper.TryGetValue(bound.Name, out double value) ? value : null,
            bound.BoundKind, bound.ExactKind, bound.Seconds)).ToList();
        var empirical = new EmpiricalSummary(measured.MaxRatio, measured.Samples, measured.NetworkBySource);
        return new SpectralResult(model, rows, LayerBounds.Product(bounds), empirical, verdict.Sound, verdict, certified, images,
            inputs, weights, boundSeconds, measureSeconds, cpuSeconds);
    }

    private static double ProcessorSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
