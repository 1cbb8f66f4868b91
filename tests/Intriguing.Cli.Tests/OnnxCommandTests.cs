using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// The commands given an ONNX model (tests/fixtures/onnx, exported by PyTorch), a score-only model, on real MNIST:
/// Square and noise attack it, a gradient attack exits 2 saying what applies, `evaluate` runs the cascade's Square
/// alone with a warning, and transfer measures it as a target of examples made on a white-box surrogate.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class OnnxCommandTests : IDisposable
{
    private static readonly string TorchScriptMlp = Path.Combine(AppContext.BaseDirectory, "fixtures", "torchscript", "mnist-mlp", "model.pt");
    private readonly RealMnist mnist;
    private readonly TemporaryHome home = new("onnx");
    private readonly string model;

    public OnnxCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        set_num_threads(1);
        string folder = Path.Combine(home.Folder, "deployed");
        Directory.CreateDirectory(folder);
        model = Path.Combine(folder, "mlp.onnx");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "mnist-mlp.onnx"), model);
        File.WriteAllText(Path.Combine(folder, "mlp.json"), """{"inputShape":[1,28,28],"classes":10}""");
    }

    public void Dispose() => home.Dispose();

    [Fact]
    public void Square_attacks_an_onnx_model_and_a_gradient_attack_exits_2_naming_what_applies()
    {
        var square = CliRun.Of("attack", "--model", model, "--method", "square", "--queries", "100", "--count", "20", "--data-dir", mnist.Folder, "--json");
        var pgd = CliRun.Of("attack", "--model", model, "--method", "pgd", "--count", "4", "--data-dir", mnist.Folder, "--json");

        Assert.True(square.ExitCode == 0, square.StandardError);
        var json = square.Json();
        Assert.True(json.GetProperty("verified").GetBoolean());
        Assert.Equal(100, json.GetProperty("queries").GetInt32());
        Assert.InRange(json.GetProperty("meanLinf").GetDouble(), 0, 0.3 + 1e-6);
        Assert.Equal(2, pgd.ExitCode);
        Assert.Contains("scores only", pgd.StandardError);
        Assert.Contains("square", pgd.StandardError);
        Assert.Equal("", pgd.StandardOutput);
    }

    [Fact]
    public void Evaluate_runs_square_alone_on_an_onnx_model_with_a_warning()
    {
        var run = CliRun.Of("evaluate", "--model", model, "--eps", "0.3", "--count", "20", "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal(["square"], json.GetProperty("attacks").EnumerateArray().Select(attack => attack.GetProperty("name").GetString()));
        Assert.Contains(json.GetProperty("warnings").EnumerateArray(), warning => warning.GetString()!.Contains("scores only"));
    }

    [Fact]
    public void Evaluate_takes_a_folder_dataset_and_names_it()
    {
        string fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures");
        string model = Path.Combine(fixtures, "torchscript", "rgb-bn-conv", "model.pt");
        string folder = Path.Combine(fixtures, "rgb-folder");

        var run = CliRun.Of("evaluate", "--model", model, "--dataset", $"folder:{folder}", "--eps", "0.05", "--version", "fast", "--count", "100", "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal(40, json.GetProperty("count").GetInt32());
        Assert.StartsWith("folder", json.GetProperty("dataset").GetString());
        Assert.Equal(["apgd-ce", "apgd-t"], json.GetProperty("attacks").EnumerateArray().Select(attack => attack.GetProperty("name").GetString()));
    }

    [Fact]
    public void Transfer_measures_an_onnx_target_and_refuses_it_as_a_source()
    {
        var run = CliRun.Of("transfer", "--sources", TorchScriptMlp, "--targets", $"{TorchScriptMlp},{model}", "--method", "fgsm", "--count", "10",
            "--data-dir", mnist.Folder, "--json");
        var asSource = CliRun.Of("transfer", "--sources", model, "--targets", TorchScriptMlp, "--count", "4", "--data-dir", mnist.Folder);

        Assert.True(run.ExitCode == 0, run.StandardError);
        var row = run.Json().GetProperty("rows")[0];
        Assert.InRange(row.GetProperty("errors").GetProperty(model).GetDouble(), 0, 1);
        Assert.Equal(2, asSource.ExitCode);
        Assert.Contains("scores only", asSource.StandardError);
    }
}
