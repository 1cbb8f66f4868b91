using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// FC&lt;a&gt;-&lt;b&gt;-10 of Tables 1 and 3: two fully connected hidden layers of logistic sigmoid units and a softmax
/// layer (FC100-100-10, FC200-200-10, FC123-456-10). Weight decay per layer lambda_k * sum(W_k^2) / k with
/// lambda = (1e-5, 1e-5, 1e-6) as Table 1 gives for FC100-100-10.
/// </summary>
public sealed class SigmoidMlp : Classifier
{
    private readonly Linear hidden1;
    private readonly Linear hidden2;
    private readonly Linear output;
    private readonly double[] lambdas;

    /// <summary>
    /// An MLP named <paramref name="name"/> with <paramref name="hidden1Units"/> and <paramref name="hidden2Units"/>
    /// sigmoid units and weight decay lambda per layer (hidden1, hidden2, output), on <paramref name="input"/> (default MNIST).
    /// </summary>
    public SigmoidMlp(string name, int hidden1Units, int hidden2Units, double hidden1Lambda, double hidden2Lambda, double outputLambda,
        InputSpace? input = null)
        : base(name, input)
    {
        hidden1 = nn.Linear(Features, hidden1Units);
        hidden2 = nn.Linear(hidden1Units, hidden2Units);
        output = nn.Linear(hidden2Units, ClassCount);
        lambdas = [hidden1Lambda, hidden2Lambda, outputLambda];
        RegisterComponents();
    }

    /// <summary>The weight-decay lambdas of hidden1, hidden2 and the output layer.</summary>
    public IReadOnlyList<double> Lambdas => lambdas;

    /// <summary>Logits [N, classes] for <paramref name="images"/>, float32 [N, D] or [N, ...shape].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var phi1 = hidden1.forward(Flatten(images)).sigmoid();
        var phi2 = hidden2.forward(phi1).sigmoid();
        return output.forward(phi2).MoveToOuterDisposeScope();
    }

    /// <summary>The paper's decay, lambda_k * sum(W_k^2) / k_units, summed over the three layers; a scalar tensor.</summary>
    public override Tensor WeightPenalty() =>
        PaperWeightDecay.Penalty(hidden1.weight!, lambdas[0])
        + PaperWeightDecay.Penalty(hidden2.weight!, lambdas[1])
        + PaperWeightDecay.Penalty(output.weight!, lambdas[2]);

    /// <summary>"hidden1" and "hidden2", each after its sigmoid.</summary>
    public override IReadOnlyList<string> HiddenLayerNames => ["hidden1", "hidden2"];

    /// <inheritdoc/>
    public override Tensor[] Activations(Tensor images)
    {
        var phi1 = hidden1.forward(Flatten(images)).sigmoid();
        var phi2 = hidden2.forward(phi1).sigmoid();
        return [phi1, phi2];
    }

    /// <inheritdoc/>
    public override Tensor ForwardFromHidden(int hiddenLayer, Tensor activation)
    {
        using var scope = NewDisposeScope();
        var logits = hiddenLayer switch
        {
            0 => output.forward(hidden2.forward(activation).sigmoid()),
            1 => output.forward(activation),
            _ => base.ForwardFromHidden(hiddenLayer, activation),
        };
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Both hidden layers are sigmoids: (0, 1).</summary>
    public override InputBox HiddenLayerBox(int hiddenLayer, int units) => InputBox.Uniform(0f, 1f, units);

    /// <inheritdoc/>
    public override IReadOnlyList<LayerDescription> Layers =>
    [
        new("hidden1", LayerKind.Linear, [Features], hidden1.weight),
        new("hidden1.sigmoid", LayerKind.Sigmoid, [hidden1.out_features]),
        new("hidden2", LayerKind.Linear, [hidden1.out_features], hidden2.weight),
        new("hidden2.sigmoid", LayerKind.Sigmoid, [hidden2.out_features]),
        new("output", LayerKind.Linear, [hidden2.out_features], output.weight),
    ];

    /// <summary>Frees the layers' weights.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hidden1.Dispose();
            hidden2.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
