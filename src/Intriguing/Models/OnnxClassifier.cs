using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Intriguing.Models;

/// <summary>
/// A model in an ONNX file, run on the CPU by ONNX Runtime: a score-only classifier. It gives logits but no input
/// gradients (<see cref="ProvidesInputGradients"/> is false), so only attacks that query scores apply to it (Gaussian
/// noise, Square), or transfer from a white-box surrogate.
/// <para>
/// The file must have one float32 input [batch, ...shape] and one float32 output [batch, classes], matching the
/// declared <see cref="InputSpace"/>. Attacks work in [0,1] pixel space; an optional per-channel
/// <c>mean</c>/<c>std</c> is applied here, (x - mean) / std, before the model sees the input. A whole batch goes to
/// ONNX Runtime in one Run call. A model exported with its batch dimension fixed at 1 is run row by row (one call per
/// image, much slower; export with a dynamic batch axis to avoid it). Logits come back as a tensor without a graph.
/// </para>
/// </summary>
public sealed class OnnxClassifier : Classifier
{
    private readonly InferenceSession session;
    private readonly string inputName;
    private readonly string outputName;
    private readonly float[]? mean;
    private readonly float[]? std;

    /// <param name="path">The .onnx file.</param>
    /// <param name="input">The input the model declares: shape of one input, class count, box ([0,1] for images).</param>
    /// <param name="mean">Per-channel means (one value, or one per channel of the shape's first dimension), or null.</param>
    /// <param name="std">Per-channel standard deviations (&gt; 0), as many as <paramref name="mean"/>, or null.</param>
    /// <exception cref="BadInputException">The file is missing or not an ONNX model, it has several inputs or outputs,
    /// its input or output shape does not match <paramref name="input"/>, or mean/std are malformed.</exception>
    public OnnxClassifier(string path, InputSpace input, IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null)
        : base(System.IO.Path.GetFileNameWithoutExtension(path), input)
    {
        Path = path;
        (this.mean, this.std) = CheckNormalisation(path, input, mean, std);
        if (!File.Exists(path))
        {
            throw new BadInputException($"model file '{path}' does not exist");
        }
        try
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException error)
        {
            throw new BadInputException($"model file '{path}' is not a readable ONNX model: {FirstLine(error.Message)}", error);
        }
        try
        {
            (inputName, outputName, FixedBatchOfOne) = CheckSignature(path, session, input);
        }
        catch
        {
            session.Dispose();
            throw;
        }
        RegisterComponents();
    }

    /// <summary>The .onnx file the model was read from.</summary>
    public string Path { get; }

    /// <summary>True when the file fixes the batch dimension at 1: every image is then its own Run call.</summary>
    public bool FixedBatchOfOne { get; }

    /// <summary>ONNX Runtime gives scores only: attacks that need input gradients do not apply.</summary>
    public override bool ProvidesInputGradients => false;

    /// <summary>The CPU: ONNX Runtime runs the model there.</summary>
    public override Device Device => CPU;

    /// <summary>Zero: an ONNX model is not trained here.</summary>
    public override Tensor WeightPenalty() => zeros(1).sum();

    /// <summary>Logits float32 [N, classes] for float32 [N, D] or [N, ...shape] (on the inputs' device, no graph).</summary>
    /// <exception cref="BadInputException">The inputs have the wrong shape, or the model returns NaN.</exception>
    public override Tensor forward(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        var flat = Flatten(inputs).detach().cpu();
        long rows = flat.shape[0];
        if (rows == 0)
        {
            return zeros(0, ClassCount, device: inputs.device).MoveToOuterDisposeScope();
        }
        if (mean is not null && std is not null)
        {
            long channels = Input.Shape[0];
            var perChannel = flat.reshape(rows, channels, -1);
            var meanTensor = tensor(mean).reshape(-1, 1);
            var stdTensor = tensor(std).reshape(-1, 1);
            flat = ((perChannel - meanTensor) / stdTensor).reshape(rows, Features);
        }
        float[] values = flat.contiguous().data<float>().ToArray();
        var logits = new float[rows * ClassCount];
        if (FixedBatchOfOne)
        {
            for (long row = 0; row < rows; row++)
            {
                RunOnce(values.AsMemory((int)(row * Features), Features), 1, logits.AsSpan((int)(row * ClassCount), ClassCount));
            }
        }
        else
        {
            RunOnce(values, rows, logits);
        }
        int firstNaN = Array.FindIndex(logits, float.IsNaN);
        if (firstNaN >= 0)
        {
            throw new BadInputException(
                $"model file '{Path}' returned NaN logits (row {firstNaN / ClassCount}, class {firstNaN % ClassCount}); expected finite scores");
        }
        return tensor(logits, [rows, ClassCount]).to(inputs.device).MoveToOuterDisposeScope();
    }

    private void RunOnce(Memory<float> values, long rows, Span<float> logits)
    {
        long[] shape = Input.BatchShape(rows);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, values, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [inputValue], [outputName]);
        var output = outputs[0];
        long[] outputShape = output.GetTensorTypeAndShape().Shape;
        if (outputShape.Length != 2 || outputShape[0] != rows || outputShape[1] != ClassCount)
        {
            throw new BadInputException(
                $"model file '{Path}': output '{outputName}' has shape [{string.Join(", ", outputShape)}] for {rows} inputs; " +
                $"expected [{rows}, {ClassCount}] (the declared {ClassCount} classes)");
        }
        output.GetTensorDataAsSpan<float>().CopyTo(logits);
    }

    /// <summary>Frees the ONNX Runtime session.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            session.Dispose();
        }
        base.Dispose(disposing);
    }

    private static (string Input, string Output, bool FixedBatchOfOne) CheckSignature(string path, InferenceSession session, InputSpace input)
    {
        if (session.InputMetadata.Count != 1)
        {
            throw new BadInputException(
                $"model file '{path}' has {session.InputMetadata.Count} inputs ({string.Join(", ", session.InputMetadata.Keys)}); expected one image input");
        }
        if (session.OutputMetadata.Count != 1)
        {
            throw new BadInputException(
                $"model file '{path}' has {session.OutputMetadata.Count} outputs ({string.Join(", ", session.OutputMetadata.Keys)}); expected one output, the logits");
        }
        var (inputName, inputMeta) = session.InputMetadata.Single() is var pair ? (pair.Key, pair.Value) : default;
        var (outputName, outputMeta) = session.OutputMetadata.Single() is var outPair ? (outPair.Key, outPair.Value) : default;
        string declared = $"[N, {string.Join(", ", input.Shape)}]";
        if (!inputMeta.IsTensor || inputMeta.ElementDataType != TensorElementType.Float)
        {
            throw new BadInputException($"model file '{path}': input '{inputName}' is not a float32 tensor; expected float32 {declared}");
        }
        int[] dims = inputMeta.Dimensions;
        // A symbolic dimension reads as -1; the batch may be symbolic or 1, every other dimension must be the declared one.
        bool shapeMatches = dims.Length == input.Shape.Length + 1
            && dims.Skip(1).Zip(input.Shape).All(pair => pair.First < 0 || pair.First == pair.Second);
        if (!shapeMatches || (dims[0] >= 0 && dims[0] != 1))
        {
            throw new BadInputException(
                $"model file '{path}': input '{inputName}' has shape [{Describe(dims)}]; the declared input is {declared} " +
                "(with a dynamic batch dimension, or a batch of 1)");
        }
        int[] outputDims = outputMeta.Dimensions;
        if (!outputMeta.IsTensor || outputMeta.ElementDataType != TensorElementType.Float || outputDims.Length != 2
            || (outputDims[1] >= 0 && outputDims[1] != input.ClassCount))
        {
            throw new BadInputException(
                $"model file '{path}': output '{outputName}' has shape [{Describe(outputDims)}]; expected float32 logits [N, {input.ClassCount}] " +
                $"(the declared {input.ClassCount} classes)");
        }
        return (inputName, outputName, dims[0] == 1);
    }

    private static (float[]? Mean, float[]? Std) CheckNormalisation(string path, InputSpace input, IReadOnlyList<float>? mean, IReadOnlyList<float>? std)
    {
        if (mean is null && std is null)
        {
            return (null, null);
        }
        long channels = input.Shape[0];
        float[] means = mean is null ? [0f] : [.. mean];
        float[] stds = std is null ? [1f] : [.. std];
        if (means.Length != stds.Length && means.Length != 1 && stds.Length != 1)
        {
            throw new BadInputException($"model '{path}': mean has {means.Length} values and std {stds.Length}; expected one per channel or one for all");
        }
        float[] Expand(float[] values, string name)
        {
            if (values.Length == 1)
            {
                return Enumerable.Repeat(values[0], (int)channels).ToArray();
            }
            if (values.Length != channels)
            {
                throw new BadInputException(
                    $"model '{path}': {name} has {values.Length} values; the input [{string.Join(", ", input.Shape)}] has {channels} channels (expected 1 or {channels} values)");
            }
            return values;
        }
        means = Expand(means, "mean");
        stds = Expand(stds, "std");
        if (means.Any(value => !float.IsFinite(value)) || stds.Any(value => !(value > 0) || !float.IsFinite(value)))
        {
            throw new BadInputException(
                $"model '{path}': mean must be finite and std finite and > 0; got mean [{Join(means)}], std [{Join(stds)}]");
        }
        return (means, stds);
    }

    private static string Describe(int[] dims) => string.Join(", ", dims.Select(size => size < 0 ? "?" : size.ToString(CultureInfo.InvariantCulture)));

    private static string Join(float[] values) => string.Join(", ", values.Select(value => value.ToString(CultureInfo.InvariantCulture)));

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
