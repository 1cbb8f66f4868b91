using Intriguing.Statistics;

namespace Intriguing.Transfer;

/// <summary>
/// One measured rate per target model: the fraction of <see cref="Counts"/> points each target misclassified
/// (<see cref="Errors"/>), how many that is (<see cref="Fooled"/>), and its 95% Wilson interval. Keyed by target name,
/// in the order the targets were given. <see cref="Outcomes"/> keeps, per target, which points it misclassified (in
/// the order of the points), so that two measurements on the same images can be compared pair by pair.
/// </summary>
public sealed record TransferCells(
    IReadOnlyDictionary<string, double> Errors,
    IReadOnlyDictionary<string, double[]> Intervals,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyDictionary<string, int> Fooled)
{
    /// <summary>Per target, per point: misclassified? Empty when the cells were built from counts alone.</summary>
    public IReadOnlyDictionary<string, bool[]> Outcomes { get; init; } = new Dictionary<string, bool[]>();

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

    /// <summary>Cells from per-target, per-point outcomes (true: the target misclassified that point), which they keep.</summary>
    public static TransferCells FromOutcomes(IEnumerable<(string Target, bool[] Wrong)> outcomes)
    {
        var kept = outcomes.ToList();
        return From(kept.Select(item => (item.Target, item.Wrong.Count(wrong => wrong), item.Wrong.Length))) with
        {
            Outcomes = kept.ToDictionary(item => item.Target, item => item.Wrong),
        };
    }

    /// <summary>
    /// Per target, these cells against <paramref name="other"/> on the same images: point i here is paired with point
    /// <paramref name="otherIndices"/>[i] there (or point i, when null). First = these cells, second = the other.
    /// </summary>
    /// <exception cref="ArgumentException">A target without outcomes on either side, or points that do not pair up.</exception>
    public IReadOnlyDictionary<string, PairedCounts> PairedWith(TransferCells other, IReadOnlyList<long>? otherIndices = null)
    {
        ArgumentNullException.ThrowIfNull(other);
        var paired = new Dictionary<string, PairedCounts>();
        foreach (var (target, mine) in Outcomes)
        {
            if (!other.Outcomes.TryGetValue(target, out bool[]? theirs))
            {
                throw new ArgumentException($"no outcomes of target '{target}' to pair with", nameof(other));
            }
            paired[target] = McNemar.Count(mine, otherIndices is null ? theirs : [.. otherIndices.Select(index => theirs[index])]);
        }
        return paired;
    }

    /// <summary>Each target's McNemar p-value from paired counts (<see cref="PairedWith"/>).</summary>
    public static Dictionary<string, double> PValuesOf(IReadOnlyDictionary<string, PairedCounts> paired) =>
        paired.ToDictionary(cell => cell.Key, cell => cell.Value.PValue);

    /// <summary>Each target's [first only, second only] from paired counts, the form the JSON keeps.</summary>
    public static Dictionary<string, int[]> DiscordantOf(IReadOnlyDictionary<string, PairedCounts> paired) =>
        paired.ToDictionary(cell => cell.Key, cell => cell.Value.Discordant);
}
