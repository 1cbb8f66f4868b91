using System.Runtime.InteropServices;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// A TorchSharp classifier on the CPU seen as an <see cref="IBatchScorer"/>, so Square's managed search runs on it too:
/// each call copies the rows into one reused input tensor, runs <c>forward</c> without gradients on it (in chunks of
/// rows for a convnet, see <see cref="ChunkRows"/>; a row's logits can then differ from a whole-batch forward's in the last
/// bit, as they can between any two batch sizes) and copies the logits out. The search's own
/// bookkeeping then costs O(window) per row and step instead of a dozen tensor ops over the whole batch.
/// </summary>
internal sealed class TensorModelScorer : IBatchScorer, IDisposable
{
    private readonly Classifier model;
    private readonly long features;
    private readonly Tensor staging;
    private readonly int chunkRows;

    /// <param name="model">The model, on the CPU, in evaluation mode.</param>
    /// <param name="features">D, the values per row.</param>
    /// <param name="maxRows">The most rows a call scores.</param>
    public TensorModelScorer(Classifier model, long features, long maxRows)
    {
        this.model = model;
        this.features = features;
        staging = empty(Math.Max(maxRows, 1), features, dtype: ScalarType.Float32);
        chunkRows = ChunkRows(model, maxRows);
    }

    /// <summary>Whether <paramref name="model"/> can be scored this way: a TorchSharp model on the CPU.</summary>
    public static bool Applies(Classifier model) => model is not IBatchScorer && model.Device.type == DeviceType.CPU;

    /// <inheritdoc/>
    public void Score(ReadOnlyMemory<float> inputs, int rows, Span<float> logits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (rows > staging.shape[0] || inputs.Length < rows * features || logits.Length < (long)rows * model.ClassCount)
        {
            throw new ArgumentException($"'{model.GetName()}': {rows} rows do not fit the scorer's buffers");
        }
        if (rows == 0)
        {
            return;
        }
        inputs.Span[..(int)(rows * features)].CopyTo(MemoryMarshal.Cast<byte, float>(staging.bytes));
        using var noGrad = no_grad();
        int classes = model.ClassCount;
        for (int first = 0; first < rows; first += chunkRows)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(chunkRows, rows - first);
            var output = model.forward(staging.narrow(0, first, count)).to_type(ScalarType.Float32).contiguous();
            MemoryMarshal.Cast<byte, float>(output.bytes)[..(count * classes)].CopyTo(logits.Slice(first * classes, count * classes));
        }
    }

    /// <summary>
    /// Rows per forward call: all of them, unless the model declares convolutions. libtorch's convolution (oneDNN is off,
    /// docs/engine.md) unfolds a batch into one column buffer of C*k*k by output positions per image; past malloc's 32 MB
    /// mmap ceiling every call maps it afresh and pays a page fault per 4 KB (a 1,000-image batch of `conv` unfolds 157 MB
    /// per call). Chunks whose largest buffer stays under 24 MB come from the reused heap instead.
    /// </summary>
    internal static int ChunkRows(Classifier model, long maxRows)
    {
        long columnBytes = 0;
        foreach (var layer in model.Layers.Where(layer => layer.Kind == LayerKind.Convolution && layer.InputShape.Length == 3))
        {
            long channels = layer.InputShape[0], height = layer.InputShape[1], width = layer.InputShape[2];
            long outHeight = (height + 2 * layer.Padding - layer.Kernel) / layer.Stride + 1;
            long outWidth = (width + 2 * layer.Padding - layer.Kernel) / layer.Stride + 1;
            columnBytes = Math.Max(columnBytes, channels * layer.Kernel * layer.Kernel * outHeight * outWidth * sizeof(float));
        }
        return columnBytes == 0 ? (int)Math.Max(maxRows, 1) : (int)Math.Clamp(ChunkBytes / columnBytes, 1, Math.Max(maxRows, 1));
    }

    private const long ChunkBytes = 24L << 20;

    /// <inheritdoc/>
    public void Dispose() => staging.Dispose();
}
