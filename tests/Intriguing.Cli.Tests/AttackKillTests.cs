using System.Security.Cryptography;

namespace Intriguing.Cli.Tests;

/// <summary>
/// A real <c>intriguing attack --method lbfgs</c> child process killed (SIGKILL) during the attack and again while it
/// writes its examples: no half file is left for anyone to trust, and the rerun finishes with the very numbers and files
/// of an uninterrupted run of the same seed, leaving no temporary behind.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class AttackKillTests(RealMnist mnist) : IDisposable
{
    private readonly TemporaryHome home = new("attack-kill");

    public void Dispose() => home.Dispose();

    [Fact]
    public void An_attack_killed_midway_and_while_writing_reruns_to_the_uninterrupted_numbers_and_files()
    {
        Directory.CreateDirectory(home.Folder);
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, home.Folder);
        string killed = Path.Combine(home.Folder, "killed");
        string straight = Path.Combine(home.Folder, "straight");
        string[] Attack(string outDir) =>
            ["attack", "--model", model, "--method", "lbfgs", "--count", "600", "--batch", "50", "--threads", "1", "--seed", "3",
             "--data-dir", mnist.Folder, "--out", outDir, "--json"];

        // During the attack: after its first batch, nothing is on disk yet.
        using (var child = CliProcess.Start(home.Folder, Attack(killed)))
        {
            Assert.True(child.WaitForStandardError("progress: attack lbfgs", TimeSpan.FromMinutes(2)), child.StandardError);
            child.Kill();
        }
        Assert.False(Directory.Exists(killed), "the killed attack wrote before it finished");

        // While writing the examples (one PNG per image, 600 in all; killed after the first 20): whatever files are there
        // are whole (checked against the finished run below).
        string pngs = Path.Combine(killed, "png");
        using (var child = CliProcess.Start(home.Folder, Attack(killed)))
        {
            Assert.True(child.WaitFor(() => Directory.Exists(pngs) && Directory.GetFiles(pngs).Length >= 20, TimeSpan.FromMinutes(2)), child.StandardError);
            child.Kill();
        }
        var leftByTheKill = Files(killed);

        var rerun = CliProcess.Run(home.Folder, Attack(killed));
        // The uninterrupted run in-process: with one thread, as the children, its numbers are theirs to the last bit.
        var uninterrupted = CliRun.Of(Attack(straight));

        Assert.True(rerun.ExitCode == 0, rerun.StandardError);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.StandardError);
        foreach (string field in new[] { "successRate", "meanDistortion", "medianDistortion", "meanLinf", "successes", "errorRate", "gradientEvaluations", "eightBitSurvival" })
        {
            Assert.Equal(uninterrupted.Json().GetProperty(field).GetRawText(), rerun.Json().GetProperty(field).GetRawText());
        }
        var expected = Files(straight);
        Assert.Equal(expected, Files(killed));
        Assert.All(leftByTheKill, file => Assert.Equal(expected[file.Key], file.Value));
        Assert.Empty(CliProcess.Temporaries(home.Folder));
    }

    /// <summary>Every file under <paramref name="folder"/> (temporaries aside), by relative path, with its SHA-256.</summary>
    private static SortedDictionary<string, string> Files(string folder) =>
        new(Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Where(path => !path.EndsWith(Intriguing.IO.AtomicFile.TemporarySuffix, StringComparison.Ordinal))
            .ToDictionary(path => Path.GetRelativePath(folder, path), path => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))),
            StringComparer.Ordinal);
}
