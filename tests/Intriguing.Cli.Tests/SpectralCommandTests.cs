using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>spectral</c> in-process: the contract's fields on a tiny model file and a few real MNIST test images, and bad input
/// (an unknown architecture, a weights file whose tensor does not fit AlexNet) exiting with 2 and a message that names it.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class SpectralCommandTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-spectral-tests-" + Guid.NewGuid().ToString("N"));

    public SpectralCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void An_unknown_architecture_is_bad_input()
    {
        var run = CliRun.Of("spectral", "--arch", "vgg16", "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("vgg16", run.StandardError);
        Assert.Contains("alexnet", run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void Both_model_and_arch_or_neither_is_bad_input()
    {
        Assert.Equal(2, CliRun.Of("spectral", "--model", "fc100-100-10", "--arch", "alexnet").ExitCode);
        Assert.Equal(2, CliRun.Of("spectral").ExitCode);
        Assert.Equal(2, CliRun.Of("spectral", "--model", "fc100-100-10", "--weights", "x.safetensors").ExitCode);
    }

    [Fact]
    public void A_weights_file_with_a_wrongly_shaped_tensor_is_bad_input_naming_the_tensor()
    {
        // torchvision's AlexNet has 64 first-layer filters and no groups: not the paper's network.
        string path = Path.Combine(folder, "torchvision-like.safetensors");
        SafeTensors.Write(path, [new StoredTensor("conv1.weight", [64, 3, 11, 11], new float[64 * 3 * 11 * 11])]);
        var run = CliRun.Of("spectral", "--arch", "alexnet", "--weights", path, "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("conv1.weight", run.StandardError);
        Assert.Contains("[96, 3, 11, 11]", run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void A_weights_file_missing_a_tensor_is_bad_input_naming_it()
    {
        string path = Path.Combine(folder, "partial.safetensors");
        SafeTensors.Write(path, [new StoredTensor("conv1.weight", [96, 3, 11, 11], new float[96 * 3 * 11 * 11])]);
        var run = CliRun.Of("spectral", "--arch", "alexnet", "--weights", path);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("conv1.bias", run.StandardError);
    }

    [Fact]
    public void Spectral_on_a_model_file_prints_the_contract_fields_and_is_sound()
    {
        string model = TinyModelFile();
        string output = Path.Combine(folder, "out");
        var run = CliRun.Of("spectral", "--model", model, "--count", "20", "--data-dir", mnist.Folder, "--out", output, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        foreach (var field in new[] { "model", "layers", "product", "empirical", "sound", "certified" })
        {
            Assert.True(json.TryGetProperty(field, out _), $"missing field {field}");
        }
        var layer = json.GetProperty("layers")[0];
        foreach (var field in new[] { "name", "kind", "bound", "exact" })
        {
            Assert.True(layer.TryGetProperty(field, out _), $"missing layers[] field {field}");
        }
        Assert.Equal("linear", layer.GetProperty("kind").GetString());
        Assert.Equal(layer.GetProperty("bound").GetDouble(), json.GetProperty("product").GetDouble(), 9);
        Assert.True(json.GetProperty("sound").GetBoolean());
        var empirical = json.GetProperty("empirical");
        Assert.True(empirical.GetProperty("samples").GetInt32() >= 20 * 4);
        Assert.InRange(empirical.GetProperty("maxRatio").GetDouble(), 0, json.GetProperty("product").GetDouble() * (1 + 1e-6));
        Assert.True(File.Exists(Path.Combine(output, "spectral-fc10-1e-4-certified.png")));
    }

    private string TinyModelFile() => TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
}
