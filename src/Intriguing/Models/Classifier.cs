using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// A classifier that declares its input (<see cref="Input"/>: the shape of one input, the class count and the box of
/// valid values). It takes float32 [N, D] (flattened) or [N, ...shape] and returns logits [N, classes]. Attacks and
/// studies work in this input space, so the box constraint of the paper (x + r in [0,1]^784 for MNIST) is the
/// model's own. The paper's zoo declares <see cref="InputSpace.Mnist"/>.
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
    /// <summary>Every model is made after libtorch's oneDNN kernels are off: their float32 conv input gradients are wrong (<see cref="OneDnnWorkaround"/>).</summary>
    static Classifier() => OneDnnWorkaround.Ensure();

    /// <summary>
    /// A classifier named <paramref name="name"/> (the module's name) taking <paramref name="input"/>
    /// (default <see cref="InputSpace.Mnist"/>).
    /// </summary>
    protected Classifier(string name, InputSpace? input = null) : base(name)
    {
        Input = input ?? InputSpace.Mnist;
    }

    /// <summary>The shape, class count and box of the model's inputs.</summary>
    public InputSpace Input { get; }

    /// <summary>D, the number of values in one flattened input (784 for MNIST).</summary>
    public int Features => Input.Features;

    /// <summary>The number of classes (the logits' width).</summary>
    public int ClassCount => Input.ClassCount;

    /// <summary>
    /// True when input gradients can be taken through <c>forward</c> (a TorchSharp network). False for a score-only
    /// model (an ONNX file run by ONNX Runtime): it gives logits, so only attacks that query scores apply to it.
    /// </summary>
    public virtual bool ProvidesInputGradients => true;

    /// <summary>Where the model's parameters live (the CPU for a model without parameters).</summary>
    public virtual Device Device => parameters().FirstOrDefault()?.device ?? CPU;

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

    /// <summary>
    /// The box that hidden layer <paramref name="hiddenLayer"/>'s activations live in: (0,1) after a sigmoid, [0, inf)
    /// after a ReLU. Attacks on <see cref="AboveHidden"/> keep their points in it. Unbounded unless a model says.
    /// </summary>
    public virtual InputBox HiddenLayerBox(int hiddenLayer, int units) =>
        InputBox.Uniform(float.NegativeInfinity, float.PositiveInfinity, units);

    /// <summary>
    /// The sub-network above hidden layer <paramref name="hiddenLayer"/> as a classifier of that layer's activations
    /// (input [units], box <see cref="HiddenLayerBox"/>): what the per-layer adversarial pools of Section 4.3 attack.
    /// It shares this model's parameters and must not outlive it.
    /// </summary>
    public Classifier AboveHidden(int hiddenLayer)
    {
        if (hiddenLayer < 0 || hiddenLayer >= HiddenLayerNames.Count)
        {
            throw new BadInputException(
                $"model '{GetName()}' has no hidden layer {hiddenLayer}; its hidden layers are {string.Join(", ", HiddenLayerNames.Select((name, index) => $"{index} ({name})"))}");
        }
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        int units = (int)Activations(zeros(Input.BatchShape(1), device: Device))[hiddenLayer].shape[1];
        return new SubNetwork(this, hiddenLayer, new InputSpace([units], ClassCount, HiddenLayerBox(hiddenLayer, units)));
    }

    /// <summary>The layer stack from input to logits, with the live weight tensors, for the spectral bounds.</summary>
    public virtual IReadOnlyList<LayerDescription> Layers => [];

    /// <summary>Predicted classes, int64 [N], without building a graph, <see cref="RowsPerPass"/> rows per forward call.</summary>
    public Tensor Predict(Tensor images)
    {
        using var noGrad = torch.no_grad();
        long rows = images.shape[0];
        if (rows <= RowsPerPass)
        {
            return forward(images).argmax(1);
        }
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < rows; start += RowsPerPass)
        {
            parts.Add(forward(images.narrow(0, start, Math.Min(RowsPerPass, rows - start))).argmax(1));
        }
        return torch.cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The most rows one forward (and backward) pass should take: all of them (<see cref="int.MaxValue"/>) unless the
    /// model declares convolutions in <see cref="Layers"/>. libtorch's convolution, with oneDNN off (docs/engine.md),
    /// unfolds a batch into one column buffer of C*k*k values per output position and image; past malloc's 32 MB mmap
    /// ceiling each call maps it afresh and pays a page fault per 4 KB. Batches whose largest buffer stays under 24 MB
    /// reuse heap memory instead: for the zoo's `conv`, 160 images (PGD-40 on 1,000 images: 23 s in batches of 500,
    /// 6.7 s in batches of 160, the same points to the bit). Attacks and <see cref="Predict"/> split their batches so.
    /// </summary>
    public int RowsPerPass => rowsPerPass ??= ComputeRowsPerPass();

    private int? rowsPerPass;

    private int ComputeRowsPerPass()
    {
        long columnBytes = 0;
        foreach (var layer in Layers.Where(layer => layer.Kind == LayerKind.Convolution && layer.InputShape.Length == 3 && layer.Kernel > 0))
        {
            long channels = layer.InputShape[0], height = layer.InputShape[1], width = layer.InputShape[2];
            long outHeight = (height + 2 * layer.Padding - layer.Kernel) / layer.Stride + 1;
            long outWidth = (width + 2 * layer.Padding - layer.Kernel) / layer.Stride + 1;
            columnBytes = Math.Max(columnBytes, channels * layer.Kernel * layer.Kernel * outHeight * outWidth * sizeof(float));
        }
        return columnBytes == 0 ? int.MaxValue : (int)Math.Clamp(UnfoldBudgetBytes / columnBytes, 1, int.MaxValue);
    }

    private const long UnfoldBudgetBytes = 24L << 20;

    /// <summary>
    /// <paramref name="inputs"/> as float32 [N, D]: accepts [N, D] or [N, ...shape] and throws on anything else.
    /// </summary>
    protected Tensor Flatten(Tensor inputs)
    {
        bool flat = inputs.dim() == 2 && inputs.shape[1] == Features;
        bool shaped = inputs.dim() == Input.Shape.Length + 1 && inputs.shape.AsSpan(1).SequenceEqual(Input.Shape);
        if ((!flat && !shaped) || inputs.dtype != ScalarType.Float32)
        {
            throw new BadInputException(
                $"inputs of '{GetName()}' must be float32 [N, {Features}] or [N, {string.Join(", ", Input.Shape)}]; got {inputs.dtype} [{string.Join(", ", inputs.shape)}]");
        }
        return flat ? inputs : inputs.reshape(inputs.shape[0], Features);
    }

    /// <summary>The network above one hidden layer of a parent model, as a classifier of that layer's activations.</summary>
    private sealed class SubNetwork(Classifier parent, int hiddenLayer, InputSpace input)
        : Classifier($"{parent.GetName()}/above-{parent.HiddenLayerNames[hiddenLayer]}", input)
    {
        public override Device Device => parent.Device;

        public override Tensor forward(Tensor activations) => parent.ForwardFromHidden(hiddenLayer, Flatten(activations));

        public override Tensor WeightPenalty() => zeros(1, device: parent.Device).sum();
    }
}
