using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary><c>bench</c> on a tiny model file and a small batch: the contract's fields, and bad input.</summary>
[Collection(RealMnistCollection.Name)]
public sealed class BenchCommandTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-bench-tests-" + Guid.NewGuid().ToString("N"));

    public BenchCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Bench_reports_raw_and_attack_throughput_in_one_json_document()
    {
        random.manual_seed(5);
        var spec = ModelZoo.Get("fc100-100-10");
        string path = Path.Combine(folder, "tiny-mlp.safetensors");
        var report = new TrainingReport(0.9, 0.9, 0.9, 0.9, Epochs: 0, Seconds: 0, Recipe: "untrained (test fixture)");
        using (var model = new TrainedModel(spec.Name, Split.Train, 0, spec.Create(), report, path))
        {
            ModelStore.Save(model);
        }

        var run = CliRun.Of("bench", "--model", path, "--batch", "16", "--repetitions", "1", "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal("fc100-100-10", json.GetProperty("model").GetString());
        Assert.Equal(16, json.GetProperty("batch").GetInt32());
        Assert.True(json.GetProperty("rawGradientsPerSecond").GetDouble() > 0);
        Assert.True(json.GetProperty("attackGradientsPerSecond").GetDouble() > 0);
        double ratio = json.GetProperty("ratio").GetDouble();
        Assert.Equal(json.GetProperty("attackGradientsPerSecond").GetDouble() / json.GetProperty("rawGradientsPerSecond").GetDouble(), ratio, 0.01);
        Assert.True(json.GetProperty("lbfgsImagesPerSecond").GetDouble() > 0);
        Assert.InRange(json.GetProperty("lbfgsGradientsPerImage").GetDouble(), 1, 1000);
        Assert.Equal(1, json.GetProperty("repetitions").GetInt32());
    }

    [Fact]
    public void Bench_on_an_onnx_model_measures_square_against_onnx_runtime()
    {
        string model = Path.Combine(folder, "mlp.onnx");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "mnist-mlp.onnx"), model);
        File.WriteAllText(Path.Combine(folder, "mlp.json"), """{"inputShape":[1,28,28],"classes":10}""");

        var run = CliRun.Of("bench", "--model", model, "--batch", "12", "--queries", "40", "--eps", "0.05", "--repetitions", "1",
            "--data-dir", mnist.Folder, "--json");
        var gradientOptions = CliRun.Of("bench", "--eps", "0.1");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal(12, json.GetProperty("images").GetInt32());
        Assert.Equal(40, json.GetProperty("queryBudget").GetInt32());
        Assert.True(json.GetProperty("rawRowsPerSecond").GetDouble() > 0);
        double ratio = json.GetProperty("ratio").GetDouble();
        Assert.InRange(ratio, 1e-4, 10);
        Assert.InRange(json.GetProperty("forwardCalls").GetInt32(), 2, 41);
        Assert.Equal(2, gradientOptions.ExitCode);
        Assert.Contains("--eps", gradientOptions.StandardError);
    }

    [Fact]
    public void Bench_autoattack_reports_each_stage_and_both_ratios()
    {
        random.manual_seed(6);
        var spec = ModelZoo.Get("fc100-100-10");
        string path = Path.Combine(folder, "tiny-aa.safetensors");
        var report = new TrainingReport(0.9, 0.9, 0.9, 0.9, Epochs: 0, Seconds: 0, Recipe: "untrained (test fixture)");
        using (var model = new TrainedModel(spec.Name, Split.Train, 0, spec.Create(), report, path))
        {
            ModelStore.Save(model);
        }

        var run = CliRun.Of("bench", "--model", path, "--autoattack", "--batch", "16", "--eps", "0.3", "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal(["apgd-ce", "apgd-t", "fab-t", "square"], json.GetProperty("stages").EnumerateArray().Select(stage => stage.GetProperty("name").GetString()));
        Assert.True(json.GetProperty("rawGradientsPerSecond").GetDouble() > 0);
        Assert.True(json.GetProperty("rawForwardsPerSecond").GetDouble() > 0);
        Assert.Equal(0.8, json.GetProperty("targetRatio").GetDouble());
        var first = json.GetProperty("stages")[0];
        Assert.True(first.GetProperty("attacked").GetInt32() == 0 || first.GetProperty("passes").GetInt64() > 0);
    }

    [Fact]
    public void Bad_batch_and_unknown_model_are_bad_input()
    {
        Assert.Equal(2, CliRun.Of("bench", "--batch", "0").ExitCode);
        Assert.Equal(2, CliRun.Of("bench", "--repetitions", "0").ExitCode);
        var unknown = CliRun.Of("bench", "--model", "fc999");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("fc999", unknown.StandardError);
        var file = CliRun.Of("bench", "--training", "--model", "some/model.safetensors");
        Assert.Equal(2, file.ExitCode);
        Assert.Contains("--training", file.StandardError);
        Assert.Equal(2, CliRun.Of("bench", "--training", "--training-steps", "0").ExitCode);
    }
}
