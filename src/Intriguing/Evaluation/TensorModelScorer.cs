using System.Runtime.InteropServices;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// A TorchSharp classifier on the CPU seen as an <see cref="IBatchScorer"/>, so Square's managed search runs on it too:
/// each call copies the rows into one reused input tensor, runs <c>forward</c> without gradients on it (in chunks of
/// <see cref="Classifier.RowsPerPass"/> rows; a row's logits can then differ from a whole-batch forward's in the last
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

    /// <summary>Rows per forward call: the model's <see cref="Classifier.RowsPerPass"/>, at most <paramref name="maxRows"/>.</summary>
    internal static int ChunkRows(Classifier model, long maxRows) => (int)Math.Clamp(model.RowsPerPass, 1, Math.Max(maxRows, 1));

    /// <inheritdoc/>
    public void Dispose() => staging.Dispose();
}
