using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>What kind of operation a layer of a <see cref="Classifier"/> applies (Section 4.4 bounds each kind).</summary>
public enum LayerKind
{
    /// <summary>x -> W x + b; Lipschitz bound ||W||_2.</summary>
    Linear,

    /// <summary>2-D convolution with <see cref="LayerDescription.Stride"/> and <see cref="LayerDescription.Padding"/>.</summary>
    Convolution,

    /// <summary>Element-wise logistic sigmoid; bound 1/4.</summary>
    Sigmoid,

    /// <summary>Element-wise max(0, x); bound 1.</summary>
    Relu,

    /// <summary>Max-pooling over <see cref="LayerDescription.Kernel"/> windows; bound 1.</summary>
    MaxPool,
}

/// <summary>
/// One layer of a classifier, input side first. <paramref name="Weight"/> is the live parameter (not a copy) for
/// linear ([out, in]) and convolution ([out, in, kh, kw]) layers, null otherwise. <paramref name="InputShape"/>
/// is the shape of one example entering the layer (e.g. [1, 28, 28] or [784]).
/// </summary>
public sealed record LayerDescription(
    string Name,
    LayerKind Kind,
    long[] InputShape,
    Tensor? Weight = null,
    int Stride = 1,
    int Padding = 0,
    int Kernel = 0);
