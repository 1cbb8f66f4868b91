using System.Runtime.InteropServices;
using Intriguing.Attacks;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// Square-L-inf's random search (<see cref="Square"/>, <see cref="SquareLinf"/>) on plain float arrays, for a model that
/// scores memory directly (<see cref="IBatchScorer"/>): the same start, windows, signs, acceptance rule and forward calls
/// as the tensor engine, so the same points and query counts, without a tensor op per step. The candidates of the rows
/// still searching sit compacted in one buffer, in row order (the batches the model sees are the tensor engine's); each
/// step writes every row's window into its candidate, keeps a copy of the window's old values, scores the batch once,
/// and puts the old values back where the proposal is rejected: O(window) work per row, not O(D). A row leaves the
/// buffer when it is broken; its point is written out then.
/// </summary>
internal sealed class SquareLinfSearch
{
    private readonly IBatchScorer scorer;
    private readonly int channels, height, width, features, classes;
    private readonly float epsilon;
    private readonly float[] lower, upper;

    /// <param name="scorer">The model.</param>
    /// <param name="channels">C of the images [C, H, W].</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="classes">The logits' width.</param>
    /// <param name="epsilon">The L-inf radius, as the tensor ops see it (float32).</param>
    /// <param name="box">The model's box.</param>
    public SquareLinfSearch(IBatchScorer scorer, int channels, int height, int width, int classes, float epsilon, InputBox box)
    {
        this.scorer = scorer;
        this.channels = channels;
        this.height = height;
        this.width = width;
        features = channels * height * width;
        this.classes = classes;
        this.epsilon = epsilon;
        lower = box.Lower.ToArray();
        upper = box.Upper.ToArray();
    }

    /// <summary>What the search found: the points [rows * D], queries per row, and which rows it broke.</summary>
    public sealed record Outcome(float[] Points, long[] Queries, bool[] Success);

    /// <summary>
    /// Runs the search on <paramref name="images"/> [rows * D] from the starts in <paramref name="start"/> (overwritten
    /// with the results). <paramref name="labels"/> are the true classes; with <paramref name="targets"/> the loss is the
    /// cross-entropy towards them, otherwise the margin. <paramref name="uniformsFor"/> fills a row's numbers for an
    /// iteration, <paramref name="sideAt"/> gives the window's side at an iteration.
    /// </summary>
    public Outcome Run(
        float[] images,
        float[] start,
        long[] labels,
        long[]? targets,
        int queryBudget,
        Action<Span<float>, int, int> uniformsFor,
        Func<int, int> sideAt)
    {
        int rows = labels.Length;
        var best = start;
        var logits = new float[rows * classes];
        var loss = new float[rows];
        var success = new bool[rows];
        var queries = new long[rows];
        using var targetedLoss = targets is null ? null : new TargetedLoss(rows, classes);

        scorer.Score(best, rows, logits);
        for (int row = 0; row < rows; row++)
        {
            queries[row] = 1;
            success[row] = IsAdversarial(logits.AsSpan(row * classes, classes), labels[row], targets?[row]);
        }
        targetedLoss?.Compute(logits, rows, targets!, loss);
        if (targets is null)
        {
            for (int row = 0; row < rows; row++)
            {
                loss[row] = Margin(logits.AsSpan(row * classes, classes), labels[row]);
            }
        }

        // The rows still searching, in row order, and their candidates compacted to the front of one buffer.
        var active = new int[rows];
        int activeCount = 0;
        for (int row = 0; row < rows; row++)
        {
            if (!success[row])
            {
                active[activeCount++] = row;
            }
        }
        var candidates = new float[activeCount * features];
        for (int k = 0; k < activeCount; k++)
        {
            best.AsSpan(active[k] * features, features).CopyTo(candidates.AsSpan(k * features, features));
        }
        int perRow = 2 + channels;
        var uniforms = new float[perRow];
        var window = new int[activeCount * 2];
        var saved = new float[activeCount * features];
        var candidateLoss = new float[activeCount];
        for (int iteration = 0; iteration < queryBudget - 1 && activeCount > 0; iteration++)
        {
            int side = sideAt(iteration);
            for (int k = 0; k < activeCount; k++)
            {
                // Stream 0 is the start; iteration i draws from stream i + 1.
                uniformsFor(uniforms, active[k], iteration + 1);
                int top = (int)Square.PositionOf(uniforms[0], height - side);
                int left = (int)Square.PositionOf(uniforms[1], width - side);
                window[2 * k] = top;
                window[2 * k + 1] = left;
                Propose(images.AsSpan(active[k] * features, features), candidates.AsSpan(k * features, features),
                    saved.AsSpan(k * channels * side * side, channels * side * side), uniforms, top, left, side);
            }
            scorer.Score(candidates.AsMemory(0, activeCount * features), activeCount, logits);
            if (targetedLoss is not null)
            {
                targetedLoss.Compute(logits, activeCount, targets!, candidateLoss, active);
            }
            bool anyBroken = false;
            for (int k = 0; k < activeCount; k++)
            {
                int row = active[k];
                var rowLogits = logits.AsSpan(k * classes, classes);
                bool broken = IsAdversarial(rowLogits, labels[row], targets?[row]);
                float rowLoss = targets is null ? Margin(rowLogits, labels[row]) : candidateLoss[k];
                // Keep a proposal that lowers the loss or breaks the row (Algorithm 1's acceptance step).
                bool lowered = rowLoss < loss[row];
                if (lowered)
                {
                    loss[row] = rowLoss;
                }
                if (!lowered && !broken)
                {
                    Restore(candidates.AsSpan(k * features, features), saved.AsSpan(k * channels * side * side, channels * side * side),
                        window[2 * k], window[2 * k + 1], side);
                }
                success[row] = broken;
                queries[row]++;
                anyBroken |= broken;
            }
            if (anyBroken)
            {
                activeCount = Compact(candidates, active, activeCount, success, best);
            }
        }
        for (int k = 0; k < activeCount; k++)
        {
            candidates.AsSpan(k * features, features).CopyTo(best.AsSpan(active[k] * features, features));
        }
        return new Outcome(best, queries, success);
    }

    /// <summary>
    /// The window of side <paramref name="side"/> at (top, left) of every channel moved by +-2 eps (the channel's sign),
    /// clipped to the eps-cube around the image and to the box, as SquareLinf.Propose computes it; the old values go to
    /// <paramref name="saved"/>. Outside the window the tensor engine's clipping leaves the point as it is.
    /// </summary>
    private void Propose(ReadOnlySpan<float> image, Span<float> candidate, Span<float> saved, ReadOnlySpan<float> uniforms, int top, int left, int side)
    {
        float twoEpsilon = 2 * epsilon;
        int next = 0;
        for (int channel = 0; channel < channels; channel++)
        {
            float step = Square.SignOf(uniforms[2 + channel]) * twoEpsilon;
            for (int h = top; h < top + side; h++)
            {
                int start = channel * height * width + h * width + left;
                var values = candidate.Slice(start, side);
                values.CopyTo(saved.Slice(next, side));
                next += side;
                for (int i = 0; i < side; i++)
                {
                    int pixel = start + i;
                    float moved = values[i] + step;
                    float inBall = Math.Min(Math.Max(moved, image[pixel] - epsilon), image[pixel] + epsilon);
                    values[i] = Math.Min(Math.Max(inBall, lower[pixel]), upper[pixel]);
                }
            }
        }
    }

    /// <summary>Puts a rejected window's old values back.</summary>
    private void Restore(Span<float> candidate, ReadOnlySpan<float> saved, int top, int left, int side)
    {
        int next = 0;
        for (int channel = 0; channel < channels; channel++)
        {
            for (int h = top; h < top + side; h++)
            {
                saved.Slice(next, side).CopyTo(candidate.Slice(channel * height * width + h * width + left, side));
                next += side;
            }
        }
    }

    /// <summary>Writes the broken rows' points out and closes the gaps they leave, keeping row order; the new count.</summary>
    private int Compact(float[] candidates, int[] active, int activeCount, bool[] success, float[] best)
    {
        int kept = 0;
        for (int k = 0; k < activeCount; k++)
        {
            int row = active[k];
            var candidate = candidates.AsSpan(k * features, features);
            if (success[row])
            {
                candidate.CopyTo(best.AsSpan(row * features, features));
                continue;
            }
            if (kept != k)
            {
                candidate.CopyTo(candidates.AsSpan(kept * features, features));
                active[kept] = row;
            }
            kept++;
        }
        return kept;
    }

    /// <summary>The criterion's test on one row: the argmax (first of equal maxima, as torch's) is the target, or is not the label.</summary>
    private static bool IsAdversarial(ReadOnlySpan<float> logits, long label, long? target)
    {
        int argmax = 0;
        for (int j = 1; j < logits.Length; j++)
        {
            if (logits[j] > logits[argmax])
            {
                argmax = j;
            }
        }
        return target is { } wanted ? argmax == wanted : argmax != label;
    }

    /// <summary>Criterion.Margin, untargeted: Z_label - max_{j != label} Z_j, in float32.</summary>
    private static float Margin(ReadOnlySpan<float> logits, long label)
    {
        float otherMax = float.NegativeInfinity;
        for (int j = 0; j < logits.Length; j++)
        {
            if (j != label && logits[j] > otherMax)
            {
                otherMax = logits[j];
            }
        }
        return logits[(int)label] - otherMax;
    }

    /// <summary>
    /// The targeted loss, cross-entropy towards the target, taken from libtorch's log_softmax on a reused tensor:
    /// its vectorised exp and summation order are what the tensor engine's losses carry, and acceptance compares losses,
    /// so they must agree to the bit. One op per step, on the targeted path only.
    /// </summary>
    private sealed class TargetedLoss(int rows, int classes) : IDisposable
    {
        private readonly Tensor logits = empty(rows, classes, dtype: ScalarType.Float32);

        /// <summary>Loss of the first <paramref name="count"/> rows of <paramref name="values"/>; row k's target is targets[rowOf[k]].</summary>
        public void Compute(float[] values, int count, long[] targets, float[] loss, int[]? rowOf = null)
        {
            values.AsSpan(0, count * classes).CopyTo(MemoryMarshal.Cast<byte, float>(logits.bytes));
            using var batch = logits.narrow(0, 0, count);
            using var logProbabilities = batch.log_softmax(1);
            var computed = MemoryMarshal.Cast<byte, float>(logProbabilities.bytes);
            for (int k = 0; k < count; k++)
            {
                loss[k] = -computed[k * classes + (int)targets[rowOf is null ? k : rowOf[k]]];
            }
        }

        public void Dispose() => logits.Dispose();
    }
}
