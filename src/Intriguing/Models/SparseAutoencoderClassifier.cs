using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// AE400-10 of Table 1: a layer of 400 sigmoid units learned as a sparse autoencoder without labels
/// (<see cref="Training.SparseAutoencoderPretraining"/>), then frozen, with a softmax layer trained on top. As in the
/// paper the encoder is not fine-tuned: its parameters have requires_grad false once pre-trained.
/// </summary>
public sealed class SparseAutoencoderClassifier : Classifier
{
    /// <summary>Units in the code layer: 400.</summary>
    public const int CodeUnits = 400;

    private readonly Linear encoder;
    private readonly Linear output;

    /// <summary>
    /// AE400-10 named <paramref name="name"/>, untrained, with weight decay <paramref name="outputLambda"/> on the softmax
    /// layer, on <paramref name="input"/> (default MNIST).
    /// </summary>
    public SparseAutoencoderClassifier(string name, double outputLambda, InputSpace? input = null) : base(name, input)
    {
        encoder = nn.Linear(Features, CodeUnits);
        output = nn.Linear(CodeUnits, ClassCount);
        OutputLambda = outputLambda;
        RegisterComponents();
    }

    /// <summary>The weight-decay lambda of the softmax layer.</summary>
    public double OutputLambda { get; }

    /// <summary>The 784 -> 400 encoder layer that <see cref="Training.SparseAutoencoderPretraining"/> trains.</summary>
    public Linear Encoder => encoder;

    /// <summary>Logits [N, classes] for <paramref name="images"/>, float32 [N, D] or [N, ...shape].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return output.forward(encoder.forward(Flatten(images)).sigmoid()).MoveToOuterDisposeScope();
    }

    /// <summary>Only the softmax layer is trained with labels, so only it carries the classification weight decay.</summary>
    public override Tensor WeightPenalty() => PaperWeightDecay.Penalty(output.weight!, OutputLambda);

    /// <summary>"encoder", the 400-unit code after its sigmoid.</summary>
    public override IReadOnlyList<string> HiddenLayerNames => ["encoder"];

    /// <inheritdoc/>
    public override Tensor[] Activations(Tensor images)
    {
        return [encoder.forward(Flatten(images)).sigmoid()];
    }

    /// <inheritdoc/>
    public override Tensor ForwardFromHidden(int hiddenLayer, Tensor activation) =>
        hiddenLayer == 0 ? output.forward(activation) : base.ForwardFromHidden(hiddenLayer, activation);

    /// <summary>The code is a sigmoid's output: (0, 1).</summary>
    public override InputBox HiddenLayerBox(int hiddenLayer, int units) => InputBox.Uniform(0f, 1f, units);

    /// <inheritdoc/>
    public override IReadOnlyList<LayerDescription> Layers =>
    [
        new("encoder", LayerKind.Linear, [Features], encoder.weight),
        new("encoder.sigmoid", LayerKind.Sigmoid, [CodeUnits]),
        new("output", LayerKind.Linear, [CodeUnits], output.weight),
    ];

    /// <summary>Frees the layers' weights.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            encoder.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
