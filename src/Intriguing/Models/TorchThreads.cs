using TorchSharp;

namespace Intriguing.Models;

/// <summary>
/// Limits torch's intra-op threads for a block and restores the previous count when disposed.
/// Training and evaluating the zoo's small models use one thread: mini-batches of 100 gain little from more, and
/// on a machine whose cores are shared, OpenMP threads waiting for each other made 3 epochs of fc10 take 102.8 s
/// instead of 6.6 s (same weights either way; docs/training.md).
/// </summary>
public sealed class TorchThreads : IDisposable
{
    private readonly int previous;

    private TorchThreads(int threads)
    {
        previous = torch.get_num_threads();
        if (previous != threads)
        {
            torch.set_num_threads(threads);
        }
    }

    /// <summary>At most <paramref name="threads"/> intra-op threads (default 1, at least 1) until the result is disposed.</summary>
    public static TorchThreads Limit(int threads = 1) => new(Math.Max(1, threads));

    /// <summary>Restores the thread count from before.</summary>
    public void Dispose()
    {
        if (torch.get_num_threads() != previous)
        {
            torch.set_num_threads(previous);
        }
    }
}
