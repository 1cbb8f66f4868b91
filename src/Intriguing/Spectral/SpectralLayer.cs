using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>The operations the spectral analysis bounds (Section 4.4): the zoo's layer kinds plus AlexNet's normalisation.</summary>
public enum SpectralLayerKind
{
    /// <summary>x -> W x + b.</summary>
    Linear,

    /// <summary>2-D convolution (cross-correlation) with stride, zero padding and groups.</summary>
    Convolution,

    /// <summary>max(0, x), element-wise.</summary>
    Relu,

    /// <summary>The logistic sigmoid, element-wise.</summary>
    Sigmoid,

    /// <summary>Max-pooling over square windows, no padding.</summary>
    MaxPool,

    /// <summary>Local response normalisation across channels (Krizhevsky et al. 2012, Section 3.3).</summary>
    LocalResponseNorm,
}

/// <summary>
/// Local response normalisation in Krizhevsky et al.'s own notation: b_i = a_i / (k + alpha * sum_{j in window(i)} a_j^2)^beta,
/// the window being <paramref name="Size"/> adjacent channels centred on i. (PyTorch divides its alpha by the size,
/// so torch's alpha is <c>Alpha * Size</c>.)
/// </summary>
public sealed record LocalResponseNormSettings(int Size, double Alpha, double Beta, double K)
{
    /// <summary>AlexNet's constants: n = 5, alpha = 1e-4, beta = 0.75, k = 2.</summary>
    public static LocalResponseNormSettings Krizhevsky { get; } = new(5, 1e-4, 0.75, 2.0);
}

/// <summary>
/// One layer of a network as the spectral analysis sees it: its kind, the shape of one example entering it, and for
/// linear and convolution layers the weight and bias (live tensors, not copies). A layer maps a batch [N, ..InputShape]
/// to its output batch; <see cref="Apply"/> reshapes its input first, so a flatten between layers needs no layer of its own.
/// </summary>
public sealed record SpectralLayer(
    string Name,
    SpectralLayerKind Kind,
    long[] InputShape,
    Tensor? Weight = null,
    Tensor? Bias = null,
    int Stride = 1,
    int Padding = 0,
    int Kernel = 0,
    int Groups = 1,
    LocalResponseNormSettings? Normalization = null)
{
    /// <summary>Elements of one example entering the layer.</summary>
    public long InputSize => InputShape.Aggregate(1L, (product, size) => product * size);

    /// <summary>The layer's output for <paramref name="input"/> (any shape with N * <see cref="InputSize"/> elements).</summary>
    public Tensor Apply(Tensor input)
    {
        var x = input.reshape([-1, .. InputShape]);
        return Kind switch
        {
            SpectralLayerKind.Linear => nn.functional.linear(x, Cast(Weight!, x), Bias is null ? null : Cast(Bias, x)),
            SpectralLayerKind.Convolution => nn.functional.conv2d(x, Cast(Weight!, x), Bias is null ? null : Cast(Bias, x),
                strides: [Stride, Stride], padding: [Padding, Padding], groups: Groups),
            SpectralLayerKind.Relu => nn.functional.relu(x),
            SpectralLayerKind.Sigmoid => x.sigmoid(),
            SpectralLayerKind.MaxPool => nn.functional.max_pool2d(x, Kernel, Stride),
            SpectralLayerKind.LocalResponseNorm => nn.functional.local_response_norm(x, Normalization!.Size,
                Normalization.Alpha * Normalization.Size, Normalization.Beta, Normalization.K),
            _ => throw new InvalidOperationException($"layer {Name}: unknown kind {Kind}"),
        };
    }

    /// <summary>The weight in the dtype of the input (the analysis measures in float64 on float32 weights).</summary>
    private static Tensor Cast(Tensor parameter, Tensor like) =>
        parameter.dtype == like.dtype ? parameter : parameter.to_type(like.dtype);

    /// <summary>The kind as the JSON and tables spell it: "linear", "convolution", "relu", "sigmoid", "maxpool", "lrn".</summary>
    public string KindName => Kind switch
    {
        SpectralLayerKind.Linear => "linear",
        SpectralLayerKind.Convolution => "convolution",
        SpectralLayerKind.Relu => "relu",
        SpectralLayerKind.Sigmoid => "sigmoid",
        SpectralLayerKind.MaxPool => "maxpool",
        SpectralLayerKind.LocalResponseNorm => "lrn",
        _ => Kind.ToString(),
    };
}
