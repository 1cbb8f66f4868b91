namespace Intriguing.Statistics;

/// <summary>
/// Holm's step-down correction for a family of m tests (Holm 1979): sort the p-values, compare the j-th smallest with
/// alpha / (m - j + 1), and stop at the first that fails. It controls the chance of any false positive in the family
/// at alpha, like Bonferroni, and never rejects less.
/// </summary>
public static class Holm
{
    /// <summary>
    /// Holm-adjusted p-values, in the order given: the j-th smallest becomes max over i &lt;= j of min(1, (m - i + 1) p_(i)).
    /// A test is rejected at level alpha when its adjusted p-value is below alpha.
    /// </summary>
    /// <exception cref="ArgumentException">A p-value that is NaN or outside [0, 1].</exception>
    public static double[] Adjust(IReadOnlyList<double> pValues)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        int count = pValues.Count;
        for (int index = 0; index < count; index++)
        {
            if (!(pValues[index] >= 0 && pValues[index] <= 1))
            {
                throw new ArgumentException($"p-value {index} is {pValues[index]}; expected a number in [0, 1]", nameof(pValues));
            }
        }
        // Stable order, so equal p-values keep their input order and the result does not depend on the sort.
        int[] order = [.. Enumerable.Range(0, count).OrderBy(index => pValues[index])];
        var adjusted = new double[count];
        double running = 0;
        for (int rank = 0; rank < count; rank++)
        {
            running = Math.Max(running, Math.Min(1, (count - rank) * pValues[order[rank]]));
            adjusted[order[rank]] = running;
        }
        return adjusted;
    }

    /// <summary>Which tests Holm rejects at <paramref name="alpha"/> (adjusted p &lt; alpha), in the order given.</summary>
    public static bool[] Reject(IReadOnlyList<double> pValues, double alpha) => [.. Adjust(pValues).Select(adjusted => adjusted < alpha)];
}
