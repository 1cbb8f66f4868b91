using System.Text.Json;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>adv-train</c> on real MNIST, in a temporary home: one quick epoch of FGSM training of the softmax model, the
/// document's fields (docs/json-output.md), the stored model, and the gradient-masking checks.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class AdvTrainRunTests : IDisposable
{
    private readonly TemporaryHome home = new("advtrain");
    private readonly string mnist;

    public AdvTrainRunTests(RealMnist realMnist)
    {
        mnist = realMnist.Folder;
        set_num_threads(1);
    }

    public void Dispose() => home.Dispose();

    [Fact]
    public void Fgsm_training_reports_both_models_the_same_way_and_checks_for_gradient_masking()
    {
        var run = CliRun.Of("adv-train", "--model", "fc10-1e-4", "--method", "fgsm", "--eps", "0.1", "--quick", "--epochs", "1",
            "--robust-count", "100", "--lbfgs-count", "10", "--masking-count", "40", "--data-dir", mnist, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal("fc10-1e-4", json.GetProperty("model").GetString());
        Assert.Equal("fgsm", json.GetProperty("method").GetString());
        Assert.Equal(1, json.GetProperty("epochs").GetInt32());
        Assert.InRange(json.GetProperty("testError").GetDouble(), 0.02, 0.3);
        Assert.True(File.Exists(json.GetProperty("path").GetString()));
        Assert.False(File.Exists(json.GetProperty("path").GetString() + ".checkpoint"), "the checkpoint outlived the finished model");
        foreach (var name in new[] { "robust", "baselineRobust" })
        {
            var robust = json.GetProperty(name);
            Assert.Equal(100, robust.GetProperty("attackedImages").GetInt32());
            // L-BFGS attacks the images of the first 10 the model gets right.
            Assert.InRange(robust.GetProperty("lbfgsAttempted").GetInt32(), 7, 10);
            Assert.Equal(["0.1", "0.25"], robust.GetProperty("fgsmErrorByEps").EnumerateObject().Select(entry => entry.Name));
        }
        // One epoch of FGSM training at 0.1 already lowers the softmax model's FGSM error at 0.1.
        Assert.True(json.GetProperty("robust").GetProperty("fgsmErrorByEps").GetProperty("0.1").GetDouble()
            < json.GetProperty("baselineRobust").GetProperty("fgsmErrorByEps").GetProperty("0.1").GetDouble(), json.ToString());

        var masking = json.GetProperty("masking");
        Assert.Equal(40, masking.GetProperty("count").GetInt32());
        Assert.Equal(10, masking.GetProperty("restarts").GetInt32());
        foreach (var eps in new[] { "0.1", "0.3" })
        {
            Assert.True(masking.GetProperty("restartsError").GetProperty(eps).GetDouble() >= masking.GetProperty("pgdError").GetProperty(eps).GetDouble());
            Assert.InRange(masking.GetProperty("transferError").GetProperty(eps).GetDouble(), 0, 1);
        }
        Assert.Contains(masking.GetProperty("suspect").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
    }
}
