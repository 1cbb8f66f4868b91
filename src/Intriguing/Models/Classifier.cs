using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// A classifier of 28x28 images. Every model takes images as float32 [N, 784] with pixels in [0,1]
/// (a convolutional model reshapes inside) and returns logits [N, 10]. Attacks and studies work in this
/// input space, so the box constraint x + r in [0,1]^784 of the paper is the model's own.
/// </summary>
/// <remarks>
/// Later studies look inside the network: the unit analysis (Section 3) needs each hidden layer's activations
/// phi_k(x), per-layer adversarial training (Section 4.3) needs the network above layer k, and the spectral
/// analysis (Section 4.4) needs the stack of layers with their weights. Models with hidden layers override
/// <see cref="HiddenLayerNames"/>, <see cref="Activations"/>, <see cref="ForwardFromHidden"/> and
/// <see cref="Layers"/>; the defaults describe a model with no hidden layer.
/// </remarks>
public abstract class Classifier : nn.Module<Tensor, Tensor>
{
    public const int PixelCount = 784;
    public const int ClassCount = 10;

    protected Classifier(string name) : base(name) { }

    /// <summary>Where the model's parameters live (the CPU for a model without parameters).</summary>
    public Device Device => parameters().FirstOrDefault()?.device ?? CPU;

    /// <summary>
    /// The paper's weight decay, summed over layers: lambda_k * sum(W_k^2) / k_units (Table 1's caption),
    /// a scalar tensor that training adds to the cross-entropy. Zero for models trained without it.
    /// </summary>
    public abstract Tensor WeightPenalty();

    /// <summary>Names of the hidden layers whose activations <see cref="Activations"/> returns, input side first.</summary>
    public virtual IReadOnlyList<string> HiddenLayerNames => [];

    /// <summary>
    /// phi_1(x) .. phi_K(x): the output of every hidden layer (after its non-linearity and pooling), each
    /// flattened to [N, units], in the order of <see cref="HiddenLayerNames"/>.
    /// </summary>
    public virtual Tensor[] Activations(Tensor images) => [];

    /// <summary>
    /// Logits [N, 10] computed from the activation of hidden layer <paramref name="hiddenLayer"/> (an index into
    /// <see cref="HiddenLayerNames"/>, flattened as <see cref="Activations"/> returns it): the sub-network above
    /// that layer, which the per-layer adversarial pools of Section 4.3 train.
    /// </summary>
    public virtual Tensor ForwardFromHidden(int hiddenLayer, Tensor activation) =>
        throw new BadInputException($"model '{GetName()}' has no hidden layer {hiddenLayer}; it has {HiddenLayerNames.Count} hidden layers");

    /// <summary>The layer stack from input to logits, with the live weight tensors, for the spectral bounds.</summary>
    public virtual IReadOnlyList<LayerDescription> Layers => [];

    /// <summary>Predicted classes, int64 [N], without building a graph.</summary>
    public Tensor Predict(Tensor images)
    {
        using var noGrad = torch.no_grad();
        return forward(images).argmax(1);
    }

    /// <summary>Throws unless <paramref name="images"/> is float32 [N, 784].</summary>
    protected static void CheckImages(Tensor images)
    {
        if (images.dim() != 2 || images.shape[1] != PixelCount || images.dtype != ScalarType.Float32)
        {
            throw new BadInputException(
                $"images must be float32 [N, {PixelCount}] with pixels in [0,1]; got {images.dtype} [{string.Join(", ", images.shape)}]");
        }
    }
}
