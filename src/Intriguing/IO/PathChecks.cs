namespace Intriguing.IO;

/// <summary>
/// Checks made before any work starts, so that a run never computes for minutes and then finds it cannot read its
/// input or write its output: each failure is a <see cref="BadInputException"/> naming the option and the path.
/// </summary>
public static class PathChecks
{
    /// <summary>
    /// A folder a run will write into: it exists and takes a new file, or it does not exist yet and its parent does and
    /// takes one (the run creates the folder itself, not its parents: a mistyped parent is an error, not a new tree).
    /// Nothing is left behind by the check. Returns the full path.
    /// </summary>
    public static string WritableFolder(string folder, string option)
    {
        string fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (File.Exists(fullPath))
        {
            throw new BadInputException($"{option} {fullPath}: is a file, not a folder");
        }
        if (Directory.Exists(fullPath))
        {
            Probe(fullPath, option, fullPath);
            return fullPath;
        }
        string? parent = Path.GetDirectoryName(fullPath);
        if (parent is null || !Directory.Exists(parent))
        {
            throw new BadInputException(File.Exists(parent)
                ? $"{option} {fullPath}: {parent} is a file, not a folder"
                : $"{option} {fullPath}: its parent folder {parent} does not exist (create it first, or give another folder)");
        }
        Probe(parent, option, fullPath);
        return fullPath;
    }

    /// <summary>A file a run will read: it exists, is not a folder, and opens for reading. Returns the full path.</summary>
    public static string ReadableFile(string path, string option)
    {
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            throw new BadInputException($"{option} {fullPath}: is a folder, not a file");
        }
        if (!File.Exists(fullPath))
        {
            throw new BadInputException($"{option} {fullPath}: file not found");
        }
        try
        {
            using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{option} {fullPath}: cannot be read ({error.Message})", error);
        }
        return fullPath;
    }

    /// <summary>Creates and at once deletes a hidden file in <paramref name="folder"/>: the only test of writing that holds for every user and file system.</summary>
    private static void Probe(string folder, string option, string target)
    {
        string probe = Path.Combine(folder, $".intriguing-write-check.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{option} {target}: cannot write in {folder} ({error.Message})", error);
        }
    }
}
