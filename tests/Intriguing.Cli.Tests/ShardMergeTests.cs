using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>--shard i/n</c> and <c>merge</c>: a run split into two and into three shards, merged, gives the unsplit run's
/// JSON to the last number (times aside), and merge refuses parts that are not one run, naming the part.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class ShardMergeTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-shard-tests-" + Guid.NewGuid().ToString("N"));

    public ShardMergeTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string[] Evaluate(string model, string eps = "0.08", params string[] extra) =>
        ["evaluate", "--model", model, "--eps", eps, "--version", "fast", "--count", "40", "--data-dir", mnist.Folder, "--seed", "3", .. extra];

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Evaluate_split_and_merged_gives_the_unsplit_runs_numbers(int shards)
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        var whole = CliRun.Of([.. Evaluate(model), "--json"]);
        Assert.True(whole.ExitCode == 0, whole.StandardError);

        string parts = Path.Combine(folder, $"parts{shards}");
        for (int i = 0; i < shards; i++)
        {
            var shard = CliRun.Of([.. Evaluate(model, "0.08", "--shard", $"{i}/{shards}", "--out", parts), "--json"]);
            Assert.True(shard.ExitCode == 0, shard.StandardError);
        }
        var merged = CliRun.Of("merge", parts, "--json", "--out", Path.Combine(folder, $"merged{shards}"));
        Assert.True(merged.ExitCode == 0, merged.StandardError);

        var expected = WithoutTimes(whole.StandardOutput);
        Assert.Equal(expected, WithoutTimes(merged.StandardOutput));
        Assert.Equal(expected, WithoutTimes(File.ReadAllText(Path.Combine(folder, $"merged{shards}", "evaluate.json"))));
        // The split is real: some stage broke images in more than one shard's share, and the result is not trivial.
        var json = whole.Json();
        Assert.InRange(json.GetProperty("robustAccuracy").GetDouble(), 0.05, 0.95);
    }

    [Fact]
    public void Merge_refuses_parts_of_different_settings_a_missing_or_doubled_shard_and_a_corrupt_part()
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        string a = Path.Combine(folder, "a"), b = Path.Combine(folder, "b");
        Assert.Equal(0, CliRun.Of(Evaluate(model, "0.08", "--shard", "0/2", "--out", a)).ExitCode);
        Assert.Equal(0, CliRun.Of(Evaluate(model, "0.1", "--shard", "1/2", "--out", b)).ExitCode);

        var mixed = CliRun.Of("merge", a, b);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("setting eps", mixed.StandardError);
        Assert.Contains("evaluate.part-1-of-2.json", mixed.StandardError);

        var missing = CliRun.Of("merge", a);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("1/2", missing.StandardError);
        Assert.Contains("missing", missing.StandardError);

        string copy = Path.Combine(folder, "copy.json");
        File.Copy(Path.Combine(a, "evaluate.part-0-of-2.json"), copy);
        var doubled = CliRun.Of("merge", a, copy);
        Assert.Equal(2, doubled.ExitCode);
        Assert.Contains("0/2 is given twice", doubled.StandardError);

        string bytes = File.ReadAllText(copy);
        File.WriteAllText(copy, bytes[..(bytes.Length / 2)]);
        var corrupt = CliRun.Of("merge", copy);
        Assert.Equal(2, corrupt.ExitCode);
        Assert.Contains("copy.json", corrupt.StandardError);
        Assert.Contains("corrupt or truncated", corrupt.StandardError);
    }

    [Theory]
    [InlineData("2/2")]
    [InlineData("-1/2")]
    [InlineData("1")]
    [InlineData("a/b")]
    public void A_bad_shard_exits_2_naming_the_option(string shard)
    {
        var run = CliRun.Of("evaluate", "--model", "fc10-1", "--shard", shard, "--out", folder);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--shard", run.StandardError);
    }

    [Fact]
    public void A_shard_with_no_images_is_refused_naming_the_option()
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        var run = CliRun.Of("evaluate", "--model", model, "--count", "2", "--data-dir", mnist.Folder, "--shard", "2/4", "--out", folder);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--shard 2/4", run.StandardError);
        Assert.Contains("at most 2 shards", run.StandardError);
    }

    [Fact]
    public void A_shard_without_out_is_refused()
    {
        var run = CliRun.Of("evaluate", "--model", "fc10-1", "--shard", "0/2");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--out", run.StandardError);
    }

    /// <summary>The JSON with every time and the process's threads removed: what must match across splits.</summary>
    private static string WithoutTimes(string text)
    {
        var node = JsonNode.Parse(text)!.AsObject();
        node.Remove("seconds");
        node.Remove("threads");
        foreach (var stage in node["attacks"]!.AsArray())
        {
            stage!.AsObject().Remove("seconds");
        }
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
