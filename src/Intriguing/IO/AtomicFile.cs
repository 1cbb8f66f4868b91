namespace Intriguing.IO;

/// <summary>
/// Writes files so that a reader never sees half of one: the content goes to a temporary file in the same
/// folder, is flushed to disk, and only then renamed over the target. An interrupted or failed write
/// (a full disk, say) leaves the old file, or none, and no temporary behind.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> writeContent)
    {
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
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

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

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
