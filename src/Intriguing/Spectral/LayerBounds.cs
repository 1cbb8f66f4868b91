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
    bool CircularCheck = true);

/// <summary>Power iteration against the number it should equal (the SVD, or the Fourier bound on a circular grid).</summary>
/// <param name="Reference">The exact value (SVD) or the Fourier bound.</param>
/// <param name="PowerIteration">The power-iteration estimate.</param>
/// <param name="RelativeDifference">|reference - power iteration| / reference.</param>
public sealed record Agreement(double Reference, double PowerIteration, double RelativeDifference, int Iterations, bool Converged)
{
    public static Agreement Of(double reference, PowerIterationResult estimate) =>
        new(reference, estimate.Norm, reference == 0 ? Math.Abs(estimate.Norm) : Math.Abs(reference - estimate.Norm) / reference,
            estimate.Iterations, estimate.Converged);
}

/// <summary>
/// One layer's Lipschitz bound (the <c>layers[]</c> of docs/json-output.md: name, kind, bound, exact) and how it was found.
/// </summary>
/// <param name="Bound">The upper bound L_k used in the product.</param>
/// <param name="Exact">The layer's exact constant where we can compute it: the SVD for linear layers, power iteration
/// on the padded, strided convolution (a lower estimate that converges to it), the attained constant of ReLU, sigmoid and
/// max-pooling; null for local response normalisation.</param>
/// <param name="BoundMethod">In words: "largest singular value (SVD)", "Fourier, 32x32 grid", ...</param>
/// <param name="PowerIteration">Linear layers: power iteration against the SVD.</param>
/// <param name="Fourier">Convolutions: the Fourier bound with its grid and the looser stride-1 number.</param>
/// <param name="Circular">Convolutions: power iteration on the circular convolution against the Fourier bound (they must agree).</param>
public sealed record LayerBound(
    string Name,
    string Kind,
    double Bound,
    double? Exact,
    string BoundMethod,
    Agreement? PowerIteration = null,
    FourierBound? Fourier = null,
    Agreement? Circular = null,
    int? ExactIterations = null)
{
    /// <summary>bound / exact, how loose the bound is (1 = tight); null where exact is unknown.</summary>
    public double? Looseness => Exact is double exact && exact > 0 ? Bound / exact : null;
}

/// <summary>The per-layer upper Lipschitz bounds of Section 4.4 and their product, the whole network's bound.</summary>
public static class LayerBounds
{
    public static IReadOnlyList<LayerBound> Compute(LayerStack stack, BoundSettings? settings = null, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(stack);
        settings ??= new BoundSettings();
        var bounds = new List<LayerBound>();
        for (int k = 0; k < stack.Layers.Count; k++)
        {
            bounds.Add(Of(stack.Layers[k], settings));
            progress?.Report(new ProgressUpdate($"bounds {stack.Name}", k + 1, stack.Layers.Count, stack.Layers[k].Name));
        }
        return bounds;
    }

    /// <summary>The product of the layers' bounds: ||phi(x) - phi(x + r)|| &lt;= product * ||r||.</summary>
    public static double Product(IEnumerable<LayerBound> bounds) => bounds.Aggregate(1.0, (product, bound) => product * bound.Bound);

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
                        $"Fourier, {fourier.GridHeight}x{fourier.GridWidth} grid{(layer.Stride > 1 ? $", stride {layer.Stride} by polyphase" : "")}{(layer.Groups > 1 ? $", max of {layer.Groups} groups" : "")}");
                    return new LayerBound(layer.Name, layer.KindName, fourier.Bound, exact.Norm, method,
                        Fourier: fourier, Circular: circular, ExactIterations: exact.Iterations);
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
                    "Jacobian, Schur test (docs/spectral.md)");
            default:
                throw new InvalidOperationException($"layer {layer.Name}: no bound for kind {layer.Kind}");
        }
    }
}
