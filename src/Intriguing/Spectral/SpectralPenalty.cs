using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>
/// The regulariser Section 4.4 suggests: penalise the per-layer upper Lipschitz bounds. The loss is the sum over the fully
/// connected and convolution layers of sigma_k = ||A_k v_k||, where v_k is the layer's top right singular vector estimated by
/// power iteration (held fixed, no gradient) and A_k applies the live weight, so the gradient of sigma_k with respect to W_k
/// is u_k v_k^T, the gradient of the largest singular value (as in spectral normalisation, Miyato et al. 2018).
/// An instance keeps each layer's v_k between calls, so one power step per training batch suffices once it has warmed up.
/// </summary>
public sealed class SpectralPenalty(int iterationsPerCall = 1, int seed = 0) : IDisposable
{
    private readonly Dictionary<string, Tensor> vectors = [];

    /// <summary>A fresh penalty's value: <paramref name="iterations"/> power steps per layer from a seeded start, then the sum.</summary>
    public static Tensor Loss(Classifier model, int iterations = 30, int seed = 0)
    {
        using var penalty = new SpectralPenalty(iterations, seed);
        return penalty.Compute(model);
    }

    /// <summary>The sum of the layers' spectral norms for <paramref name="model"/>, a differentiable scalar tensor.</summary>
    public Tensor Compute(Classifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Compute(LayerStack.FromClassifier(model, model.GetName()));
    }

    /// <summary>The sum of the spectral norms of <paramref name="stack"/>'s linear and convolution layers.</summary>
    public Tensor Compute(LayerStack stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var layer in stack.Layers.Where(layer => layer.Kind is SpectralLayerKind.Linear or SpectralLayerKind.Convolution))
        {
            var weight = layer.Weight!;
            var v = Refine(layer, Vector(layer));
            var sigma = Apply(layer, weight, v).norm();
            total = total is null ? sigma : total + sigma;
        }
        return (total ?? zeros(1).sum()).MoveToOuterDisposeScope();
    }

    private Tensor Vector(SpectralLayer layer)
    {
        if (!vectors.TryGetValue(layer.Name, out var v))
        {
            var generator = new Generator((ulong)(seed + vectors.Count));
            v = randn([1, .. layer.InputShape], generator: generator).to(layer.Weight!.device);
            v = (v / v.norm()).DetachFromDisposeScope();
            vectors[layer.Name] = v;
        }
        return v;
    }

    /// <summary>Power steps v &lt;- A^T A v / ||A^T A v|| on the detached weight; the result is stored for the next call.</summary>
    private Tensor Refine(SpectralLayer layer, Tensor v)
    {
        // In float64, as ConvolutionNorm's exact route: with one torch thread, libtorch's float32 input gradient of a
        // strided convolution came out wrong here (a sum of conv norms 7% low, sometimes NaN), in float64 it did not.
        using var weightScope = NewDisposeScope();
        var weight = layer.Weight!.detach().to_type(ScalarType.Float64);
        for (int step = 0; step < iterationsPerCall; step++)
        {
            using var stepScope = NewDisposeScope();
            Tensor next;
            using (enable_grad())
            {
                var input = v.detach().to_type(ScalarType.Float64).requires_grad_(true);
                var image = Apply(layer, weight, input);
                next = autograd.grad([image], [input], [image.detach()])[0];
            }
            var length = next.norm();
            if (!(length.item<double>() > 0))
            {
                break;
            }
            var normalised = (next / length).to_type(layer.Weight!.dtype).detach().DetachFromDisposeScope();
            v.Dispose();
            v = normalised;
        }
        vectors[layer.Name] = v;
        return v;
    }

    private static Tensor Apply(SpectralLayer layer, Tensor weight, Tensor v) => layer.Kind == SpectralLayerKind.Linear
        ? nn.functional.linear(v.reshape(1, -1), weight)
        : nn.functional.conv2d(v, weight, strides: [layer.Stride, layer.Stride], padding: [layer.Padding, layer.Padding], groups: layer.Groups);

    /// <summary>Frees the kept singular vectors.</summary>
    public void Dispose()
    {
        foreach (var v in vectors.Values)
        {
            v.Dispose();
        }
        vectors.Clear();
    }
}
