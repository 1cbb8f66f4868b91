using System.Globalization;
using System.Runtime.InteropServices;
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
/// <para>
/// It also scores plain float memory (<see cref="IBatchScorer"/>), which Square uses to run its search without tensor
/// work: the same Run calls, the same logits. Calls into one classifier are serialised (it reuses one input buffer).
/// </para>
/// </summary>
public sealed class OnnxClassifier : Classifier, IBatchScorer
{
    private readonly InferenceSession session;
    private readonly string inputName;
    private readonly string outputName;
    private readonly float[]? mean;
    private readonly float[]? std;
    private readonly string[] inputNames;
    private readonly string[] outputNames;
    private readonly OrtValue[] inputValues = new OrtValue[1];
    private readonly long[] batchShape;
    private readonly RunOptions runOptions;
    private readonly Lock gate = new();

    // The inputs of the call under way (copied from a tensor, or normalised), reused from call to call: a fresh array
    // of a batch's size would be a large-object allocation, page faults and all, on every query.
    private float[] staging = [];

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
        runOptions = new RunOptions();
        inputNames = [inputName];
        outputNames = [outputName];
        batchShape = Input.BatchShape(1);
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
        var flat = Flatten(inputs).detach().cpu().contiguous();
        int rows = (int)flat.shape[0];
        if (rows == 0)
        {
            return zeros(0, ClassCount, device: inputs.device).MoveToOuterDisposeScope();
        }
        var logits = new float[rows * ClassCount];
        lock (gate)
        {
            var values = Staging(rows * Features);
            MemoryMarshal.Cast<byte, float>(flat.bytes).CopyTo(values.Span);
            if (mean is not null && std is not null)
            {
                Normalise(values.Span, values.Span, mean, std);
            }
            Run(values, rows, logits);
        }
        return tensor(logits, [rows, ClassCount]).to(inputs.device).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits of <paramref name="rows"/> flat inputs in [0,1] pixel space into <paramref name="logits"/>: the same Run
    /// calls and numbers as <see cref="forward"/>, with mean/std applied into a reused buffer, nothing allocated per call.
    /// </summary>
    /// <exception cref="ArgumentException">A span shorter than <paramref name="rows"/> needs, or a negative count.</exception>
    /// <exception cref="BadInputException">The model returns NaN, or an output of the wrong shape.</exception>
    public void Score(ReadOnlyMemory<float> inputs, int rows, Span<float> logits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long valueCount = (long)rows * Features, logitCount = (long)rows * ClassCount;
        if (inputs.Length < valueCount || logits.Length < logitCount)
        {
            throw new ArgumentException(
                $"'{GetName()}': {rows} rows need {valueCount} input values and room for {logitCount} logits; got {inputs.Length} and {logits.Length}");
        }
        if (rows == 0)
        {
            return;
        }
        lock (gate)
        {
            Memory<float> values;
            if (mean is not null && std is not null)
            {
                values = Staging((int)valueCount);
                Normalise(inputs.Span[..(int)valueCount], values.Span, mean, std);
            }
            else
            {
                // ONNX Runtime only reads its input; the writable view is what its API takes.
                values = MemoryMarshal.AsMemory(inputs[..(int)valueCount]);
            }
            Run(values, rows, logits[..(int)logitCount]);
        }
    }

    private Memory<float> Staging(int count)
    {
        if (staging.Length < count)
        {
            staging = new float[count];
        }
        return staging.AsMemory(0, count);
    }

    /// <summary>(x - mean) / std per channel, in float32 as the tensor ops did; <paramref name="destination"/> may be <paramref name="source"/>.</summary>
    private void Normalise(ReadOnlySpan<float> source, Span<float> destination, float[] means, float[] stds)
    {
        int channels = means.Length, perChannel = Features / channels;
        for (int start = 0, channel = 0; start < source.Length; start += perChannel, channel = (channel + 1) % channels)
        {
            float channelMean = means[channel], channelStd = stds[channel];
            var from = source.Slice(start, perChannel);
            var to = destination.Slice(start, perChannel);
            for (int i = 0; i < perChannel; i++)
            {
                to[i] = (from[i] - channelMean) / channelStd;
            }
        }
    }

    /// <summary>One Run for the batch (one per row for a batch-1 export), then the NaN check.</summary>
    private void Run(Memory<float> values, int rows, Span<float> logits)
    {
        if (FixedBatchOfOne)
        {
            for (int row = 0; row < rows; row++)
            {
                RunOnce(values.Slice(row * Features, Features), 1, logits.Slice(row * ClassCount, ClassCount));
            }
        }
        else
        {
            RunOnce(values, rows, logits);
        }
        int firstNaN = FirstNaN(logits);
        if (firstNaN >= 0)
        {
            throw new BadInputException(
                $"model file '{Path}' returned NaN logits (row {firstNaN / ClassCount}, class {firstNaN % ClassCount}); expected finite scores");
        }
    }

    private static int FirstNaN(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsNaN(values[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private void RunOnce(Memory<float> values, long rows, Span<float> logits)
    {
        // The shape is read when the value is made; the lock keeps the shared array still until then.
        batchShape[0] = rows;
        using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, values, batchShape);
        inputValues[0] = inputValue;
        using var outputs = session.Run(runOptions, inputNames, inputValues, outputNames);
        inputValues[0] = null!;
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
            runOptions.Dispose();
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
