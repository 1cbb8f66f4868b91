using System.Diagnostics;

namespace Intriguing.Cli.Tests;

/// <summary>
/// Every command that writes (<c>--out</c>) or reads a file it is given (<c>--weights</c>, <c>--model PATH</c>) checks the
/// path before any work: a folder whose parent is missing, a folder that cannot be written, a file that is missing or is a
/// folder is exit 2 naming the path, in a moment, with nothing loaded, trained or written (a fresh home stays empty).
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class PathCheckTests : IDisposable
{
    private readonly TemporaryHome home = new("paths");
    private readonly string scratch = Directory.CreateTempSubdirectory("intriguing-paths-").FullName;

    public void Dispose()
    {
        Directory.Delete(scratch, recursive: true);
        home.Dispose();
    }

    public static TheoryData<string[]> CommandsWithOut() => new()
    {
        new[] { "attack", "--model", "fc100-100-10", "--method", "fgsm", "--count", "10" },
        new[] { "units", "--model", "fc100-100-10", "--layer", "hidden1" },
        new[] { "spectral", "--model", "fc100-100-10", "--count", "10" },
        new[] { "spectral", "--arch", "alexnet", "--count", "1" },
        new[] { "transfer", "--sources", "fc10-1e-4", "--targets", "fc10-1e-2", "--count", "10" },
        new[] { "reproduce", "--quick" },
    };

    [Theory]
    [MemberData(nameof(CommandsWithOut))]
    public void An_out_folder_whose_parent_is_missing_is_bad_input_before_any_work(string[] command)
    {
        string target = Path.Combine(scratch, "no-such-parent", "out");

        var run = Timed(command, "--out", target, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.StandardOutput);
        Assert.Contains($"--out {target}", run.StandardError);
        Assert.Contains("does not exist", run.StandardError);
        Assert.False(Directory.Exists(Path.Combine(scratch, "no-such-parent")));
        NothingWasDone();
    }

    [Theory]
    [MemberData(nameof(CommandsWithOut))]
    public void An_out_folder_that_cannot_be_written_is_bad_input_before_any_work(string[] command)
    {
        // /sys takes no new file from anyone, root included (the library's tests also try a read-only folder of their own).
        if (!Directory.Exists("/sys"))
        {
            return;
        }
        string target = "/sys/intriguing-out";

        var run = Timed(command, "--out", target, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"--out {target}", run.StandardError);
        Assert.Contains("cannot write", run.StandardError);
        NothingWasDone();
    }

    [Fact]
    public void Repairing_a_data_folder_that_cannot_be_written_is_bad_input_naming_it()
    {
        if (!Directory.Exists("/sys"))
        {
            return;
        }
        var run = Timed(["data", "fetch"], "--data-dir", "/sys/intriguing-mnist", "--repair", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--data-dir /sys/intriguing-mnist", run.StandardError);
        NothingWasDone();
    }

    [Theory]
    [InlineData("attack", "--method", "fgsm")]
    [InlineData("units")]
    [InlineData("spectral")]
    [InlineData("bench")]
    public void A_model_file_that_is_missing_or_a_folder_is_bad_input_naming_it(params string[] command)
    {
        string missing = Path.Combine(scratch, "missing.safetensors");
        string folder = Path.Combine(scratch, "folder.safetensors");
        Directory.CreateDirectory(folder);

        var notThere = Timed(command, "--model", missing, "--json");
        var notAFile = Timed(command, "--model", folder, "--json");

        Assert.Equal(2, notThere.ExitCode);
        Assert.Contains($"--model {missing}: file not found", notThere.StandardError);
        Assert.Equal(2, notAFile.ExitCode);
        Assert.Contains($"--model {folder}: is a folder", notAFile.StandardError);
        NothingWasDone();
    }

    [Fact]
    public void A_weights_file_that_is_missing_or_a_folder_is_bad_input_naming_it()
    {
        string missing = Path.Combine(scratch, "alexnet.safetensors");

        var notThere = Timed(["spectral", "--arch", "alexnet"], "--weights", missing, "--json");
        var notAFile = Timed(["spectral", "--arch", "alexnet"], "--weights", scratch, "--json");

        Assert.Equal(2, notThere.ExitCode);
        Assert.Contains($"--weights {missing}: file not found", notThere.StandardError);
        Assert.Equal(2, notAFile.ExitCode);
        Assert.Contains($"--weights {scratch}: is a folder", notAFile.StandardError);
    }

    /// <summary>The command run in-process; a check made before any work answers well within a few seconds.</summary>
    private static CliRun Timed(string[] command, params string[] more)
    {
        var clock = Stopwatch.StartNew();
        var run = CliRun.Of([.. command, .. more]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}: the check came after some work");
        return run;
    }

    /// <summary>The fresh home is as it was: no data fetched or model trained.</summary>
    private void NothingWasDone() =>
        Assert.False(Directory.Exists(home.Folder) && Directory.EnumerateFileSystemEntries(home.Folder).Any(),
            $"{home.Folder} was written: work started before the check");
}
