using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// The commands given a TorchScript model (tests/fixtures/torchscript, made by PyTorch) on real MNIST: attack and
/// transfer take it; a model that does not fit the data, an unusable file and the layer-based analyses exit 2 with the
/// file named.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class TorchScriptCommandTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures", "torchscript");
    private static readonly string MnistMlp = Path.Combine(Fixtures, "mnist-mlp", "model.pt");
    private readonly RealMnist mnist;
    private readonly TemporaryHome home = new("torchscript");

    public TorchScriptCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        set_num_threads(1);
    }

    public void Dispose() => home.Dispose();

    [Fact]
    public void Fgsm_on_a_torchscript_model_reports_verified_contract_fields()
    {
        var run = CliRun.Of("attack", "--model", MnistMlp, "--method", "fgsm", "--count", "20", "--eps", "0.1", "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal("mnist-mlp/model.pt", json.GetProperty("model").GetString());
        Assert.Equal(20, json.GetProperty("count").GetInt32());
        Assert.True(json.GetProperty("verified").GetBoolean());
        Assert.InRange(json.GetProperty("cleanErrorRate").GetDouble(), 0, 0.2);
        Assert.InRange(json.GetProperty("successRate").GetDouble(), 0.3, 1);
        Assert.InRange(json.GetProperty("meanLinf").GetDouble(), 0, 0.1 + 1e-6);
    }

    [Fact]
    public void Options_declare_a_model_without_a_file_and_a_shape_that_does_not_fit_mnist_names_both()
    {
        string folder = Path.Combine(home.Folder, "undeclared");
        Directory.CreateDirectory(folder);
        string model = Path.Combine(folder, "net.pt");
        File.Copy(MnistMlp, model);

        var undeclared = CliRun.Of("attack", "--model", model, "--method", "fgsm", "--count", "4", "--data-dir", mnist.Folder);
        var declared = CliRun.Of("attack", "--model", model, "--input-shape", "1,28,28", "--classes", "10", "--method", "fgsm", "--count", "4",
            "--data-dir", mnist.Folder, "--json");
        var colour = CliRun.Of("attack", "--model", model, "--input-shape", "3,32,32", "--classes", "10", "--method", "fgsm", "--count", "4",
            "--data-dir", mnist.Folder);

        Assert.Equal(2, undeclared.ExitCode);
        Assert.Contains(model, undeclared.StandardError);
        Assert.Contains("--input-shape", undeclared.StandardError);
        Assert.True(declared.ExitCode == 0, declared.StandardError);
        Assert.Equal(2, colour.ExitCode);
        Assert.Contains("[3, 32, 32]", colour.StandardError);
        Assert.Contains("[1, 28, 28]", colour.StandardError);
    }

    [Theory]
    [InlineData("dict-output.pt", "a dict")]
    [InlineData("tuple-output.pt", "a tuple of 2 values")]
    [InlineData("state-dict.pt", "torch.jit.save")]
    public void An_unusable_model_file_exits_2_naming_it(string file, string says)
    {
        string path = Path.Combine(Fixtures, file);

        var run = CliRun.Of("attack", "--model", path, "--method", "fgsm", "--count", "4", "--data-dir", mnist.Folder, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(path, run.StandardError);
        Assert.Contains(says, run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Theory]
    [InlineData("units")]
    [InlineData("spectral")]
    [InlineData("adv-train")]
    public void Layer_based_analyses_refuse_a_torchscript_model(string command)
    {
        string[] args = command == "adv-train" ? [command, "--model", MnistMlp, "--method", "fgsm"] : [command, "--model", MnistMlp];

        var run = CliRun.Of(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("needs a model whose layers the product can read", run.StandardError);
        Assert.Contains(MnistMlp, run.StandardError);
    }

    [Fact]
    public void Declaration_options_with_a_zoo_model_are_bad_usage()
    {
        var run = CliRun.Of("attack", "--model", "fc10-1e-4", "--classes", "10", "--method", "fgsm", "--count", "4");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("declares its own input", run.StandardError);
    }

    [Fact]
    public void Transfer_takes_torchscript_models_as_sources_and_targets()
    {
        string other = Path.Combine(home.Folder, "copy");
        Directory.CreateDirectory(other);
        File.Copy(MnistMlp, Path.Combine(other, "mlp.pt"));
        File.Copy(Path.Combine(Fixtures, "mnist-mlp", "model.json"), Path.Combine(other, "mlp.json"));
        string copy = Path.Combine(other, "mlp.pt");

        var run = CliRun.Of("transfer", "--sources", MnistMlp, "--targets", $"{MnistMlp},{copy}", "--method", "fgsm", "--count", "10",
            "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var row = run.Json().GetProperty("rows")[0];
        Assert.Equal(MnistMlp, row.GetProperty("source").GetString());
        // The same weights under two names: the examples fool the copy exactly as they fool the source.
        Assert.Equal(row.GetProperty("errors").GetProperty(MnistMlp).GetDouble(), row.GetProperty("errors").GetProperty(copy).GetDouble());
    }
}
