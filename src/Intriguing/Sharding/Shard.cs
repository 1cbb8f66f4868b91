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
    public (int Start, int Length) Range(int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        int start = (int)((long)total * Index / Count);
        int end = (int)((long)total * (Index + 1) / Count);
        return (start, end - start);
    }

    /// <summary>
    /// The images of a run of <paramref name="total"/> this shard owns when the run is computed in batches of
    /// <paramref name="block"/> images from the first: whole batches, [block b, block (b + 1)) for the batches b this
    /// shard owns of the run's ceil(total / block) (split as <see cref="Range(int)"/> splits images), the last batch
    /// cut at <paramref name="total"/>. A shard then computes every image in the very batch an unsplit run computes it
    /// in: a matrix product's float result for one row can differ in its last bits with the other rows beside it (BLAS
    /// kernels treat a batch's tail rows apart), so only the same batches give the same numbers.
    /// </summary>
    public (int Start, int Length) Range(int total, int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        int blocks = (int)(((long)total + block - 1) / block);
        var (first, count) = Range(blocks);
        int start = (int)Math.Min((long)first * block, total);
        int end = (int)Math.Min((long)(first + count) * block, total);
        return (start, end - start);
    }

    /// <summary>"i/n".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
