using Intriguing.IO;

namespace Intriguing.Tests.IO;

public class PathChecksTests
{
    [Fact]
    public void A_folder_that_exists_or_whose_parent_does_passes_and_nothing_is_left_behind()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string fresh = Path.Combine(folder, "out");

        Assert.Equal(folder, PathChecks.WritableFolder(folder, "--out"));
        Assert.Equal(fresh, PathChecks.WritableFolder(fresh + "/", "--out"));

        Assert.False(Directory.Exists(fresh));
        Assert.Empty(Directory.GetFileSystemEntries(folder));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_missing_parent_a_file_in_the_way_or_a_folder_that_refuses_writes_is_bad_input_naming_it()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string missingParent = Path.Combine(folder, "no-such-folder", "out");
        string file = Path.Combine(folder, "a-file");
        File.WriteAllText(file, "");

        Assert.Contains(missingParent, Assert.Throws<BadInputException>(() => PathChecks.WritableFolder(missingParent, "--out")).Message);
        Assert.Contains("does not exist", Assert.Throws<BadInputException>(() => PathChecks.WritableFolder(missingParent, "--out")).Message);
        Assert.Contains("is a file", Assert.Throws<BadInputException>(() => PathChecks.WritableFolder(file, "--out")).Message);
        Assert.Contains("is a file", Assert.Throws<BadInputException>(() => PathChecks.WritableFolder(Path.Combine(file, "out"), "--out")).Message);
        if (!OperatingSystem.IsWindows())
        {
            string unwritable = UnwritableFolder(folder);
            var error = Assert.Throws<BadInputException>(() => PathChecks.WritableFolder(Path.Combine(unwritable, "out"), "--out"));
            Assert.Contains("cannot write", error.Message);
            Assert.StartsWith("--out ", error.Message);
            File.SetUnixFileMode(Path.Combine(folder, "read-only"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_file_to_read_must_exist_and_not_be_a_folder()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string file = Path.Combine(folder, "weights.safetensors");
        File.WriteAllText(file, "x");

        Assert.Equal(file, PathChecks.ReadableFile(file, "--weights"));
        Assert.Contains("file not found", Assert.Throws<BadInputException>(() => PathChecks.ReadableFile(file + ".missing", "--weights")).Message);
        Assert.Contains("is a folder", Assert.Throws<BadInputException>(() => PathChecks.ReadableFile(folder, "--weights")).Message);
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>
    /// A folder this process cannot write in: a read-only one of our own, or, where the user ignores permissions (root),
    /// /sys, which refuses new files even to root.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static string UnwritableFolder(string scratch)
    {
        string readOnly = Path.Combine(scratch, "read-only");
        Directory.CreateDirectory(readOnly);
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            File.WriteAllText(Path.Combine(readOnly, "probe"), "");
            File.Delete(Path.Combine(readOnly, "probe"));
            return "/sys";
        }
        catch (UnauthorizedAccessException)
        {
            return readOnly;
        }
    }
}
