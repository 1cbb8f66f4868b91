namespace Intriguing.Attacks;

/// <summary>
/// The key of each row's random streams (<see cref="RowRandom"/>): the row's index among all the images of the
/// caller's run. By default the rows of a batch are numbered on from the batch's first index; a caller that attacks a
/// subset (the cascade, which attacks only the images still robust, or one shard of a split run) gives each row its
/// image's own index instead, so an image draws the same numbers however the work is split.
/// </summary>
public readonly struct RowKeys : IEquatable<RowKeys>
{
    private readonly long first;
    private readonly long[]? keys;
    private readonly int offset;

    private RowKeys(long first, long[]? keys, int offset)
    {
        this.first = first;
        this.keys = keys;
        this.offset = offset;
    }

    /// <summary>Rows numbered <paramref name="first"/>, <paramref name="first"/> + 1, ...</summary>
    public static RowKeys From(long first) => new(first, null, 0);

    /// <summary>Row i keyed on <paramref name="keys"/>[i] (the array is kept, not copied: do not change it while in use).</summary>
    public static RowKeys Of(long[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return new(0, keys, 0);
    }

    /// <summary>The key of row <paramref name="row"/>.</summary>
    public long this[long row] => keys is null ? first + row : keys[offset + row];

    /// <summary>The keys of the rows from <paramref name="start"/> on.</summary>
    public RowKeys Skip(long start) => keys is null ? new(first + start, null, 0) : new(0, keys, checked(offset + (int)start));

    /// <inheritdoc/>
    public bool Equals(RowKeys other) => first == other.first && ReferenceEquals(keys, other.keys) && offset == other.offset;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is RowKeys other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(first, keys, offset);

    /// <summary>Equal when both number the same rows the same way.</summary>
    public static bool operator ==(RowKeys left, RowKeys right) => left.Equals(right);

    /// <summary>Not equal.</summary>
    public static bool operator !=(RowKeys left, RowKeys right) => !left.Equals(right);
}
