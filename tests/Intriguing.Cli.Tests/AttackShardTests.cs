using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>attack --shard i/n</c> and <c>merge</c>: an attack split into two and into three processes, merged, prints the
/// unsplit run's JSON to the last number (times and paths aside) and writes the same adversarial files, byte for byte.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class AttackShardTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-attack-shard-tests-" + Guid.NewGuid().ToString("N"));

    public AttackShardTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string[] Attack(string model, string method, params string[] extra) =>
        ["attack", "--model", model, "--method", method, "--count", "31", "--data-dir", mnist.Folder, "--seed", "5", "--batch", "8", "--threads", "1", .. extra];

    [Theory]
    [InlineData("pgd", 2, false, new[] { "--eps", "0.1" })]
    [InlineData("pgd", 3, false, new[] { "--eps", "0.1" })]
    [InlineData("square", 3, false, new[] { "--eps", "0.15", "--queries", "60", "--targeted" })]
    [InlineData("lbfgs", 2, true, new string[0])]
    [InlineData("lbfgs", 3, true, new string[0])]
    public void An_attack_split_and_merged_gives_the_unsplit_runs_numbers_and_files(string method, int shards, bool processes, string[] settings)
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        string single = Path.Combine(folder, "single");
        var whole = CliRun.Of([.. Attack(model, method, settings), "--out", single, "--json"]);
        Assert.True(whole.ExitCode == 0, whole.StandardError);

        string parts = Path.Combine(folder, "parts");
        for (int i = 0; i < shards; i++)
        {
            // Separate processes, as a job array runs them (the L-BFGS cases), or in this process one after the other. Every run
            // uses one thread: libtorch's reductions split over two threads can round differently in the last bit.
            string[] arguments = [.. Attack(model, method, settings), "--shard", $"{i}/{shards}", "--out", parts, "--json"];
            var shard = processes ? CliProcess.Run(folder, arguments) : CliRun.Of(arguments);
            Assert.True(shard.ExitCode == 0, shard.StandardError);
        }
        string mergedFolder = Path.Combine(folder, "merged");
        var merged = CliRun.Of("merge", parts, "--json", "--out", mergedFolder);
        Assert.True(merged.ExitCode == 0, merged.StandardError);

        Assert.Equal(Comparable(whole.StandardOutput), Comparable(merged.StandardOutput));
        foreach (string file in new[] { "adversarials.safetensors", "adversarials.npy", "figure5.png" })
        {
            Assert.True(File.ReadAllBytes(Path.Combine(single, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(mergedFolder, file))), $"{file} differs");
        }
        Assert.Equal(Directory.GetFiles(Path.Combine(single, "png")).Select(Path.GetFileName), Directory.GetFiles(Path.Combine(mergedFolder, "png")).Select(Path.GetFileName));
        // The split is real: the attack fooled some images and not others.
        int successes = whole.Json().GetProperty("successes").GetInt32();
        Assert.InRange(successes, 1, whole.Json().GetProperty("attempted").GetInt32() - (method == "lbfgs" ? 0 : 1));
    }

    [Fact]
    public void Merge_refuses_attack_parts_of_another_method_and_a_missing_shard()
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        string a = Path.Combine(folder, "a"), b = Path.Combine(folder, "b");
        Assert.Equal(0, CliRun.Of([.. Attack(model, "fgsm", "--eps", "0.1"), "--shard", "0/2", "--out", a]).ExitCode);
        Assert.Equal(0, CliRun.Of([.. Attack(model, "pgd", "--eps", "0.1"), "--shard", "1/2", "--out", b]).ExitCode);

        var mixed = CliRun.Of("merge", a, b);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("setting attack", mixed.StandardError);
        Assert.Contains("attack.part-1-of-2.json", mixed.StandardError);

        var missing = CliRun.Of("merge", a);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("1/2 missing", missing.StandardError);
    }

    [Fact]
    public void An_attack_shard_without_out_is_refused()
    {
        var run = CliRun.Of("attack", "--model", "fc10-1", "--method", "fgsm", "--shard", "0/2");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--out", run.StandardError);
    }

    /// <summary>The JSON without times, the process's threads and the files' paths: what must match across splits.</summary>
    private static string Comparable(string text)
    {
        var node = JsonNode.Parse(text)!.AsObject();
        foreach (string field in new[] { "seconds", "imagesPerSecond", "threads", "files" })
        {
            node.Remove(field);
        }
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
