namespace Intriguing.Statistics;

/// <summary>
/// The Wilson score interval for a binomial rate (Wilson 1927): better than the normal approximation near 0% and
/// 100%, where transfer, noise and robust error rates live. 95% by default (z = 1.96).
/// </summary>
public static class WilsonInterval
{
    /// <summary>z for a two-sided 95% interval.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>[lower, upper] for <paramref name="successes"/> of <paramref name="trials"/>; [0, 1] when there are no trials.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative counts or more successes than trials.</exception>
    public static double[] Of(int successes, int trials, double z = Z95)
    {
        if (trials < 0 || successes < 0 || successes > trials)
        {
            throw new ArgumentOutOfRangeException(nameof(successes), $"need 0 <= successes <= trials; got {successes} of {trials}");
        }
        if (trials == 0)
        {
            return [0, 1];
        }
        double n = trials;
        double p = successes / n;
        double z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double halfWidth = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return [Math.Max(0, centre - halfWidth), Math.Min(1, centre + halfWidth)];
    }
}
