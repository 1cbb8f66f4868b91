using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>units --shard i/n</c> and <c>merge</c>: the pool split into two and into three shards, merged, gives the unsplit
/// run's JSON to the last number (times aside) and the same figures, in the all-layers form and (two shards) the
/// single-layer form; and merge refuses parts of different settings, a shard with no images is refused, naming the option.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class UnitsShardTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-units-shard-tests-" + Guid.NewGuid().ToString("N"));

    public UnitsShardTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string[] Units(string model, params string[] extra) =>
        ["units", "--model", model, "--pool", "300", "--directions", "20", "--batch", "100", "--data-dir", mnist.Folder, .. extra];

    [Theory]
    [InlineData(null, 2, 3)]
    [InlineData("hidden2", 2)]
    public void Split_and_merged_gives_the_unsplit_runs_numbers_and_figures(string? layer, params int[] splits)
    {
        string model = SeededModelFile();
        string[] layerOption = layer is null ? [] : ["--layer", layer];
        string wholeFigures = Path.Combine(folder, "whole");
        var whole = CliRun.Of([.. Units(model, [.. layerOption, "--out", wholeFigures]), "--json"]);
        Assert.True(whole.ExitCode == 0, whole.StandardError);
        Assert.Equal(layer is null ? 2 : 1, Directory.GetFiles(wholeFigures).Length);

        foreach (int shards in splits)
        {
            string parts = Path.Combine(folder, $"parts{shards}");
            for (int i = 0; i < shards; i++)
            {
                var shard = CliRun.Of([.. Units(model, [.. layerOption, "--shard", $"{i}/{shards}", "--out", parts]), "--json"]);
                Assert.True(shard.ExitCode == 0, shard.StandardError);
            }
            string mergedFolder = Path.Combine(folder, $"merged{shards}");
            var merged = CliRun.Of("merge", parts, "--json", "--out", mergedFolder);
            Assert.True(merged.ExitCode == 0, merged.StandardError);

            string expected = TransferShardTests.WithoutTimes(whole.StandardOutput);
            Assert.Equal(expected, TransferShardTests.WithoutTimes(merged.StandardOutput));
            Assert.Equal(expected, TransferShardTests.WithoutTimes(File.ReadAllText(Path.Combine(mergedFolder, "units.json"))));
            foreach (string figure in Directory.GetFiles(wholeFigures))
            {
                Assert.Equal(File.ReadAllBytes(figure), File.ReadAllBytes(Path.Combine(mergedFolder, Path.GetFileName(figure))));
            }
        }
    }

    [Fact]
    public void Merge_refuses_parts_of_different_settings_and_a_shard_with_no_images_is_refused()
    {
        string model = SeededModelFile();
        string a = Path.Combine(folder, "a"), b = Path.Combine(folder, "b");
        Assert.Equal(0, CliRun.Of(Units(model, "--top", "8", "--shard", "0/2", "--out", a)).ExitCode);
        Assert.Equal(0, CliRun.Of(Units(model, "--top", "6", "--shard", "1/2", "--out", b)).ExitCode);

        var mixed = CliRun.Of("merge", a, b);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("setting top", mixed.StandardError);
        Assert.Contains("units.part-1-of-2.json", mixed.StandardError);

        var none = CliRun.Of(Units(model, "--shard", "0/4", "--out", a));
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("--shard 0/4", none.StandardError);
        Assert.Contains("at most 3 shards", none.StandardError);

        var noOut = CliRun.Of(Units(model, "--shard", "0/2"));
        Assert.Equal(2, noOut.ExitCode);
        Assert.Contains("--out", noOut.StandardError);
    }

    private string SeededModelFile() => TinyModelFiles.UntrainedFc100(folder);
}
