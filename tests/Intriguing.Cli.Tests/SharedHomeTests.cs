using Intriguing.Models;

namespace Intriguing.Cli.Tests;

/// <summary>
/// Two real <c>intriguing train</c> processes started together on one <c>$INTRIGUING_HOME</c> (real MNIST): they take
/// turns on the model's lock, one trains, the other waits and reports the model the first wrote instead of training it
/// again, and the file on disk verifies (its SHA-256 matches its sidecar).
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class SharedHomeTests(RealMnist mnist) : IDisposable
{
    private readonly TemporaryHome home = new("shared");

    public void Dispose() => home.Dispose();

    [Fact]
    public void Two_train_runs_at_once_train_the_model_once_and_the_other_reuses_the_verified_file()
    {
        string[] train = ["train", "--model", "fc10-1e-4", "--epochs", "2", "--data-dir", mnist.Folder, "--json"];

        CliRun[] runs;
        using (var first = CliProcess.Start(home.Folder, train))
        using (var second = CliProcess.Start(home.Folder, train))
        {
            runs = [first.WaitForExit(TimeSpan.FromMinutes(3)), second.WaitForExit(TimeSpan.FromMinutes(3))];
        }

        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.StandardError));
        var reused = runs.Select(run => run.Json().GetProperty("reused").GetBoolean()).ToList();
        Assert.Equal(1, reused.Count(value => value));
        var trainer = runs[reused.IndexOf(false)].Json();
        var reuser = runs[reused.IndexOf(true)].Json();
        string path = trainer.GetProperty("path").GetString()!;
        Assert.Equal(path, reuser.GetProperty("path").GetString());
        Assert.Equal(trainer.GetProperty("testError").GetDouble(), reuser.GetProperty("testError").GetDouble());
        Assert.Equal(trainer.GetProperty("seconds").GetDouble(), reuser.GetProperty("seconds").GetDouble());

        // The file verifies: loading checks its bytes against the SHA-256 in its sidecar.
        var warnings = new List<ProgressUpdate>();
        using (var loaded = ModelStore.Load(path, new Progress(warnings)))
        {
            Assert.Equal(trainer.GetProperty("testError").GetDouble(), loaded.Report.TestError);
        }
        Assert.Empty(warnings);
        Assert.Empty(CliProcess.Temporaries(home.Folder));
        Assert.False(File.Exists(path + ".checkpoint"));
    }

    private sealed class Progress(List<ProgressUpdate> warnings) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value)
        {
            if (value.IsWarning)
            {
                warnings.Add(value);
            }
        }
    }
}
