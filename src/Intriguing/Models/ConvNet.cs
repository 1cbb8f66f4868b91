using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// A small convnet (the paper's Section 3 uses one on MNIST for the unit analysis; we also use it for PGD):
/// conv 5x5 (8) - ReLU - max-pool 2 - conv 5x5 (16) - ReLU - max-pool 2 - fully connected 100 - ReLU - softmax.
/// The convolutions keep the spatial size (padding 2), each pooling halves it (rounding down), so any image input
/// [C, H, W] works; the zoo's is MNIST's [1, 28, 28] (7x7 after the two poolings).
/// Sized to stay cheap on two CPU cores while reaching over 99% test accuracy; no weight decay.
/// </summary>
public sealed class ConvNet : Classifier
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear fc1;
    private readonly Linear output;
    private readonly int channels;
    private readonly int height;
    private readonly int width;

    /// <summary>
    /// A convnet named <paramref name="name"/> with <paramref name="conv1Channels"/> (default 8) and
    /// <paramref name="conv2Channels"/> (default 16) feature maps and <paramref name="fcUnits"/> (default 100) hidden units,
    /// on <paramref name="input"/> (default MNIST), freshly initialised.
    /// </summary>
    /// <exception cref="BadInputException">An input that is not an image [C, H, W] with H, W &gt;= 4.</exception>
    public ConvNet(string name, int conv1Channels = 8, int conv2Channels = 16, int fcUnits = 100, InputSpace? input = null) : base(name, input)
    {
        if (Input.Shape.Length != 3 || Input.Shape[1] < 4 || Input.Shape[2] < 4)
        {
            throw new BadInputException($"ConvNet needs image inputs [C, H, W] with H, W >= 4; got [{string.Join(", ", Input.Shape)}]");
        }
        (channels, height, width) = ((int)Input.Shape[0], (int)Input.Shape[1], (int)Input.Shape[2]);
        conv1 = nn.Conv2d(channels, conv1Channels, kernel_size: 5, padding: 2);
        conv2 = nn.Conv2d(conv1Channels, conv2Channels, kernel_size: 5, padding: 2);
        fc1 = nn.Linear(conv2Channels * (height / 4) * (width / 4), fcUnits);
        output = nn.Linear(fcUnits, ClassCount);
        RegisterComponents();
    }

    /// <summary>Logits [N, classes] for <paramref name="images"/>, float32 [N, D] or [N, C, H, W].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var phi = Activations(images);
        return output.forward(phi[^1]).MoveToOuterDisposeScope();
    }

    /// <summary>Zero: the convnet trains without weight decay.</summary>
    public override Tensor WeightPenalty() => zeros(1).sum();

    /// <summary>"conv1", "conv2" (each after ReLU and pooling) and "fc1".</summary>
    public override IReadOnlyList<string> HiddenLayerNames => ["conv1", "conv2", "fc1"];

    /// <inheritdoc/>
    public override Tensor[] Activations(Tensor images)
    {
        using var scope = NewDisposeScope();
        var phi1 = Conv1Block(Flatten(images).reshape(-1, channels, height, width));
        var phi2 = Conv2Block(phi1);
        var phi3 = Fc1Block(phi2);
        return [phi1.flatten(1).MoveToOuterDisposeScope(), phi2.flatten(1).MoveToOuterDisposeScope(), phi3.MoveToOuterDisposeScope()];
    }

    /// <inheritdoc/>
    public override Tensor ForwardFromHidden(int hiddenLayer, Tensor activation)
    {
        using var scope = NewDisposeScope();
        var logits = hiddenLayer switch
        {
            0 => output.forward(Fc1Block(Conv2Block(activation.reshape(-1, conv1.out_channels, height / 2, width / 2)))),
            1 => output.forward(Fc1Block(activation.reshape(-1, conv2.out_channels, height / 4, width / 4))),
            2 => output.forward(activation),
            _ => base.ForwardFromHidden(hiddenLayer, activation),
        };
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Every hidden layer ends in a ReLU (and max-pooling): [0, inf).</summary>
    public override InputBox HiddenLayerBox(int hiddenLayer, int units) => InputBox.Uniform(0f, float.PositiveInfinity, units);

    /// <inheritdoc/>
    public override IReadOnlyList<LayerDescription> Layers =>
    [
        new("conv1", LayerKind.Convolution, [channels, height, width], conv1.weight, Stride: 1, Padding: 2, Kernel: 5),
        new("conv1.relu", LayerKind.Relu, [conv1.out_channels, height, width]),
        new("conv1.pool", LayerKind.MaxPool, [conv1.out_channels, height, width], Stride: 2, Kernel: 2),
        new("conv2", LayerKind.Convolution, [conv1.out_channels, height / 2, width / 2], conv2.weight, Stride: 1, Padding: 2, Kernel: 5),
        new("conv2.relu", LayerKind.Relu, [conv2.out_channels, height / 2, width / 2]),
        new("conv2.pool", LayerKind.MaxPool, [conv2.out_channels, height / 2, width / 2], Stride: 2, Kernel: 2),
        new("fc1", LayerKind.Linear, [conv2.out_channels * (height / 4) * (width / 4)], fc1.weight),
        new("fc1.relu", LayerKind.Relu, [fc1.out_features]),
        new("output", LayerKind.Linear, [fc1.out_features], output.weight),
    ];

    private Tensor Conv1Block(Tensor x) => nn.functional.max_pool2d(nn.functional.relu(conv1.forward(x)), 2);

    private Tensor Conv2Block(Tensor x) => nn.functional.max_pool2d(nn.functional.relu(conv2.forward(x)), 2);

    private Tensor Fc1Block(Tensor x) => nn.functional.relu(fc1.forward(x.flatten(1)));

    /// <summary>Frees the layers' weights.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            conv2.Dispose();
            fc1.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
