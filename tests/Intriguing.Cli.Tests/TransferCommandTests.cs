using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>transfer</c> in-process: the document's fields (docs/json-output.md) on two softmax models of the zoo and the first
/// 40 real MNIST test images, the magnified form, and bad input (exit 2 naming the option) before any data is loaded.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class TransferCommandTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-transfer-tests-" + Guid.NewGuid().ToString("N"));
    private readonly RealMnist mnist;

    public TransferCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void The_document_has_the_contract_fields_with_intervals_counts_and_figures()
    {
        string output = Path.Combine(folder, "figures");
        var run = CliRun.Of("transfer", "--sources", "fc10-1e-4", "--targets", "fc10-1e-4,fc10-1", "--count", "40",
            "--data-dir", mnist.Folder, "--out", output, "--json");
        var magnified = CliRun.Of("transfer", "--sources", "fc10-1e-4", "--targets", "fc10-1", "--count", "40", "--magnify", "0.05",
            "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal(40, json.GetProperty("count").GetInt32());
        Assert.Equal("lbfgs", json.GetProperty("method").GetString());
        var row = Assert.Single(json.GetProperty("rows").EnumerateArray());
        Assert.Equal("fc10-1e-4", row.GetProperty("source").GetString());
        Assert.InRange(row.GetProperty("distortion").GetDouble(), 0.005, 0.2);
        int examples = row.GetProperty("examples").GetInt32();
        Assert.InRange(examples, 30, 40);
        Assert.Equal(1.0, row.GetProperty("errors").GetProperty("fc10-1e-4").GetDouble());
        Assert.InRange(row.GetProperty("errors").GetProperty("fc10-1").GetDouble(), 0, 1);
        Assert.Equal(examples, row.GetProperty("counts").GetProperty("fc10-1").GetInt32());
        var interval = row.GetProperty("intervals").GetProperty("fc10-1").EnumerateArray().Select(value => value.GetDouble()).ToArray();
        Assert.Equal(2, interval.Length);
        Assert.True(interval[0] <= row.GetProperty("errors").GetProperty("fc10-1").GetDouble() && interval[1] <= 1);
        Assert.True(row.TryGetProperty("cleanErrors", out _), "missing rows[].cleanErrors");
        Assert.True(row.TryGetProperty("matchedNoise", out _), "missing rows[].matchedNoise");
        Assert.InRange(row.GetProperty("pValues").GetProperty("fc10-1").GetDouble(), 0, 1);
        Assert.Equal(2, row.GetProperty("discordant").GetProperty("fc10-1").GetArrayLength());
        var equal = json.GetProperty("equalDistortion");
        Assert.Equal(1, equal.GetProperty("stddevCells").GetInt32()); // fc10-1e-4 -> fc10-1 against the stddev-0.1 row
        Assert.InRange(equal.GetProperty("aboveRmsNoise").GetInt32(), 0, equal.GetProperty("cells").GetInt32());
        var noise = json.GetProperty("noise").EnumerateArray().ToList();
        Assert.Contains(noise, line => line.GetProperty("stddev").GetDouble() == 0.1 && line.GetProperty("kind").GetString() == "stddev");
        Assert.Contains(noise, line => line.GetProperty("stddev").GetDouble() == 0.3);
        Assert.All(noise, line => Assert.InRange(line.GetProperty("errors").GetProperty("fc10-1").GetDouble(), 0, 1));
        Assert.Contains(JsonValueKind(json, "crossSplit"), new[] { System.Text.Json.JsonValueKind.Null, System.Text.Json.JsonValueKind.Undefined });
        Assert.Single(json.GetProperty("magnified").EnumerateArray());
        Assert.Single(json.GetProperty("curves").EnumerateArray());
        var figures = json.GetProperty("figures").EnumerateArray().Select(figure => figure.GetString()!).ToList();
        Assert.Equal(3, figures.Count);
        Assert.All(figures, figure => Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(figure)[..4]));

        Assert.True(magnified.ExitCode == 0, magnified.StandardError);
        var scaled = magnified.Json();
        Assert.True(scaled.GetProperty("rowsMagnified").GetBoolean());
        var scaledRow = Assert.Single(scaled.GetProperty("rows").EnumerateArray());
        Assert.Equal(0.05, scaledRow.GetProperty("requestedRms").GetDouble());
        Assert.InRange(scaledRow.GetProperty("distortion").GetDouble(), 0.049, 0.0501);
        Assert.Contains(scaled.GetProperty("noise").EnumerateArray(), line => line.GetProperty("stddev").GetDouble() == 0.05 && line.GetProperty("kind").GetString() == "stddev");
    }

    private static System.Text.Json.JsonValueKind JsonValueKind(System.Text.Json.JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) ? value.ValueKind : System.Text.Json.JsonValueKind.Undefined;

    [Theory]
    [InlineData("--sources", "no-such-model", "--sources")]
    [InlineData("--sources", "", "--sources")]
    [InlineData("--sources", " , ", "--sources")]
    [InlineData("--targets", "fc10-1,fc10-7", "--targets")]
    [InlineData("--sources", "fc10-1@p3", "--sources")]
    [InlineData("--count", "0", "--count")]
    [InlineData("--magnify", "0", "--magnify")]
    [InlineData("--magnify", "-0.1", "--magnify")]
    [InlineData("--method", "cw", "--method")]
    public void Bad_input_exits_2_naming_the_option(string option, string value, string named)
    {
        var run = CliRun.Of("transfer", option, value, "--data-dir", Path.Combine(folder, "no-data"), "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }
}
