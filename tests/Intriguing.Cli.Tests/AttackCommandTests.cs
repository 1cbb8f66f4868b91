using Intriguing.Attacks.Figures;
using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>attack</c> in-process on a tiny model file (an untrained softmax layer saved through the model store) and the
/// first few real MNIST test images: the contract's fields, the files of --out, and bad input.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class AttackCommandTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-attack-tests-" + Guid.NewGuid().ToString("N"));

    public AttackCommandTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string TinyModelFile() => TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);

    [Fact]
    public void Fgsm_on_a_model_file_prints_the_contract_fields_and_writes_the_examples()
    {
        string model = TinyModelFile();
        string output = Path.Combine(folder, "out");

        var run = CliRun.Of("attack", "--model", model, "--method", "fgsm", "--eps", "0.2", "--count", "12",
            "--data-dir", mnist.Folder, "--out", output, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        foreach (var field in new[] { "model", "method", "count", "successRate", "meanDistortion", "medianDistortion", "meanLinf", "verified", "seconds", "imagesPerSecond", "errorRate", "eightBitSurvival", "gradientEvaluations", "targeted" })
        {
            Assert.True(json.TryGetProperty(field, out _), $"missing field {field}");
        }
        Assert.Equal("fgsm", json.GetProperty("method").GetString());
        Assert.Equal(12, json.GetProperty("count").GetInt32());
        Assert.True(json.GetProperty("verified").GetBoolean());
        Assert.InRange(json.GetProperty("errorRate").GetDouble(), 0, 1);
        Assert.True(json.GetProperty("successes").GetInt32() > 0, "FGSM at eps 0.2 should fool some of 12 digits");
        Assert.InRange(json.GetProperty("meanLinf").GetDouble(), 0, 0.2 + 1e-6);
        // The settings the attack used, read from the attack itself.
        Assert.Equal(0.2, json.GetProperty("epsilon").GetDouble());
        Assert.Equal("fgsm(epsilon=0.2)", json.GetProperty("settings").GetString());

        var stored = SafeTensors.Read(Path.Combine(output, "adversarials.safetensors"));
        Assert.Equal(new long[] { 12, 784 }, stored.Tensors["adversarials"].Shape);
        Assert.Equal(12, Directory.GetFiles(Path.Combine(output, "png"), "*.png").Length);
        var figure = File.ReadAllBytes(Path.Combine(output, "figure5.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, figure[..4]);
        Assert.Equal(784, DigitPng.Decode(File.ReadAllBytes(Directory.GetFiles(Path.Combine(output, "png"))[0])).Length);
        // Grey digits stay grey in the figure: no pixel has channels further apart than the grid's near-black text.
        using (var grid = SkiaSharp.SKBitmap.Decode(figure))
        {
            Assert.DoesNotContain(grid.Pixels, pixel => Math.Max(pixel.Red, Math.Max(pixel.Green, pixel.Blue)) - Math.Min(pixel.Red, Math.Min(pixel.Green, pixel.Blue)) > 32);
        }
        // The examples for NumPy beside them, [N, 1, 28, 28], its path in the JSON next to the PNGs'.
        string npy = json.GetProperty("files").GetProperty("npyFile").GetString()!;
        Assert.Equal(Path.Combine(output, "adversarials.npy"), npy);
        Assert.Contains("'shape': (12, 1, 28, 28)", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(npy)[..128]));
        Assert.Equal(128 + 12 * 784 * sizeof(float), new FileInfo(npy).Length);
    }

    [Fact]
    public void Targeted_lbfgs_fools_every_correct_image_and_prints_a_table()
    {
        string model = TinyModelFile();

        var run = CliRun.Of("attack", "--model", model, "--method", "lbfgs", "--targeted", "--count", "4",
            "--data-dir", mnist.Folder);

        Assert.True(run.ExitCode == 0, run.StandardError);
        Assert.Contains("success rate", run.StandardOutput);
        Assert.Matches(@"100\.00% \(\d+/\d+\)", run.StandardOutput);
        Assert.Contains("still adversarial as 8-bit PNG", run.StandardOutput);
    }

    [Fact]
    public void Unknown_method_is_bad_input_and_lists_the_methods()
    {
        var run = CliRun.Of("attack", "--model", "fc10-1e-4", "--method", "magic", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown attack 'magic'", run.StandardError);
        Assert.Contains("deepfool", run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Theory]
    [InlineData("lbfgs")]
    [InlineData("cw")]
    [InlineData("deepfool")]
    public void An_eps_for_a_minimal_perturbation_attack_is_bad_input_naming_the_option(string method)
    {
        var run = CliRun.Of("attack", "--model", "fc10-1e-4", "--method", method, "--eps", "0.1", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--eps", run.StandardError);
        Assert.Contains(method, run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void Unknown_model_and_missing_model_file_are_bad_input()
    {
        var unknown = CliRun.Of("attack", "--model", "fc999", "--method", "fgsm");
        var missing = CliRun.Of("attack", "--model", Path.Combine(folder, "nothing.safetensors"), "--method", "fgsm",
            "--data-dir", mnist.Folder);

        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("fc999", unknown.StandardError);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nothing.safetensors", missing.StandardError);
    }

    [Theory]
    [InlineData("attack", "--model", "fc10-1e-4", "--method", "fgsm")]
    [InlineData("bench")]
    [InlineData("train", "--model", "fc10-1e-4")]
    [InlineData("reproduce", "--quick")]
    public void Unknown_or_unavailable_device_is_bad_input_before_any_work(params string[] command)
    {
        var unknown = CliRun.Of([.. command, "--device", "tpu"]);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("expected cpu, cuda or cuda:N", unknown.StandardError);
        if (!TorchSharp.torch.cuda.is_available())
        {
            var cuda = CliRun.Of([.. command, "--device", "cuda"]);
            Assert.Equal(2, cuda.ExitCode);
            Assert.Contains("CUDA is not available", cuda.StandardError);
        }
    }

    [Fact]
    public void Explicit_cpu_device_runs()
    {
        var run = CliRun.Of("attack", "--model", TinyModelFile(), "--method", "pgd", "--count", "6", "--device", "cpu",
            "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        Assert.True(run.Json().GetProperty("verified").GetBoolean());
    }

    [Fact]
    public void Square_reports_its_queries()
    {
        var run = CliRun.Of("attack", "--model", TinyModelFile(), "--method", "square", "--count", "20", "--queries", "300",
            "--data-dir", mnist.Folder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal("square", json.GetProperty("method").GetString());
        Assert.True(json.GetProperty("verified").GetBoolean());
        Assert.Equal(300, json.GetProperty("queries").GetInt32());
        Assert.True(json.GetProperty("successes").GetInt32() > 0, "square at eps 0.3 should fool some of 20 digits");
        Assert.InRange(json.GetProperty("medianQueries").GetDouble(), 1, 300);
        Assert.InRange(json.GetProperty("meanLinf").GetDouble(), 0, 0.3 + 1e-6);
        Assert.Equal(0.3, json.GetProperty("epsilon").GetDouble());
        Assert.Equal("square(epsilon=0.3, pInit=0.8, queries=300, rescaleSchedule=True, seed=0)", json.GetProperty("settings").GetString());
    }

    [Fact]
    public void Queries_apply_only_to_square()
    {
        var run = CliRun.Of("attack", "--model", "fc10-1e-4", "--method", "fgsm", "--queries", "100", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--queries", run.StandardError);
    }

    [Theory]
    [InlineData("--count", "0")]
    [InlineData("--eps", "-0.1")]
    [InlineData("--stddev", "-1")]
    [InlineData("--batch", "0")]
    public void Nonsense_numbers_are_bad_input(string option, string value)
    {
        var run = CliRun.Of("attack", "--model", "fc10-1e-4", "--method", "noise", option, value);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(option, run.StandardError);
    }
}
