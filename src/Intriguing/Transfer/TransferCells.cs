namespace Intriguing.Transfer;

/// <summary>
/// One measured rate per target model: the fraction of <see cref="Counts"/> points each target misclassified
/// (<see cref="Errors"/>), how many that is (<see cref="Fooled"/>), and its 95% Wilson interval. Keyed by target name,
/// in the order the targets were given.
/// </summary>
public sealed record TransferCells(
    IReadOnlyDictionary<string, double> Errors,
    IReadOnlyDictionary<string, double[]> Intervals,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyDictionary<string, int> Fooled)
{
    /// <summary>Cells from per-target (misclassified, of) counts.</summary>
    public static TransferCells From(IEnumerable<(string Target, int Wrong, int Count)> counts)
    {
        var errors = new Dictionary<string, double>();
        var intervals = new Dictionary<string, double[]>();
        var totals = new Dictionary<string, int>();
        var fooled = new Dictionary<string, int>();
        foreach (var (target, wrong, count) in counts)
        {
            errors[target] = count == 0 ? 0 : (double)wrong / count; // no points: 0 with the interval [0, 1]
            intervals[target] = WilsonInterval.Of(wrong, count);
            totals[target] = count;
            fooled[target] = wrong;
        }
        return new TransferCells(errors, intervals, totals, fooled);
    }
}
