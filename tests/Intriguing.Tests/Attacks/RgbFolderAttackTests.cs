using System.Text.Json;
using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Tests.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>
/// A folder of 32x32 colour images (tests/fixtures/rgb-folder, 4 classes x 10 PNGs) and a small TorchScript convnet
/// with batch norm trained on them, declared with a per-channel mean and std (tests/fixtures/torchscript/rgb-bn-conv;
/// both made by make_rgb_folder_fixture.py). The folder reads as [3, 32, 32] images, the model gives PyTorch's logits
/// on them, and every gradient attack of the catalogue runs on it with every result verified.
/// </summary>
public sealed class RgbFolderAttackTests : IDisposable
{
    private static readonly string ModelFolder = Path.Combine(TorchScriptFixtures.Folder, "rgb-bn-conv");
    private readonly ImageDataset data = ImageFolder.Load(ModelExportTests.Fixture("rgb-folder"));
    private readonly TrainedModel model = ModelStore.LoadFile(Path.Combine(ModelFolder, "model.pt"));

    public RgbFolderAttackTests() => TorchThreads.UseOne();

    public void Dispose()
    {
        model.Dispose();
        data.Dispose();
    }

    [Fact]
    public void The_folder_reads_as_colour_images_and_the_batch_norm_model_gives_pytorchs_logits()
    {
        using var scope = NewDisposeScope();
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(ModelFolder, "expected.json")));
        var root = expected.RootElement;
        float[][] logits = root.GetProperty("logits").Deserialize<float[][]>()!;

        Assert.Equal([3L, 32, 32], data.ImageShape);
        Assert.Equal(root.GetProperty("classNames").Deserialize<string[]>(), data.ClassNames);
        Assert.Equal(root.GetProperty("labels").Deserialize<long[]>(), data.Test.Labels.data<long>().ToArray());
        Assert.Equal(40, data.Test.Count);
        var declaration = ModelDeclaration.Resolve(model.Path, null);
        Assert.True(declaration.Normalises);
        Assert.Equal(3, declaration.Mean!.Length);

        Tensor ours;
        using (no_grad())
        {
            ours = model.Model.forward(data.Test.Images);
        }
        var theirs = tensor(logits.SelectMany(row => row).ToArray(), [logits.Length, 4]);
        double largest = (ours - theirs).abs().max().item<float>();
        // PyTorch read the same PNG bytes; the logits are up to ~20, written to 6 decimals.
        Assert.True(largest < 1e-4, $"largest difference from PyTorch's logits {largest}");
        Assert.True(ours.argmax(1).eq(data.Test.Labels).all().item<bool>(), "the fixture model classifies every image");
    }

    /// <summary>Every attack of the catalogue that takes gradients (the score-based ones run elsewhere).</summary>
    public static TheoryData<string> GradientMethods()
    {
        var methods = new TheoryData<string>();
        foreach (string method in AttackCatalog.Methods.Where(method => !AttackCatalog.ScoreBasedMethods.Contains(method)))
        {
            methods.Add(method);
        }
        return methods;
    }

    /// <summary>The catalogue's attack with fewer iterations where its defaults are long; any other attack as it comes.</summary>
    private static Attack Cheap(Attack attack) => attack switch
    {
        BoxConstrainedLbfgs lbfgs => lbfgs with { SearchSteps = 3, MaxIterations = 15 },
        CarliniWagnerL2 cw => cw with { BinarySearchSteps = 3, Steps = 20 },
        Pgd pgd => pgd with { Steps = 10, StepSize = pgd.Epsilon / 4 },
        Apgd apgd => apgd with { Iterations = 10 },
        FabTargeted fab => fab with { Iterations = 10 },
        DeepFool deepFool => deepFool with { MaxIterations = 20 },
        _ => attack,
    };

    [Theory]
    [MemberData(nameof(GradientMethods))]
    public void Every_gradient_attack_runs_on_the_colour_images_and_each_result_is_verified(string method)
    {
        using var scope = NewDisposeScope();
        var attack = Cheap(AttackCatalog.Create(method, seed: 1));
        Assert.True(attack.NeedsGradients);

        var result = attack.Run(model.Model, data.Test.Images, data.Test.Labels);

        Assert.True(result.Summary.Verified, $"{attack}: not verified");
        Assert.Equal(0, result.Summary.RejectedClaims);
        Assert.Equal(40, result.Summary.Count);
        Assert.Equal(40, result.Summary.Attempted);
        Assert.Equal([40L, 3 * 32 * 32], result.Adversarials.shape);
        Assert.True(result.Adversarials.isfinite().all().item<bool>());
        Assert.True(result.Adversarials.min().item<float>() >= 0f && result.Adversarials.max().item<float>() <= 1f, $"{attack}: a point outside [0,1]");
        // The successes re-checked here, by a forward pass of the colour images as [N, 3, 32, 32].
        long[] predictions;
        using (no_grad())
        {
            predictions = model.Model.forward(result.Adversarials.reshape(40, 3, 32, 32)).argmax(1).data<long>().ToArray();
        }
        foreach (var example in result.Examples)
        {
            Assert.Equal(predictions[example.Index] != example.Label, example.Success);
            Assert.Equal(predictions[example.Index], example.FinalPrediction);
        }
    }
}
