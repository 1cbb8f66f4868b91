using System.Text.Json;
using System.Text.Json.Nodes;
using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>transfer --shard i/n</c> and <c>merge</c>: a run split into two and into three shards, merged, gives the unsplit
/// run's JSON to the last number (times aside) and the same figures, with a sigmoid MLP among the models (whose float
/// results depend on the batch an image is computed in, so only whole batches per shard reproduce them); and merge
/// refuses parts of different settings, naming the setting and the part.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class TransferShardTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-transfer-shard-tests-" + Guid.NewGuid().ToString("N"));

    public TransferShardTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string[] Transfer(string mlp, string softmax, params string[] extra) =>
        ["transfer", "--sources", mlp, "--targets", $"{mlp},{softmax}", "--count", "24", "--batch", "8", "--seed", "2", "--data-dir", mnist.Folder, .. extra];

    [Fact]
    public void Split_into_two_and_into_three_and_merged_gives_the_unsplit_runs_numbers_and_figures()
    {
        string mlp = TinyModelFiles.MlpOnRealMnist(mnist, folder);
        string softmax = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        string wholeFigures = Path.Combine(folder, "whole");
        var whole = CliRun.Of([.. Transfer(mlp, softmax, "--out", wholeFigures), "--json"]);
        Assert.True(whole.ExitCode == 0, whole.StandardError);
        var json = whole.Json();
        // Something to compare: the MLP's examples are many, and the softmax model is fooled by some of them only.
        var row = Assert.Single(json.GetProperty("rows").EnumerateArray());
        Assert.InRange(row.GetProperty("examples").GetInt32(), 10, 24);
        Assert.InRange(row.GetProperty("errors").GetProperty(softmax).GetDouble(), 0.01, 0.99);

        foreach (int shards in new[] { 2, 3 })
        {
            string parts = Path.Combine(folder, $"parts{shards}");
            for (int i = 0; i < shards; i++)
            {
                var shard = CliRun.Of([.. Transfer(mlp, softmax, "--shard", $"{i}/{shards}", "--out", parts), "--json"]);
                Assert.True(shard.ExitCode == 0, shard.StandardError);
                Assert.Equal($"{i}/{shards}", shard.Json().GetProperty("shard").GetString());
            }
            string mergedFolder = Path.Combine(folder, $"merged{shards}");
            var merged = CliRun.Of("merge", parts, "--json", "--out", mergedFolder);
            Assert.True(merged.ExitCode == 0, merged.StandardError);

            string expected = WithoutTimes(whole.StandardOutput);
            Assert.Equal(expected, WithoutTimes(merged.StandardOutput));
            Assert.Equal(expected, WithoutTimes(File.ReadAllText(Path.Combine(mergedFolder, "transfer.json"))));
            foreach (string figure in Directory.GetFiles(wholeFigures))
            {
                Assert.Equal(File.ReadAllBytes(figure), File.ReadAllBytes(Path.Combine(mergedFolder, Path.GetFileName(figure))));
            }
        }
    }

    [Fact]
    public void Merge_refuses_parts_of_different_settings_and_a_shard_refuses_what_it_cannot_split()
    {
        string softmax = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        string a = Path.Combine(folder, "a"), b = Path.Combine(folder, "b");
        string[] Small(string seed, string shard, string output) =>
            ["transfer", "--sources", softmax, "--targets", softmax, "--count", "8", "--batch", "4", "--seed", seed, "--data-dir", mnist.Folder, "--shard", shard, "--out", output];
        Assert.Equal(0, CliRun.Of(Small("2", "0/2", a)).ExitCode);
        Assert.Equal(0, CliRun.Of(Small("3", "1/2", b)).ExitCode);

        var mixed = CliRun.Of("merge", a, b);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("setting seed", mixed.StandardError);
        Assert.Contains("transfer.part-1-of-2.json", mixed.StandardError);

        var none = CliRun.Of(Small("2", "0/3", a));
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("--shard 0/3", none.StandardError);
        Assert.Contains("at most 2 shards", none.StandardError);

        var fgsm = CliRun.Of("transfer", "--method", "fgsm", "--shard", "0/2", "--out", a);
        Assert.Equal(2, fgsm.ExitCode);
        Assert.Contains("--method fgsm", fgsm.StandardError);

        var noOut = CliRun.Of("transfer", "--shard", "0/2");
        Assert.Equal(2, noOut.ExitCode);
        Assert.Contains("--out", noOut.StandardError);

        var bad = CliRun.Of("transfer", "--shard", "2/2", "--out", a);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--shard", bad.StandardError);
    }

    /// <summary>The JSON with every time, the process's threads and the figures' folder removed: what must match across splits.</summary>
    internal static string WithoutTimes(string text)
    {
        var node = JsonNode.Parse(text)!;
        Strip(node);
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    private static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (string name in obj.Select(pair => pair.Key).ToList())
                {
                    if (name is "threads" || name.EndsWith("seconds", StringComparison.OrdinalIgnoreCase))
                    {
                        obj.Remove(name);
                    }
                    else if (name == "figures")
                    {
                        obj[name] = new JsonArray([.. obj[name]!.AsArray().Select(path => (JsonNode?)JsonValue.Create(Path.GetFileName(path!.GetValue<string>())))]);
                    }
                    else
                    {
                        Strip(obj[name]);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Strip(item);
                }
                break;
        }
    }
}
