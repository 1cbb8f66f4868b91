using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary><c>evaluate</c> in-process on a tiny model file and the first real MNIST test images: the contract's fields and bad input.</summary>
[Collection(RealMnistCollection.Name)]
public sealed class EvaluateCommandTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-evaluate-tests-" + Guid.NewGuid().ToString("N"));

    public EvaluateCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void The_fast_cascade_prints_the_contract_fields_and_is_no_weaker_than_pgd()
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);

        var run = CliRun.Of("evaluate", "--model", model, "--eps", "0.05", "--version", "fast", "--count", "30", "--data-dir", mnist.Folder, "--json");
        var pgd = CliRun.Of("attack", "--model", model, "--method", "pgd", "--eps", "0.05", "--count", "30", "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        foreach (var field in new[] { "model", "eps", "norm", "version", "count", "cleanAccuracy", "robustAccuracy", "robustInterval", "attacks", "warnings", "seconds" })
        {
            Assert.True(json.TryGetProperty(field, out _), $"missing field {field}");
        }
        Assert.Equal("fast", json.GetProperty("version").GetString());
        Assert.Equal("linf", json.GetProperty("norm").GetString());
        Assert.Equal(30, json.GetProperty("count").GetInt32());
        var attacks = json.GetProperty("attacks").EnumerateArray().ToList();
        Assert.Equal(["apgd-ce", "apgd-t"], attacks.Select(attack => attack.GetProperty("name").GetString()));
        Assert.All(attacks, attack => Assert.True(attack.TryGetProperty("brokeImages", out _)));
        double robust = json.GetProperty("robustAccuracy").GetDouble();
        double pgdRobust = 1 - pgd.Json().GetProperty("errorRate").GetDouble();
        Assert.True(robust <= pgdRobust + 1e-9, $"cascade {robust} vs PGD-40 {pgdRobust}");
        var interval = json.GetProperty("robustInterval").EnumerateArray().Select(value => value.GetDouble()).ToList();
        Assert.InRange(robust, interval[0], interval[1]);
    }

    [Theory]
    [InlineData("--norm", "l1", "--norm")]
    [InlineData("--version", "plus", "--version")]
    [InlineData("--eps", "-0.1", "--eps")]
    [InlineData("--count", "0", "--count")]
    public void Bad_options_exit_2_naming_the_option(string option, string value, string named)
    {
        var run = CliRun.Of("evaluate", "--model", "fc10-1", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.StandardError);
    }
}
