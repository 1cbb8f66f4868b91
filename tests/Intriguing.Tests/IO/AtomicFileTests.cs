using Intriguing.IO;

namespace Intriguing.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void A_write_that_fails_halfway_leaves_the_old_file_and_no_temporary()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string path = Path.Combine(folder, "model.safetensors");
        AtomicFile.WriteAllText(path, "old");

        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException("No space left on device");
        }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_full_disk_is_reported_as_such()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        var error = Assert.Throws<IOException>(() => AtomicFile.Write(Path.Combine(folder, "report.json"), _ => throw new IOException("No space left on device")));
        Assert.Contains("disk is full", error.Message);
        Assert.Empty(Directory.GetFiles(folder));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Writes_create_the_folder_and_replace_content()
    {
        string folder = Path.Combine(Data.IdxFiles.TemporaryFolder(), "nested");
        string path = Path.Combine(folder, "a.bin");
        AtomicFile.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        AtomicFile.WriteAllBytes(path, new byte[] { 4 });
        Assert.Equal(new byte[] { 4 }, File.ReadAllBytes(path));
    }

    [Fact]
    public void The_next_write_removes_the_temporary_a_killed_writer_left_and_keeps_a_live_ones()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string path = Path.Combine(folder, "report.json");
        using var finished = System.Diagnostics.Process.Start("true")!;
        finished.WaitForExit();
        string deadWriters = Path.Combine(folder, $".report.json.{finished.Id}.{Guid.NewGuid():N}{AtomicFile.TemporarySuffix}");
        string liveWriters = Path.Combine(folder, $".report.json.{Environment.ProcessId}.{Guid.NewGuid():N}{AtomicFile.TemporarySuffix}");
        string otherFiles = Path.Combine(folder, $".figure.png.{finished.Id}.{Guid.NewGuid():N}{AtomicFile.TemporarySuffix}");
        foreach (string temporary in new[] { deadWriters, liveWriters, otherFiles })
        {
            File.WriteAllText(temporary, "half");
        }

        AtomicFile.WriteAllText(path, "{}");

        Assert.False(File.Exists(deadWriters));
        Assert.True(File.Exists(liveWriters));
        Assert.True(File.Exists(otherFiles));
        Assert.Equal("{}", File.ReadAllText(path));
        Directory.Delete(folder, recursive: true);
    }
}
