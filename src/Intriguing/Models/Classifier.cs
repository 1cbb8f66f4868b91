using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// A classifier of 28x28 images. Every model takes images as float32 [N, 784] with pixels in [0,1]
/// (a convolutional model reshapes inside) and returns logits [N, 10]. Attacks and studies work in this
/// input space, so the box constraint x + r in [0,1]^784 of the paper is the model's own.
/// </summary>
public abstract class Classifier : nn.Module<Tensor, Tensor>
{
    public const int PixelCount = 784;
    public const int ClassCount = 10;

    protected Classifier(string name) : base(name) { }

    /// <summary>
    /// The paper's weight decay, summed over layers: lambda_k * sum(W_k^2) / k_units (Table 1's caption),
    /// a scalar tensor that training adds to the cross-entropy. Zero for models trained without it.
    /// </summary>
    public abstract Tensor WeightPenalty();

    /// <summary>Predicted classes, int64 [N], without building a graph.</summary>
    public Tensor Predict(Tensor images)
    {
        using var noGrad = torch.no_grad();
        return forward(images).argmax(1);
    }
}
