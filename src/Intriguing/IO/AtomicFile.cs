namespace Intriguing.IO;

/// <summary>
/// Writes files so that a reader never sees half of one: the content goes to a temporary file in the same
/// folder (<c>.&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.tmp</c>, held exclusively while it is written), is flushed to disk,
/// and only then renamed over the target. A failed write (a full disk, say) leaves the old file, or none, and no
/// temporary behind. A process killed mid-write (kill -9, a power cut) cannot clean up: its temporary is removed by the
/// next write of the same file, once its process is gone and nobody holds it.
/// </summary>
public static class AtomicFile
{
    /// <summary>The ending of every temporary this class writes (a leftover one is never read as the file).</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>
    /// Writes <paramref name="path"/> (its folder created if missing) with what <paramref name="writeContent"/> writes
    /// to the stream it is given, atomically: a temporary, flushed to disk, then renamed over the target.
    /// </summary>
    /// <exception cref="IOException">The write failed (a full disk is named as such); the old file, if any, is left as it was.</exception>
    public static void Write(string path, Action<Stream> writeContent)
    {
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        Directory.CreateDirectory(folder);
        RemoveStaleTemporaries(folder, Path.GetFileName(fullPath));
        string temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                writeContent(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch (IOException error) when (IsDiskFull(error))
        {
            TryDelete(temporary);
            throw new IOException($"could not write {fullPath}: the disk is full (nothing was left half-written)", error);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically (see <see cref="Write"/>).</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> as UTF-8 without a byte-order mark, atomically (see <see cref="Write"/>).</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            writer.Write(text);
        });

    /// <summary>Copies a finished file into place atomically (used for downloads that were verified first).</summary>
    public static void CopyInto(string sourcePath, string path) =>
        Write(path, stream =>
        {
            using var source = File.OpenRead(sourcePath);
            source.CopyTo(stream);
        });

    /// <summary>
    /// Deletes the temporaries of <paramref name="fileName"/> that a dead process left: the process named in the
    /// temporary's name is not running here, and no process holds the file (so a live writer in another container that
    /// shares the folder keeps its own).
    /// </summary>
    private static void RemoveStaleTemporaries(string folder, string fileName)
    {
        string prefix = $".{fileName}.";
        foreach (string temporary in Directory.EnumerateFiles(folder, $"{prefix}*{TemporarySuffix}"))
        {
            string middle = Path.GetFileName(temporary)[prefix.Length..^TemporarySuffix.Length];
            int dot = middle.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && int.TryParse(middle[..dot], out int processId) && !IsRunning(processId) && !IsHeld(temporary))
            {
                TryDelete(temporary);
            }
        }
    }

    private static bool IsRunning(int processId)
    {
        if (processId == Environment.ProcessId)
        {
            return true;
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static bool IsHeld(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static bool IsDiskFull(IOException error)
    {
        const int EnospcLinux = 28;
        const int DiskFullWindows = unchecked((int)0x80070070);
        return error.HResult == EnospcLinux || error.HResult == DiskFullWindows
            || error.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The temporary is hidden and uniquely named; a leftover is harmless and never read.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
