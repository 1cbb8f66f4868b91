using Intriguing.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>
/// The ImageNet network of the paper's Table 5: AlexNet as Krizhevsky, Sutskever and Hinton built it (NIPS 2012), with
/// both GPUs' halves kept as convolution groups. Input 3 x 227 x 227 (the paper's "224" does not fit its own first layer:
/// (224 - 11) / 4 + 1 is not whole; 227 gives the 55 x 55 maps it describes, with no padding).
/// <code>
/// conv1  96 x 11x11, stride 4            -> 96x55x55   ReLU  LRN  max-pool 3/2 -> 27x27
/// conv2 256 x 5x5, pad 2, 2 groups       -> 256x27x27  ReLU  LRN  max-pool 3/2 -> 13x13
/// conv3 384 x 3x3, pad 1                 -> 384x13x13  ReLU
/// conv4 384 x 3x3, pad 1, 2 groups       -> 384x13x13  ReLU
/// conv5 256 x 3x3, pad 1, 2 groups       -> 256x13x13  ReLU  max-pool 3/2 -> 6x6
/// fc6 9216 -> 4096 ReLU, fc7 4096 -> 4096 ReLU, fc8 4096 -> 1000 (dropout is the identity at test time)
/// </code>
/// LRN: n 5, alpha 1e-4, beta 0.75, k 2. Parameters are named PyTorch-style after the layers: conv1.weight, conv1.bias, ...,
/// fc8.bias. Weights are He-initialised from a seed, or read from a safetensors file with those names and shapes.
/// </summary>
public sealed class AlexNet : nn.Module<Tensor, Tensor>
{
    /// <summary>The side of AlexNet's square input in pixels, 227.</summary>
    public const int InputSide = 227;
    /// <summary>ImageNet's 1000 classes.</summary>
    public const int ClassCount = 1000;

    /// <summary>The paper's Table 5: upper bounds for the trained ImageNet weights (conv1..conv5, fc6..fc8).</summary>
    public static readonly IReadOnlyDictionary<string, double> PaperTable5 = new Dictionary<string, double>
    {
        ["conv1"] = 2.75,
        ["conv2"] = 10,
        ["conv3"] = 7,
        ["conv4"] = 7.5,
        ["conv5"] = 11,
        ["fc6"] = 3.12,
        ["fc7"] = 4,
        ["fc8"] = 4,
    };

    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Conv2d conv4;
    private readonly Conv2d conv5;
    private readonly Linear fc6;
    private readonly Linear fc7;
    private readonly Linear fc8;

    private AlexNet() : base("alexnet")
    {
        conv1 = nn.Conv2d(3, 96, kernel_size: 11, stride: 4);
        conv2 = nn.Conv2d(96, 256, kernel_size: 5, padding: 2, groups: 2);
        conv3 = nn.Conv2d(256, 384, kernel_size: 3, padding: 1);
        conv4 = nn.Conv2d(384, 384, kernel_size: 3, padding: 1, groups: 2);
        conv5 = nn.Conv2d(384, 256, kernel_size: 3, padding: 1, groups: 2);
        fc6 = nn.Linear(256 * 6 * 6, 4096);
        fc7 = nn.Linear(4096, 4096);
        fc8 = nn.Linear(4096, ClassCount);
        RegisterComponents();
        eval();
        foreach (var parameter in parameters())
        {
            parameter.requires_grad = false;
        }
    }

    /// <summary>
    /// He initialisation (He et al. 2015): weights normal with standard deviation sqrt(2 / fan_in), biases zero, all drawn
    /// from a generator seeded with <paramref name="seed"/>.
    /// </summary>
    public static AlexNet HeInitialised(int seed)
    {
        var network = new AlexNet();
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in network.named_parameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                parameter.zero_();
                continue;
            }
            long fanIn = parameter.shape.Skip(1).Aggregate(1L, (product, size) => product * size);
            using var drawn = randn(parameter.shape, generator: generator);
            parameter.copy_(drawn.mul_(Math.Sqrt(2.0 / fanIn)));
        }
        return network;
    }

    /// <summary>Every parameter's PyTorch-style name and shape, in the order of the module's parameters.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> ParameterShapes { get; } =
    [
        ("conv1.weight", [96, 3, 11, 11]), ("conv1.bias", [96]),
        ("conv2.weight", [256, 48, 5, 5]), ("conv2.bias", [256]),
        ("conv3.weight", [384, 256, 3, 3]), ("conv3.bias", [384]),
        ("conv4.weight", [384, 192, 3, 3]), ("conv4.bias", [384]),
        ("conv5.weight", [256, 192, 3, 3]), ("conv5.bias", [256]),
        ("fc6.weight", [4096, 9216]), ("fc6.bias", [4096]),
        ("fc7.weight", [4096, 4096]), ("fc7.bias", [4096]),
        ("fc8.weight", [1000, 4096]), ("fc8.bias", [1000]),
    ];

    /// <summary>
    /// AlexNet with the weights of a safetensors file holding exactly the tensors of <see cref="ParameterShapes"/> (float32).
    /// The file is checked before the network is built.
    /// </summary>
    /// <exception cref="BadInputException">A missing, unexpected or mis-shaped tensor (named), non-finite values, or a bad file.</exception>
    public static AlexNet FromSafeTensors(string path)
    {
        var content = SafeTensors.Read(path);
        var expected = ParameterShapes.ToDictionary(entry => entry.Name, entry => entry.Shape);
        foreach (var name in content.Tensors.Keys.Where(name => !expected.ContainsKey(name)).Order(StringComparer.Ordinal))
        {
            throw new BadInputException($"{path}: tensor '{name}' is not a parameter of AlexNet; expected {string.Join(", ", expected.Keys)}");
        }
        foreach (var (name, shape) in ParameterShapes)
        {
            if (!content.Tensors.TryGetValue(name, out var stored))
            {
                throw new BadInputException($"{path}: tensor '{name}' is missing; AlexNet needs it with shape [{string.Join(", ", shape)}]");
            }
            if (!stored.Shape.SequenceEqual(shape))
            {
                throw new BadInputException(
                    $"{path}: tensor '{name}' has shape [{string.Join(", ", stored.Shape)}]; AlexNet (Krizhevsky et al. 2012, groups of 2) expects [{string.Join(", ", shape)}]");
            }
            if (stored.Values.Any(value => !float.IsFinite(value)))
            {
                throw new BadInputException($"{path}: tensor '{name}' holds NaN or infinite values");
            }
        }
        var network = new AlexNet();
        using var noGrad = no_grad();
        foreach (var (name, parameter) in network.named_parameters())
        {
            var stored = content.Tensors[name];
            using var values = tensor(stored.Values).reshape(stored.Shape);
            parameter.copy_(values);
        }
        return network;
    }

    /// <summary>The chain the spectral analysis bounds, conv1 to fc8, with the live weights.</summary>
    public LayerStack Stack()
    {
        var lrn = LocalResponseNormSettings.Krizhevsky;
        return new LayerStack("alexnet",
        [
            new("conv1", SpectralLayerKind.Convolution, [3, InputSide, InputSide], conv1.weight, conv1.bias, Stride: 4, Kernel: 11),
            new("relu1", SpectralLayerKind.Relu, [96, 55, 55]),
            new("norm1", SpectralLayerKind.LocalResponseNorm, [96, 55, 55], Normalization: lrn),
            new("pool1", SpectralLayerKind.MaxPool, [96, 55, 55], Stride: 2, Kernel: 3),
            new("conv2", SpectralLayerKind.Convolution, [96, 27, 27], conv2.weight, conv2.bias, Padding: 2, Kernel: 5, Groups: 2),
            new("relu2", SpectralLayerKind.Relu, [256, 27, 27]),
            new("norm2", SpectralLayerKind.LocalResponseNorm, [256, 27, 27], Normalization: lrn),
            new("pool2", SpectralLayerKind.MaxPool, [256, 27, 27], Stride: 2, Kernel: 3),
            new("conv3", SpectralLayerKind.Convolution, [256, 13, 13], conv3.weight, conv3.bias, Padding: 1, Kernel: 3),
            new("relu3", SpectralLayerKind.Relu, [384, 13, 13]),
            new("conv4", SpectralLayerKind.Convolution, [384, 13, 13], conv4.weight, conv4.bias, Padding: 1, Kernel: 3, Groups: 2),
            new("relu4", SpectralLayerKind.Relu, [384, 13, 13]),
            new("conv5", SpectralLayerKind.Convolution, [384, 13, 13], conv5.weight, conv5.bias, Padding: 1, Kernel: 3, Groups: 2),
            new("relu5", SpectralLayerKind.Relu, [256, 13, 13]),
            new("pool5", SpectralLayerKind.MaxPool, [256, 13, 13], Stride: 2, Kernel: 3),
            new("fc6", SpectralLayerKind.Linear, [256 * 6 * 6], fc6.weight, fc6.bias),
            new("relu6", SpectralLayerKind.Relu, [4096]),
            new("fc7", SpectralLayerKind.Linear, [4096], fc7.weight, fc7.bias),
            new("relu7", SpectralLayerKind.Relu, [4096]),
            new("fc8", SpectralLayerKind.Linear, [4096], fc8.weight, fc8.bias),
        ]);
    }

    /// <summary>Logits [N, 1000] for images [N, 3, 227, 227].</summary>
    public override Tensor forward(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != InputSide || images.shape[3] != InputSide)
        {
            throw new BadInputException($"AlexNet takes images [N, 3, {InputSide}, {InputSide}]; got [{string.Join(", ", images.shape)}]");
        }
        using var scope = NewDisposeScope();
        return Stack().Forward(images).MoveToOuterDisposeScope();
    }

    /// <summary>Frees every layer's weights.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            conv2.Dispose();
            conv3.Dispose();
            conv4.Dispose();
            conv5.Dispose();
            fc6.Dispose();
            fc7.Dispose();
            fc8.Dispose();
        }
        base.Dispose(disposing);
    }
}
