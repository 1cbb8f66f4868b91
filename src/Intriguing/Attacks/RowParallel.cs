namespace Intriguing.Attacks;

/// <summary>Row loops over a batch, split into chunks over up to libtorch's thread count (inline for one thread).</summary>
internal static class RowParallel
{
    /// <summary>Calls <paramref name="body"/>(from, to) for consecutive ranges covering 0..<paramref name="count"/>.</summary>
    public static void For(int count, int threads, Action<int, int> body)
    {
        if (threads <= 1 || count < 64)
        {
            body(0, count);
            return;
        }
        int chunk = Math.Max(16, count / (threads * 8));
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Parallel.For(0, (count + chunk - 1) / chunk, options, index => body(index * chunk, Math.Min(count, (index + 1) * chunk)));
    }
}
