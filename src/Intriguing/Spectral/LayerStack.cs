using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>
/// A network as a chain of <see cref="SpectralLayer"/>s, phi = phi_K o ... o phi_1 (the paper's Section 4.4 notation).
/// Built from a zoo model's <see cref="Classifier.Layers"/> (with the biases looked up among its parameters) or from
/// <see cref="AlexNet"/>. <see cref="Outputs"/> runs the chain and keeps every layer's output, which is what the
/// measured per-layer amplification needs.
/// </summary>
public sealed class LayerStack
{
    /// <summary>The network <paramref name="name"/> as <paramref name="layers"/>, input side first.</summary>
    /// <exception cref="BadInputException">No layers.</exception>
    public LayerStack(string name, IReadOnlyList<SpectralLayer> layers)
    {
        if (layers.Count == 0)
        {
            throw new BadInputException($"model '{name}' describes no layers, so there is nothing to bound");
        }
        Name = name;
        Layers = layers;
    }

    /// <summary>The network's name, for messages and progress.</summary>
    public string Name { get; }

    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<SpectralLayer> Layers { get; }

    /// <summary>The shape of one input example, [784] or [1, 28, 28] for the zoo, [3, 227, 227] for AlexNet.</summary>
    public long[] InputShape => Layers[0].InputShape;

    /// <summary>
    /// The chain of a zoo model. <see cref="LayerDescription"/> carries the weights but not the biases; the bias of layer
    /// "fc1" is the model's parameter "fc1.bias". The stack is checked against the model: its logits must equal
    /// <c>model.forward</c>'s on <paramref name="probe"/> images (if given), so a description that misses a step fails loudly.
    /// </summary>
    /// <exception cref="InvalidOperationException">The described layers do not reproduce the model's forward pass.</exception>
    public static LayerStack FromClassifier(Classifier model, string name, Tensor? probe = null)
    {
        var parameters = model.named_parameters().ToDictionary(entry => entry.name, entry => (Tensor)entry.parameter);
        var layers = new List<SpectralLayer>();
        foreach (var description in model.Layers)
        {
            var kind = description.Kind switch
            {
                LayerKind.Linear => SpectralLayerKind.Linear,
                LayerKind.Convolution => SpectralLayerKind.Convolution,
                LayerKind.Sigmoid => SpectralLayerKind.Sigmoid,
                LayerKind.Relu => SpectralLayerKind.Relu,
                LayerKind.MaxPool => SpectralLayerKind.MaxPool,
                _ => throw new InvalidOperationException($"layer {description.Name}: no bound for kind {description.Kind}"),
            };
            Tensor? bias = null;
            int groups = 1;
            if (kind is SpectralLayerKind.Linear or SpectralLayerKind.Convolution)
            {
                if (description.Weight is null)
                {
                    throw new InvalidOperationException($"layer {description.Name} of {name} is {description.Kind} but carries no weight");
                }
                parameters.TryGetValue(description.Name + ".bias", out bias);
                if (kind == SpectralLayerKind.Convolution)
                {
                    groups = (int)(description.InputShape[0] / description.Weight.shape[1]);
                }
            }
            layers.Add(new SpectralLayer(description.Name, kind, description.InputShape, description.Weight, bias,
                description.Stride, description.Padding, description.Kernel, groups));
        }
        var stack = new LayerStack(name, layers);
        if (probe is not null)
        {
            stack.CheckAgainst(model, probe);
        }
        return stack;
    }

    /// <summary>phi(x): the last layer's output for a batch <paramref name="input"/> [N, ..InputShape] (or flat).</summary>
    public Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in Layers)
        {
            x = layer.Apply(x);
        }
        return x.flatten(1);
    }

    /// <summary>
    /// The input and every layer's output, each flattened to [N, units]: entry 0 is the input, entry k the output of
    /// layer k (so layer k maps entry k-1 to entry k).
    /// </summary>
    public Tensor[] Outputs(Tensor input)
    {
        var outputs = new Tensor[Layers.Count + 1];
        outputs[0] = input.reshape(input.shape[0], -1);
        var x = input;
        for (int k = 0; k < Layers.Count; k++)
        {
            x = Layers[k].Apply(x);
            outputs[k + 1] = x.flatten(1);
        }
        return outputs;
    }

    private void CheckAgainst(Classifier model, Tensor probe)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var expected = model.forward(probe).to_type(ScalarType.Float64);
        var ours = Forward(probe.to_type(ScalarType.Float64));
        double difference = (ours - expected).abs().max().item<double>();
        double scale = Math.Max(1, expected.abs().max().item<double>());
        if (!(difference <= 1e-4 * scale))
        {
            throw new InvalidOperationException(
                $"the layer descriptions of {Name} do not reproduce its forward pass (largest logit difference {difference:G3}); its Layers list is incomplete");
        }
    }
}
