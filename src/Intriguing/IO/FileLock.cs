using System.Diagnostics;

namespace Intriguing.IO;

/// <summary>
/// An exclusive lock shared by processes (and by threads of one process): a lock file opened with
/// <see cref="FileShare.None"/> (an advisory <c>flock</c> on Unix, a sharing lock on Windows), held until disposed.
/// The operating system drops the lock when its holder dies, even by <c>kill -9</c>, so a crashed run never blocks the
/// next one. The lock file itself stays (empty, hidden): deleting it on release would let a waiter lock a file that is
/// no longer on the path while a newcomer locks a new one. A lock is not re-entrant: a thread that asks again for a lock
/// its own process holds waits for itself. On a file system without locks (some network shares) it does not exclude.
/// </summary>
public sealed class FileLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly FileStream stream;

    private FileLock(FileStream stream, string path, bool waited)
    {
        this.stream = stream;
        Path = path;
        Waited = waited;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>True when another holder had the lock and this one waited for it (the work may be done by now).</summary>
    public bool Waited { get; }

    /// <summary>The hidden lock file that guards <paramref name="file"/>: <c>.&lt;name&gt;.lock</c> in the same folder.</summary>
    public static string PathFor(string file)
    {
        string fullPath = System.IO.Path.GetFullPath(file);
        return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(fullPath) ?? ".", $".{System.IO.Path.GetFileName(fullPath)}.lock");
    }

    /// <summary>
    /// Takes the lock at <paramref name="path"/>, waiting while another process (or thread) holds it. The first wait is
    /// reported as a warning on <paramref name="progress"/> naming the lock file and <paramref name="work"/> (what the
    /// holder is doing), so a run that waits does not look stuck; with <paramref name="expected"/> (a wait that is part of
    /// the plan, such as for a helper process) it is plain progress instead. Without <paramref name="timeout"/> it waits
    /// as long as the holder lives.
    /// </summary>
    /// <exception cref="IOException">The lock was still held after <paramref name="timeout"/>, or the file cannot be opened.</exception>
    public static FileLock Acquire(string path, string work, IProgress<ProgressUpdate>? progress = null, TimeSpan? timeout = null, bool expected = false)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(fullPath) ?? ".");
        var waited = Stopwatch.StartNew();
        bool reported = false;
        while (true)
        {
            var stream = TryOpen(fullPath);
            if (stream is not null)
            {
                if (reported && expected)
                {
                    progress?.Report(new ProgressUpdate(WaitTask(fullPath), 1, 1, $"waited {waited.Elapsed.TotalSeconds:0} s"));
                }
                return new FileLock(stream, fullPath, reported);
            }
            if (timeout is TimeSpan limit && waited.Elapsed >= limit)
            {
                throw new IOException($"{fullPath}: another process has been {work} for longer than {limit.TotalMinutes:0.#} minutes; " +
                    "if no other run is alive, the lock is free and this is a file-system problem");
            }
            if (!reported)
            {
                string message = $"{fullPath}: another process is {work}; waiting for it to finish";
                progress?.Report(expected ? new ProgressUpdate(WaitTask(fullPath), 0, 1, message) : ProgressUpdate.Warning(WaitTask(fullPath), message));
                reported = true;
            }
            Thread.Sleep(PollInterval);
        }
    }

    private static string WaitTask(string fullPath) => $"wait for {System.IO.Path.GetFileName(fullPath)}";

    /// <summary>Takes the lock if it is free; null when another holder has it.</summary>
    public static FileLock? TryAcquire(string path)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(fullPath) ?? ".");
        var stream = TryOpen(fullPath);
        return stream is null ? null : new FileLock(stream, fullPath, waited: false);
    }

    /// <summary>Releases the lock; the lock file stays.</summary>
    public void Dispose() => stream.Dispose();

    private static FileStream? TryOpen(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException error) when (IsHeldElsewhere(error, path))
        {
            return null;
        }
    }

    /// <summary>
    /// A sharing violation: EWOULDBLOCK from <c>flock</c> on Unix (11 on Linux, 35 on macOS), ERROR_SHARING_VIOLATION or
    /// ERROR_LOCK_VIOLATION on Windows. Any other error (a read-only folder, a full disk) is not a lock and goes on.
    /// </summary>
    private static bool IsHeldElsewhere(IOException error, string path)
    {
        const int SharingViolation = unchecked((int)0x80070020);
        const int LockViolation = unchecked((int)0x80070021);
        int code = error.HResult;
        return code is SharingViolation or LockViolation
            || (!OperatingSystem.IsWindows() && (code == 11 || code == 35) && File.Exists(path));
    }
}
