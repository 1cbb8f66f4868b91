namespace Intriguing.Statistics;

/// <summary>
/// How two conditions measured on the same items disagree: <see cref="FirstOnly"/> items the first condition got (an
/// image its adversarial example fooled) that the second did not (its noise did not), <see cref="SecondOnly"/> the
/// reverse, of <see cref="Items"/> pairs. Only these discordant pairs carry information about which condition is
/// stronger; <see cref="PValue"/> is McNemar's exact test on them.
/// </summary>
public sealed record PairedCounts(int Items, int FirstOnly, int SecondOnly)
{
    /// <summary>McNemar's exact two-sided p-value (<see cref="McNemar.ExactPValue"/>).</summary>
    public double PValue => McNemar.ExactPValue(FirstOnly, SecondOnly);

    /// <summary>[first only, second only], the form the JSON keeps.</summary>
    public int[] Discordant => [FirstOnly, SecondOnly];
}

/// <summary>
/// McNemar's test for paired binary outcomes (McNemar 1947), exact form: under "both conditions succeed equally often"
/// each discordant pair falls on either side with probability 1/2, so the smaller side of b + c discordant pairs is
/// tested with the two-sided exact binomial test. No normal approximation, so it is valid for a handful of pairs.
/// </summary>
public static class McNemar
{
    /// <summary>The discordant pairs of two outcome lists over the same items, item i of one paired with item i of the other.</summary>
    /// <exception cref="ArgumentException">Lists of different lengths.</exception>
    public static PairedCounts Count(IReadOnlyList<bool> first, IReadOnlyList<bool> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Count != second.Count)
        {
            throw new ArgumentException($"paired outcomes need one per item on both sides; got {first.Count} and {second.Count}", nameof(second));
        }
        int firstOnly = 0, secondOnly = 0;
        for (int item = 0; item < first.Count; item++)
        {
            firstOnly += first[item] && !second[item] ? 1 : 0;
            secondOnly += second[item] && !first[item] ? 1 : 0;
        }
        return new PairedCounts(first.Count, firstOnly, secondOnly);
    }

    /// <summary>
    /// Two-sided exact p-value for <paramref name="firstOnly"/> and <paramref name="secondOnly"/> discordant pairs:
    /// 2 P(X &lt;= min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1 (1 when there is no discordant pair).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public static double ExactPValue(int firstOnly, int secondOnly)
    {
        if (firstOnly < 0 || secondOnly < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(firstOnly), $"discordant counts must be >= 0; got {firstOnly} and {secondOnly}");
        }
        return BinomialTest.TwoSidedHalf(Math.Min(firstOnly, secondOnly), firstOnly + secondOnly);
    }
}

/// <summary>The exact binomial test against a rate of one half (the sign test; McNemar's exact test on discordant pairs).</summary>
public static class BinomialTest
{
    /// <summary>
    /// Two-sided p-value of <paramref name="successes"/> in <paramref name="trials"/> under p = 1/2: twice the tail on the
    /// observed side, capped at 1. The distribution is symmetric, so this equals the sum of every outcome no more likely
    /// than the one observed. Summed in log space, so thousands of trials neither overflow nor lose the tail.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative counts or more successes than trials.</exception>
    public static double TwoSidedHalf(int successes, int trials)
    {
        if (trials < 0 || successes < 0 || successes > trials)
        {
            throw new ArgumentOutOfRangeException(nameof(successes), $"need 0 <= successes <= trials; got {successes} of {trials}");
        }
        int tail = Math.Min(successes, trials - successes);
        if (2 * tail >= trials)
        {
            return 1; // the observed count is the centre: nothing is less likely on either side's account
        }
        // log P(X = i) = log C(n, i) - n log 2, built up term by term; P(X = i) grows with i up to n/2, so the last term is the largest.
        var logTerms = new double[tail + 1];
        logTerms[0] = -trials * Math.Log(2);
        for (int i = 0; i < tail; i++)
        {
            logTerms[i + 1] = logTerms[i] + Math.Log(trials - i) - Math.Log(i + 1);
        }
        double largest = logTerms[tail];
        double sum = 0;
        foreach (double logTerm in logTerms)
        {
            sum += Math.Exp(logTerm - largest);
        }
        return Math.Min(1, 2 * Math.Exp(largest + Math.Log(sum)));
    }
}
