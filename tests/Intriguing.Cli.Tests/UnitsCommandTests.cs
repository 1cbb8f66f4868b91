using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>units</c> in-process: the contract's fields in the all-layers and single-layer forms on a small model file and
/// the first few hundred real MNIST test images, and bad input (exit 2) before any data is loaded.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class UnitsCommandTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-units-tests-" + Guid.NewGuid().ToString("N"));

    private readonly RealMnist mnist;

    public UnitsCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string SmallModelFile() => TinyModelFiles.UntrainedFc100(folder);

    [Fact]
    public void Every_layer_and_one_layer_print_the_contract_fields_and_write_the_figures()
    {
        string model = SmallModelFile();
        string output = Path.Combine(folder, "figures");

        var all = CliRun.Of("units", "--model", model, "--pool", "300", "--directions", "20", "--data-dir", mnist.Folder, "--out", output, "--json");
        var one = CliRun.Of("units", "--model", model, "--layer", "hidden2", "--pool", "300", "--directions", "20", "--top", "5", "--data-dir", mnist.Folder, "--out", output, "--json");
        var table = CliRun.Of("units", "--model", model, "--layer", "0", "--pool", "300", "--directions", "20", "--data-dir", mnist.Folder, "--out", output);

        Assert.True(all.ExitCode == 0, all.StandardError);
        var json = all.Json();
        Assert.Equal("fc100-100-10", json.GetProperty("model").GetString());
        Assert.Equal(8, json.GetProperty("top").GetInt32());
        var layers = json.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["hidden1", "hidden2"], layers.Select(layer => layer.GetProperty("layer").GetString()));
        foreach (var layer in layers)
        {
            foreach (var field in new[] { "layer", "natural", "random", "chance", "pValue", "effectSize", "comparisons", "verdict", "chanceLevels" })
            {
                Assert.True(layer.TryGetProperty(field, out _), $"missing field layers[].{field}");
            }
            Assert.InRange(layer.GetProperty("natural").GetProperty("meanPurity").GetDouble(), 0, 1);
            Assert.Equal(100, layer.GetProperty("natural").GetProperty("perDirection").GetArrayLength());
            Assert.Equal(20, layer.GetProperty("random").GetProperty("perDirection").GetArrayLength());
            Assert.InRange(layer.GetProperty("pValue").GetDouble(), 0, 1);
            // Holm over every test the command reports: 2 layers x 3 measures.
            Assert.Equal(6, layer.GetProperty("tests").GetInt32());
            Assert.InRange(layer.GetProperty("adjustedPValue").GetDouble(), layer.GetProperty("pValue").GetDouble(), 1);
        }
        Assert.Equal(2, json.GetProperty("figures").GetArrayLength());
        foreach (var figure in json.GetProperty("figures").EnumerateArray())
        {
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(figure.GetString()!)[..4]);
        }

        Assert.True(one.ExitCode == 0, one.StandardError);
        var single = one.Json();
        foreach (var field in new[] { "model", "layer", "top", "natural", "random", "chance", "pValue", "figures", "effectSize" })
        {
            Assert.True(single.TryGetProperty(field, out _), $"missing field {field}");
        }
        Assert.Equal("hidden2", single.GetProperty("layer").GetString());
        Assert.Equal(5, single.GetProperty("top").GetInt32());
        Assert.Equal(3, single.GetProperty("tests").GetInt32());
        var firstUnit = single.GetProperty("natural").GetProperty("perDirection")[0];
        Assert.Equal(5, firstUnit.GetProperty("topImages").GetArrayLength());
        Assert.Equal("unit 0", firstUnit.GetProperty("name").GetString());

        Assert.True(table.ExitCode == 0, table.StandardError);
        Assert.Contains("hidden1", table.StandardOutput);
        Assert.Contains("Cliff's delta", table.StandardOutput);
        Assert.Contains("random directions", table.StandardOutput);
        Assert.Contains("Holm-adjusted", table.StandardOutput);
    }

    [Fact]
    public void Without_out_no_figure_is_written_anywhere()
    {
        string model = SmallModelFile();
        string workingFolder = Path.Combine(folder, "working");
        Directory.CreateDirectory(workingFolder);
        string previous = Environment.CurrentDirectory;
        CliRun run;
        try
        {
            Environment.CurrentDirectory = workingFolder;
            run = CliRun.Of("units", "--model", model, "--layer", "hidden1", "--pool", "300", "--directions", "20", "--data-dir", mnist.Folder, "--json");
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }

        Assert.True(run.ExitCode == 0, run.StandardError);
        Assert.Equal(0, run.Json().GetProperty("figures").GetArrayLength());
        Assert.Empty(Directory.GetFileSystemEntries(workingFolder));
        Assert.Equal([model, model + ".json"], Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToArray());
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("3")]
    [InlineData("-1")]
    public void Unknown_layer_is_bad_input_and_lists_the_layers(string layer)
    {
        var run = CliRun.Of("units", "--model", "conv", "--layer", layer, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"--layer '{layer}'", run.StandardError);
        Assert.Contains("0 = conv1, 1 = conv2, 2 = fc1", run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Theory]
    [InlineData("--top", "10001")]
    [InlineData("--top", "1")]
    [InlineData("--directions", "0")]
    [InlineData("--pool", "0")]
    public void Nonsense_numbers_are_bad_input(string option, string value)
    {
        var run = CliRun.Of("units", "--model", "fc100-100-10", option, value, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(option, run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void Top_larger_than_a_smaller_pool_is_bad_input()
    {
        var run = CliRun.Of("units", "--model", "conv", "--pool", "20", "--top", "21");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--top must be 2..20", run.StandardError);
    }

    [Fact]
    public void A_model_without_hidden_layers_is_bad_input()
    {
        var run = CliRun.Of("units", "--model", "fc10-1e-4");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no hidden layer", run.StandardError);
    }
}
