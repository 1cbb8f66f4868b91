using System.Diagnostics;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// A real <c>intriguing train</c> child process killed (SIGKILL) during training on real MNIST: the rerun continues from
/// the last finished epoch, ends with weights identical to an uninterrupted run of the same seed, and leaves neither a
/// checkpoint nor a temporary file behind.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class TrainKillTests : IDisposable
{
    // An epoch of fc100-100-10 takes about 0.2 s here: enough of them that the kill lands during training.
    private const int Epochs = 12;
    private readonly TemporaryHome home = new("train-kill");
    private readonly string mnist;

    public TrainKillTests(RealMnist realMnist)
    {
        mnist = realMnist.Folder;
        set_num_threads(1);
    }

    public void Dispose() => home.Dispose();

    [Fact]
    public void Training_killed_after_an_epoch_continues_from_it_and_ends_with_the_uninterrupted_weights()
    {
        string[] train = ["train", "--model", "fc100-100-10", "--epochs", $"{Epochs}", "--data-dir", mnist, "--json"];
        string killedHome = Path.Combine(home.Folder, "killed");
        string checkpoint = Path.Combine(killedHome, "models", $"fc100-100-10-train-s0-e{Epochs}.safetensors.checkpoint");

        using (var child = StartCli(killedHome, train))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !child.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                Thread.Sleep(5);
            }
            // Read only once it has ended: reading the stream of a running child would wait for its end.
            Assert.False(child.HasExited && child.WaitForExit(0), "the training ended before the test could kill it: " + (child.HasExited ? child.StandardError.ReadToEnd() : ""));
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        Assert.True(File.Exists(checkpoint), "the kill came too late: " + string.Join(", ", Directory.GetFiles(killedHome, "*", SearchOption.AllDirectories)));

        Environment.SetEnvironmentVariable(IntriguingHome.EnvironmentVariable, killedHome);
        var resumed = CliRun.Of(train);
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        int resumedFrom = resumed.Json().GetProperty("resumedFromEpoch").GetInt32();
        Assert.InRange(resumedFrom, 1, Epochs - 1);

        string straightHome = Path.Combine(home.Folder, "straight");
        Environment.SetEnvironmentVariable(IntriguingHome.EnvironmentVariable, straightHome);
        var straight = CliRun.Of(train);
        Assert.True(straight.ExitCode == 0, straight.StandardError);
        Assert.Equal(0, straight.Json().GetProperty("resumedFromEpoch").GetInt32());

        Assert.Equal(
            TensorBytes(straight.Json().GetProperty("path").GetString()!),
            TensorBytes(resumed.Json().GetProperty("path").GetString()!));
        Assert.Equal(straight.Json().GetProperty("testError").GetDouble(), resumed.Json().GetProperty("testError").GetDouble());
        Assert.False(File.Exists(checkpoint), "the checkpoint outlived the finished model");
        Assert.Empty(Directory.GetFiles(killedHome, "*.tmp", SearchOption.AllDirectories));
    }

    /// <summary>A safetensors file's tensor data: what follows its header (which holds a training id of its own).</summary>
    private static byte[] TensorBytes(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(file, 0);
        return file[(int)(8 + headerLength)..];
    }

    /// <summary>The command line as a child process of its own (the built Intriguing.Cli.dll next to the tests).</summary>
    private static Process StartCli(string intriguingHome, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Intriguing.Cli.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment[IntriguingHome.EnvironmentVariable] = intriguingHome;
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the command line");
    }
}
