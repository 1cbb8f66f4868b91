using static TorchSharp.torch;

namespace Intriguing.Units;

/// <summary>
/// The K images of the pool that score highest along one direction, best first, with their scores.
/// <paramref name="TiedAtCut"/> says the K-th score equals the (K+1)-th, so which of the tied images made the cut was
/// decided by image index alone; <paramref name="Inactive"/> says the K-th score is the lowest score of the whole pool:
/// fewer than K images lift the direction above its floor (a ReLU unit that is never or almost never active), so part
/// of the selection, or all of it, was picked by index and says nothing about the direction.
/// </summary>
public sealed record TopSelection(int[] Images, float[] Scores, bool TiedAtCut, bool Inactive);

/// <summary>
/// argmax_x &lt;phi(x), v&gt; taken K times (Section 3, Figures 1-4): for every column of a score matrix, the top K
/// rows. Ties are broken by image index (the lower index first), so the selection is a function of the scores alone.
/// </summary>
public static class TopImages
{
    /// <summary>
    /// The top <paramref name="k"/> rows of every column of <paramref name="scores"/> (float32 [pool, directions]).
    /// </summary>
    /// <exception cref="BadInputException">Scores that are not a 2-D float tensor, hold NaN, or a K outside 1..pool.</exception>
    public static TopSelection[] Select(Tensor scores, int k)
    {
        if (scores.dim() != 2 || scores.dtype != ScalarType.Float32)
        {
            throw new BadInputException($"scores must be float32 [pool, directions]; got {scores.dtype} [{string.Join(", ", scores.shape)}]");
        }
        int pool = (int)scores.shape[0];
        int directions = (int)scores.shape[1];
        if (k < 1 || k > pool)
        {
            throw new BadInputException($"top K must be 1..{pool} (the size of the image pool); got {k}");
        }
        float[] values;
        using (var scope = NewDisposeScope())
        {
            values = scores.detach().cpu().contiguous().data<float>().ToArray();
        }
        if (values.Any(float.IsNaN))
        {
            throw new BadInputException("scores hold NaN: the layer's activations are not finite");
        }

        // Keep K+1 so that a tie at the cut can be seen. Rows are visited in index order and a later row displaces a
        // kept one only when strictly better, so among equal scores the lower index stays.
        int kept = Math.Min(k + 1, pool);
        var bestScores = new float[directions * kept];
        var bestRows = new int[directions * kept];
        var filled = new int[directions];
        var minimum = new float[directions];
        Array.Fill(minimum, float.PositiveInfinity);
        for (int row = 0; row < pool; row++)
        {
            int offset = row * directions;
            for (int column = 0; column < directions; column++)
            {
                float score = values[offset + column];
                minimum[column] = Math.Min(minimum[column], score);
                int start = column * kept;
                int count = filled[column];
                if (count == kept && !(score > bestScores[start + kept - 1]))
                {
                    continue;
                }
                int position = count == kept ? kept - 1 : count;
                while (position > 0 && score > bestScores[start + position - 1])
                {
                    bestScores[start + position] = bestScores[start + position - 1];
                    bestRows[start + position] = bestRows[start + position - 1];
                    position--;
                }
                bestScores[start + position] = score;
                bestRows[start + position] = row;
                if (count < kept)
                {
                    filled[column] = count + 1;
                }
            }
        }

        var selections = new TopSelection[directions];
        for (int column = 0; column < directions; column++)
        {
            int start = column * kept;
            bool tied = kept > k && bestScores[start + k - 1] == bestScores[start + k];
            selections[column] = new TopSelection(
                bestRows.AsSpan(start, k).ToArray(),
                bestScores.AsSpan(start, k).ToArray(),
                tied,
                bestScores[start + k - 1] == minimum[column]);
        }
        return selections;
    }
}
