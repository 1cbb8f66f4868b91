using System.Globalization;

namespace Intriguing.Sharding;

/// <summary>
/// One part of a run split over <see cref="Count"/> processes: shard <see cref="Index"/> (0-based) owns a contiguous
/// range of the run's images (<see cref="Range(int)"/>), so a Slurm array task or a Kubernetes Indexed Job pod computes its
/// part from its index alone, and the parts together cover every image exactly once.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    /// <summary>The whole run, unsplit (shard 0 of 1).</summary>
    public static Shard Whole { get; } = new(0, 1);

    /// <summary>True when the run is split (more than one shard).</summary>
    public bool IsSplit => Count > 1;

    /// <summary>Reads "i/n" (0 &lt;= i &lt; n, n at most 10,000).</summary>
    /// <exception cref="BadInputException">Anything else, naming <paramref name="option"/>.</exception>
    public static Shard Parse(string text, string option = "--shard")
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && count <= 10_000 && index < count)
        {
            return new Shard(index, count);
        }
        throw new BadInputException($"{option}: expected i/n with 0 <= i < n <= 10000 (shard i of n, counted from 0), e.g. 0/4; got '{text}'");
    }

    /// <summary>
    /// The images of a run of <paramref name="total"/> this shard owns: [total i / n, total (i + 1) / n), so shards
    /// differ in size by at most one image and an image's shard depends only on i, n and the total.
    /// </summary>
    public (int Start, int Length) Range(int total) => Range(total, 1);

    /// <summary>
    /// The images this shard owns when the run is cut into whole blocks of <paramref name="block"/> images (the last one
    /// possibly shorter): shard i takes blocks [b i / n, b (i + 1) / n) of the b blocks. An attack whose rows interact
    /// through their batch (the same matrix product computed for 8 rows or for 2 can differ in the last bit) is split at
    /// its batch boundaries this way, so every image is computed in the same batch as in one unsplit run.
    /// </summary>
    public (int Start, int Length) Range(int total, int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        long blocks = ((long)total + block - 1) / block;
        int start = (int)Math.Min(total, blocks * Index / Count * block);
        int end = (int)Math.Min(total, blocks * (Index + 1) / Count * block);
        return (start, end - start);
    }

    /// <summary>"i/n".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
