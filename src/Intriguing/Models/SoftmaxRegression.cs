using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// FC10(lambda) of Table 1: a softmax layer straight on the pixels, no hidden layer, weight decay
/// lambda * sum(W^2) / 10. The paper trains three of them (lambda = 1e-4, 1e-2, 1) to show how regularisation
/// changes the size of the adversarial perturbation.
/// </summary>
public sealed class SoftmaxRegression : Classifier
{
    private readonly Linear output;

    /// <summary>
    /// A softmax layer named <paramref name="name"/> with weight decay <paramref name="lambda"/>, on <paramref name="input"/>
    /// (default MNIST).
    /// </summary>
    public SoftmaxRegression(string name, double lambda, InputSpace? input = null) : base(name, input)
    {
        Lambda = lambda;
        output = nn.Linear(Features, ClassCount);
        RegisterComponents();
    }

    /// <summary>The weight-decay lambda of Table 1 (1e-4, 1e-2 or 1 in the zoo).</summary>
    public double Lambda { get; }

    /// <summary>Logits [N, classes] for <paramref name="images"/>, float32 [N, D] or [N, ...shape].</summary>
    public override Tensor forward(Tensor images)
    {
        return output.forward(Flatten(images));
    }

    /// <summary>lambda * sum(W^2) / classes, a scalar tensor.</summary>
    public override Tensor WeightPenalty() => PaperWeightDecay.Penalty(output.weight!, Lambda);

    /// <inheritdoc/>
    public override IReadOnlyList<LayerDescription> Layers =>
        [new LayerDescription("output", LayerKind.Linear, [Features], output.weight)];

    /// <summary>Frees the layer's weights.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
