using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>How much work the bounds may do: power-iteration limits, precision, and whether to run the circular check.</summary>
/// <param name="Seed">Seeds the power iterations' random starts.</param>
/// <param name="LinearIterations">Most power iterations for a fully connected layer.</param>
/// <param name="ConvolutionIterations">Most power iterations for a convolution (each is a forward and a backward pass).</param>
/// <param name="ConvolutionPrecision">dtype of the convolution power iterations (float64 for the zoo; float32 keeps AlexNet fast).</param>
/// <param name="CircularCheck">Also run power iteration on the circular convolution, whose norm the Fourier number is exactly.</param>
public sealed record BoundSettings(
    int Seed = 0,
    int LinearIterations = 3000,
    int ConvolutionIterations = 2000,
    ScalarType ConvolutionPrecision = ScalarType.Float64,
    bool CircularCheck = true)
{
    /// <summary>Every setting in one line, for fingerprints (the seed is left to the caller).</summary>
    public string Describe() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"linear-iterations={LinearIterations},conv-iterations={ConvolutionIterations},conv-precision={ConvolutionPrecision},circular={CircularCheck}," +
        $"fourier=exact-gram<={PerFrequencyNorm.ExactGramLimit};certificate-margin={PerFrequencyNorm.CertificateMargin:G3};ranking={PerFrequencyNorm.RankingIterations}x{PerFrequencyNorm.Finalists}");
}

/// <summary>Power iteration against the number it should equal (the SVD, or the Fourier bound on a circular grid).</summary>
/// <param name="Reference">The exact value (SVD) or the Fourier bound.</param>
/// <param name="PowerIteration">The power-iteration estimate.</param>
/// <param name="RelativeDifference">|reference - power iteration| / reference.</param>
/// <param name="Iterations">Power iterations taken.</param>
/// <param name="Converged">Whether the power iteration met its tolerance.</param>
public sealed record Agreement(double Reference, double PowerIteration, double RelativeDifference, int Iterations, bool Converged)
{
    /// <summary>The agreement of <paramref name="estimate"/> with <paramref name="reference"/>.</summary>
    public static Agreement Of(double reference, PowerIterationResult estimate) =>
        new(reference, estimate.Norm, reference == 0 ? Math.Abs(estimate.Norm) : Math.Abs(reference - estimate.Norm) / reference,
            estimate.Iterations, estimate.Converged);
}

/// <summary>What a number in the spectral tables is: exact, a proven upper bound, or an estimate (power iteration, from below).</summary>
public static class NumberKind
{
    /// <summary>The value itself, to float64 rounding (a decomposition, or a constant that is attained).</summary>
    public const string Exact = "exact";

    /// <summary>Proven never to be below the value (the Fourier bound, the normalisation bound).</summary>
    public const string UpperBound = "upper bound";

    /// <summary>Power iteration: approaches the value from below and may stop short of it; never multiplied into a bound.</summary>
    public const string Estimate = "estimate";
}

/// <summary>
/// One layer's Lipschitz bound (the <c>layers[]</c> of docs/json-output.md: name, kind, bound, exact) and how it was found.
/// </summary>
/// <param name="Bound">The upper bound L_k used in the product: exact or a proven upper bound, never an estimate.</param>
/// <param name="Exact">The layer's own constant where we compute it: the SVD for linear layers, the attained constant of
/// ReLU, sigmoid and max-pooling; for a convolution power iteration on the padded, strided layer, which approaches the norm
/// from below (<paramref name="ExactKind"/> says "estimate"); null for local response normalisation.</param>
/// <param name="BoundMethod">In words: "largest singular value (SVD)", "Fourier, 32x32 grid", ...</param>
/// <param name="PowerIteration">Linear layers: power iteration against the SVD.</param>
/// <param name="Fourier">Convolutions: the Fourier bound with its grid and the looser stride-1 number.</param>
/// <param name="Circular">Convolutions: power iteration on the circular convolution against the Fourier bound (they must agree).</param>
/// <param name="BoundKind"><see cref="NumberKind.Exact"/> or <see cref="NumberKind.UpperBound"/>.</param>
/// <param name="ExactKind"><see cref="NumberKind.Exact"/> or <see cref="NumberKind.Estimate"/>; null where there is no exact value.</param>
/// <param name="Seconds">Wall time of this layer's bound and its checks.</param>
/// <param name="Name">The layer's name ("hidden1", "conv1.relu", ...).</param>
/// <param name="Kind">The layer's kind ("linear", "convolution", "relu", ...).</param>
/// <param name="ExactIterations">Power iterations behind a convolution's estimated exact value; null elsewhere.</param>
public sealed record LayerBound(
    string Name,
    string Kind,
    double Bound,
    double? Exact,
    string BoundMethod,
    Agreement? PowerIteration = null,
    FourierBound? Fourier = null,
    Agreement? Circular = null,
    int? ExactIterations = null,
    string BoundKind = NumberKind.Exact,
    string? ExactKind = NumberKind.Exact,
    double Seconds = 0)
{
    /// <summary>bound / exact, how loose the bound is (1 = tight); null where exact is unknown.</summary>
    public double? Looseness => Exact is double exact && exact > 0 ? Bound / exact : null;
}

/// <summary>The per-layer upper Lipschitz bounds of Section 4.4 and their product, the whole network's bound.</summary>
public static class LayerBounds
{
    /// <summary>Every layer's bound of <paramref name="stack"/>, input side first, with settings (default <see cref="BoundSettings"/>'s) and progress per layer.</summary>
    public static IReadOnlyList<LayerBound> Compute(LayerStack stack, BoundSettings? settings = null, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(stack);
        settings ??= new BoundSettings();
        var bounds = new List<LayerBound>();
        for (int k = 0; k < stack.Layers.Count; k++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var bound = Of(stack.Layers[k], settings);
            bounds.Add(bound with { Seconds = clock.Elapsed.TotalSeconds });
            progress?.Report(new ProgressUpdate($"bounds {stack.Name}", k + 1, stack.Layers.Count, stack.Layers[k].Name));
        }
        return bounds;
    }

    /// <summary>The product of the layers' bounds: ||phi(x) - phi(x + r)|| &lt;= product * ||r||.</summary>
    /// <exception cref="InvalidOperationException">A layer's bound is an estimate: a product of it would not be an upper bound.</exception>
    public static double Product(IEnumerable<LayerBound> bounds) => bounds.Aggregate(1.0, (product, bound) => bound.BoundKind == NumberKind.Estimate
        ? throw new InvalidOperationException($"layer {bound.Name}: its bound is an estimate and cannot enter an upper bound")
        : product * bound.Bound);

    /// <summary>One layer's bound and its checks, by the layer's kind (<see cref="LayerBound.Seconds"/> left 0).</summary>
    public static LayerBound Of(SpectralLayer layer, BoundSettings settings)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(settings);
        switch (layer.Kind)
        {
            case SpectralLayerKind.Linear:
                {
                    double exact = LinearNorm.Exact(layer.Weight!);
                    var iterated = LinearNorm.PowerIteration(layer.Weight!, settings.Seed, settings.LinearIterations);
                    return new LayerBound(layer.Name, layer.KindName, exact, exact, "largest singular value (exact decomposition)",
                        PowerIteration: Agreement.Of(exact, iterated));
                }
            case SpectralLayerKind.Convolution:
                {
                    var fourier = ConvolutionNorm.Bound(layer);
                    var exact = ConvolutionNorm.PowerIteration(layer, circular: false, settings.Seed, settings.ConvolutionIterations,
                        dtype: settings.ConvolutionPrecision);
                    Agreement? circular = settings.CircularCheck
                        ? Agreement.Of(fourier.Bound, ConvolutionNorm.PowerIteration(layer, circular: true, settings.Seed, settings.ConvolutionIterations,
                            dtype: settings.ConvolutionPrecision))
                        : null;
                    string method = FormattableString.Invariant(
                        $"Fourier, {fourier.GridHeight}x{fourier.GridWidth} grid{(layer.Stride > 1 ? $", stride {layer.Stride} by polyphase" : "")}{(layer.Groups > 1 ? $", max of {layer.Groups} groups" : "")}, {Established(fourier)}");
                    return new LayerBound(layer.Name, layer.KindName, fourier.Bound, exact.Norm, method,
                        Fourier: fourier, Circular: circular, ExactIterations: exact.Iterations, BoundKind: NumberKind.UpperBound, ExactKind: NumberKind.Estimate);
                }
            case SpectralLayerKind.Relu:
                return new LayerBound(layer.Name, layer.KindName, NonlinearBounds.Relu, NonlinearBounds.Relu, "slope at most 1");
            case SpectralLayerKind.Sigmoid:
                return new LayerBound(layer.Name, layer.KindName, NonlinearBounds.Sigmoid, NonlinearBounds.Sigmoid, "slope at most 1/4");
            case SpectralLayerKind.MaxPool:
                {
                    double pool = NonlinearBounds.MaxPool(layer.Kernel, layer.Stride, layer.InputShape[1], layer.InputShape[2]);
                    string method = FormattableString.Invariant($"{layer.Kernel}x{layer.Kernel} windows, stride {layer.Stride}: sqrt(windows per pixel)");
                    return new LayerBound(layer.Name, layer.KindName, pool, pool, method);
                }
            case SpectralLayerKind.LocalResponseNorm:
                return new LayerBound(layer.Name, layer.KindName, NonlinearBounds.LocalResponseNorm(layer.Normalization!), null,
                    "Jacobian, Schur test (docs/spectral.md)", BoundKind: NumberKind.UpperBound, ExactKind: null);
            default:
                throw new InvalidOperationException($"layer {layer.Name}: no bound for kind {layer.Kind}");
        }
    }

    /// <summary>How the maximum over frequencies was settled, in words.</summary>
    internal static string Established(FourierBound fourier)
    {
        long distinct = fourier.Decomposed + fourier.Certified + fourier.Pruned;
        if (fourier.Certified == 0 && fourier.Pruned == 0)
        {
            return FormattableString.Invariant($"every frequency decomposed exactly ({distinct} distinct)");
        }
        string certificates = fourier.Certified > 0 ? FormattableString.Invariant($", {fourier.Certified} proven below {(fourier.IsExact ? "it" : "the bound")} by Cholesky") : "";
        string pruned = fourier.Pruned > 0 ? FormattableString.Invariant($", {fourier.Pruned} ruled out by their Frobenius or 1-inf norm") : "";
        string result = fourier.IsExact ? "exact maximum" : FormattableString.Invariant($"within {fourier.Slack:0.0e+0} above the maximum");
        return FormattableString.Invariant($"{result}: {fourier.Decomposed} of {distinct} frequencies decomposed{certificates}{pruned}");
    }
}
