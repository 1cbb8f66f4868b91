namespace Intriguing.Units;

/// <summary>How large a Cliff's delta is, by the usual thresholds (Romano et al. 2006): 0.147, 0.33, 0.474.</summary>
public enum EffectMagnitude
{
    /// <summary>|delta| &lt; 0.147.</summary>
    Negligible,
    /// <summary>0.147 &lt;= |delta| &lt; 0.33.</summary>
    Small,
    /// <summary>0.33 &lt;= |delta| &lt; 0.474.</summary>
    Medium,
    /// <summary>|delta| &gt;= 0.474.</summary>
    Large,
}

/// <summary>
/// A two-sided Mann-Whitney U test of "sample A and sample B come from the same distribution" with Cliff's delta as
/// its effect size. <see cref="CliffsDelta"/> = P(a &gt; b) - P(a &lt; b) over all pairs: +1 when every A beats
/// every B, 0 when neither side tends to be larger.
/// </summary>
/// <param name="CountA">Size of sample A.</param>
/// <param name="CountB">Size of sample B.</param>
/// <param name="U">U statistic of A (pairs where a &gt; b, ties counted one half).</param>
/// <param name="Z">Normal score of U with the tie correction and a continuity correction of 1/2.</param>
/// <param name="PValue">Two-sided p-value from the normal approximation (1 when both samples are one constant).</param>
/// <param name="CliffsDelta">2U / (nA nB) - 1, in [-1, 1].</param>
public sealed record MannWhitneyResult(int CountA, int CountB, double U, double Z, double PValue, double CliffsDelta)
{
    /// <summary>The size of the effect in words, from |delta|.</summary>
    public EffectMagnitude Magnitude => MannWhitney.MagnitudeOf(CliffsDelta);
}

/// <summary>The Mann-Whitney U test (Wilcoxon rank-sum) and Cliff's delta.</summary>
public static class MannWhitney
{
    /// <summary>Compares <paramref name="sampleA"/> with <paramref name="sampleB"/>; NaNs are refused.</summary>
    /// <exception cref="BadInputException">An empty sample or a NaN value.</exception>
    public static MannWhitneyResult Test(IReadOnlyList<double> sampleA, IReadOnlyList<double> sampleB)
    {
        if (sampleA.Count == 0 || sampleB.Count == 0)
        {
            throw new BadInputException($"Mann-Whitney test needs two non-empty samples; got {sampleA.Count} and {sampleB.Count} values");
        }
        if (sampleA.Any(double.IsNaN) || sampleB.Any(double.IsNaN))
        {
            throw new BadInputException("Mann-Whitney test: a sample holds NaN");
        }
        int countA = sampleA.Count;
        int countB = sampleB.Count;
        int total = countA + countB;
        var pooled = new (double Value, bool FromA)[total];
        for (int index = 0; index < countA; index++)
        {
            pooled[index] = (sampleA[index], true);
        }
        for (int index = 0; index < countB; index++)
        {
            pooled[countA + index] = (sampleB[index], false);
        }
        Array.Sort(pooled, (left, right) => left.Value.CompareTo(right.Value));

        // Mid-ranks for ties; the sum of t^3 - t over tie groups corrects the variance.
        double rankSumA = 0;
        double tieTerm = 0;
        for (int start = 0; start < total;)
        {
            int end = start;
            while (end + 1 < total && pooled[end + 1].Value == pooled[start].Value)
            {
                end++;
            }
            double midRank = (start + end) / 2.0 + 1;
            int ties = end - start + 1;
            tieTerm += (double)ties * ties * ties - ties;
            for (int index = start; index <= end; index++)
            {
                if (pooled[index].FromA)
                {
                    rankSumA += midRank;
                }
            }
            start = end + 1;
        }

        double u = rankSumA - countA * (countA + 1) / 2.0;
        double pairs = (double)countA * countB;
        double mean = pairs / 2;
        double variance = pairs / 12 * (total + 1 - tieTerm / ((double)total * (total - 1)));
        double delta = 2 * u / pairs - 1;
        if (variance <= 0 || total < 2)
        {
            return new MannWhitneyResult(countA, countB, u, 0, 1, delta);
        }
        double difference = u - mean;
        double corrected = Math.Max(Math.Abs(difference) - 0.5, 0);
        double z = Math.Sign(difference) * corrected / Math.Sqrt(variance);
        double p = Math.Min(1, Erfc(Math.Abs(z) / Math.Sqrt(2)));
        return new MannWhitneyResult(countA, countB, u, z, p, delta);
    }

    /// <summary>Romano et al.'s bands for |Cliff's delta|: below 0.147 negligible, 0.33 small, 0.474 medium, else large.</summary>
    public static EffectMagnitude MagnitudeOf(double cliffsDelta) => Math.Abs(cliffsDelta) switch
    {
        < 0.147 => EffectMagnitude.Negligible,
        < 0.33 => EffectMagnitude.Small,
        < 0.474 => EffectMagnitude.Medium,
        _ => EffectMagnitude.Large,
    };

    /// <summary>
    /// The complementary error function by the Chebyshev fit of Numerical Recipes (erfcc): relative error below
    /// 1.2e-7 for every x, so that very small p-values keep their leading digits.
    /// </summary>
    internal static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double polynomial = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double value = t * Math.Exp(-z * z + polynomial);
        return x >= 0 ? value : 2 - value;
    }
}
