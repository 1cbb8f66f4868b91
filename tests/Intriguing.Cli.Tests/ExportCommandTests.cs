using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>export</c> in-process: a model file out as a PyTorch state dict plus model.json, and that folder's weights back
/// in through <c>--model</c> with the same attack result as the original file.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class ExportCommandTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-export-tests-" + Guid.NewGuid().ToString("N"));

    public ExportCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void An_exported_model_is_attacked_through_its_state_dict_exactly_as_the_original()
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        string output = Path.Combine(folder, "exported");

        var export = CliRun.Of("export", "--model", model, "--out", output, "--data-dir", mnist.Folder, "--json");

        Assert.True(export.ExitCode == 0, export.StandardError);
        var json = export.Json();
        string weights = json.GetProperty("weights").GetString()!;
        Assert.Equal(Path.Combine(output, "model.safetensors"), weights);
        var declaration = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "model.json")))!;
        Assert.Equal("fc10-1e-4", declaration["architecture"]!.GetValue<string>());
        Assert.Equal("softmax", declaration["kind"]!.GetValue<string>());

        var original = CliRun.Of("attack", "--model", model, "--method", "fgsm", "--eps", "0.1", "--count", "20", "--data-dir", mnist.Folder, "--json");
        var roundTrip = CliRun.Of("attack", "--model", weights, "--method", "fgsm", "--eps", "0.1", "--count", "20", "--data-dir", mnist.Folder, "--json");
        Assert.True(roundTrip.ExitCode == 0, roundTrip.StandardError);
        Assert.Equal(original.Json().GetProperty("successes").GetInt32(), roundTrip.Json().GetProperty("successes").GetInt32());
        Assert.Equal(original.Json().GetProperty("meanDistortion").GetDouble(), roundTrip.Json().GetProperty("meanDistortion").GetDouble());
    }

    [Fact]
    public void Export_of_an_unknown_model_or_to_a_folder_under_a_file_is_bad_input()
    {
        var unknown = CliRun.Of("export", "--model", "resnet50", "--out", folder);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown model 'resnet50'", unknown.StandardError);

        string file = Path.Combine(folder, "a-file");
        File.WriteAllText(file, "x");
        var underFile = CliRun.Of("export", "--model", "fc10-1", "--out", Path.Combine(file, "inside"));
        Assert.Equal(2, underFile.ExitCode);
    }
}
