using Intriguing.Attacks;
using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>
/// One data-driven test over every attack x small model (Foolbox 3's conformance idea): outputs lie in the box, every
/// reported success is confirmed by an independent forward pass, eps-attacks respect their bound, and each image's
/// result does not depend on the other images in its batch.
/// </summary>
public class AttackConformanceTests
{
    public AttackConformanceTests() => TorchThreads.UseOne();

    private const int ImageCount = 6;

    private static Attack Create(string method) => method switch
    {
        "lbfgs" => new BoxConstrainedLbfgs { SearchSteps = 5, MaxIterations = 20 },
        "fgsm" => new Fgsm { Epsilon = 0.1 },
        "pgd" => new PgdLinf { Epsilon = 0.1, StepSize = 0.02, Steps = 10, RandomStart = false },
        "pgd-random" => new PgdLinf { Epsilon = 0.1, StepSize = 0.02, Steps = 10, Restarts = 2, Seed = 3 },
        "pgd-l2" => new PgdL2 { Epsilon = 1.5, StepSize = 0.3, Steps = 10, RandomStart = false },
        "cw" => new CarliniWagnerL2 { BinarySearchSteps = 4, Steps = 30 },
        "cw-tensors" => new CarliniWagnerL2 { BinarySearchSteps = 4, Steps = 30, UseTensorOperations = true },
        "deepfool" => new DeepFool(),
        "noise" => new GaussianNoise { StandardDeviation = 0.3, Seed = 2 },
        _ => throw new ArgumentException(method),
    };

    /// <summary>Attacks whose randomness depends on the batch: checked for repeatability instead of independence.</summary>
    private static bool IsRandom(string method) => method is "noise" or "pgd-random";

    private static double? LinfBound(string method) => method switch
    {
        "fgsm" or "pgd" or "pgd-random" => 0.1,
        _ => null,
    };

    private static Classifier Model(string model) => model switch
    {
        "linear" => LinearClassifier.Random(seed: 21),
        _ => SyntheticData.Mlp,
    };

    public static TheoryData<string, string, bool> Cases()
    {
        var cases = new TheoryData<string, string, bool>();
        foreach (var method in new[] { "lbfgs", "fgsm", "pgd", "pgd-random", "pgd-l2", "cw", "cw-tensors", "deepfool", "noise" })
        {
            foreach (var model in new[] { "linear", "mlp" })
            {
                cases.Add(method, model, false);
                cases.Add(method, model, true);
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Attack_results_are_in_the_box_verified_bounded_and_per_sample(string method, string modelName, bool targeted)
    {
        using var scope = NewDisposeScope();
        var model = Model(modelName);
        var (images, labels) = SyntheticData.Images(ImageCount, seed: 9);
        var targets = targeted ? AttackTargets.RandomWrong(labels, seed: 5) : null;
        var attack = Create(method);

        var result = attack.Run(model, images, labels, targets);

        // In the box.
        Assert.True(result.Adversarials.min().item<float>() >= 0 && result.Adversarials.max().item<float>() <= 1);
        // Every success re-checked here, independently of the library's own verification.
        using (no_grad())
        {
            var predictions = model.forward(result.Adversarials).argmax(1).data<long>().ToArray();
            foreach (var example in result.Examples)
            {
                bool reallyAdversarial = targeted ? predictions[example.Index] == example.Target : predictions[example.Index] != example.Label;
                Assert.Equal(reallyAdversarial, example.Success);
                Assert.Equal(predictions[example.Index], example.FinalPrediction);
            }
        }
        Assert.True(result.Summary.Verified);
        if (LinfBound(method) is double bound)
        {
            Assert.All(result.Examples, example => Assert.True(example.Linf <= bound + 1e-6, $"linf {example.Linf} > {bound}"));
        }

        if (IsRandom(method))
        {
            var again = Create(method).Run(model, images, labels, targets);
            Assert.True(again.Adversarials.eq(result.Adversarials).all().item<bool>(), "same seed must give the same images");
            return;
        }
        // Per-sample independence: each image attacked alone gets the batch's result.
        for (int i = 0; i < ImageCount; i++)
        {
            var alone = Create(method).Run(model, images.narrow(0, i, 1), labels.narrow(0, i, 1), targets?.narrow(0, i, 1));
            var inBatch = result.Examples[i];
            Assert.Equal(inBatch.Success, alone.Examples[0].Success);
            Assert.Equal(inBatch.Distortion, alone.Examples[0].Distortion, 2e-3);
            Assert.Equal(inBatch.GradientEvaluations, alone.Examples[0].GradientEvaluations, 0.25 * inBatch.GradientEvaluations + 2);
        }
    }

    [Fact]
    public void Criteria_margin_is_negative_exactly_when_adversarial()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[,] { { 3, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, { 1, 3, 0, 0, 0, 0, 0, 0, 0, 0 } });
        var labels = tensor(new long[] { 0, 0 });
        var targets = tensor(new long[] { 1, 1 });
        var untargeted = new Misclassification(labels);
        var targetedCriterion = new TargetedMisclassification(labels, targets);

        Assert.Equal(new[] { false, true }, untargeted.IsAdversarial(logits).data<bool>().ToArray());
        Assert.Equal(new[] { false, true }, untargeted.Margin(logits).lt(0).data<bool>().ToArray());
        Assert.Equal(new[] { false, true }, targetedCriterion.Margin(logits).lt(0).data<bool>().ToArray());
    }

    [Fact]
    public void Random_targets_are_seeded_and_never_the_label()
    {
        using var scope = NewDisposeScope();
        var labels = arange(1000, dtype: ScalarType.Int64).remainder(10);

        var first = AttackTargets.RandomWrong(labels, seed: 4);
        var second = AttackTargets.RandomWrong(labels, seed: 4);

        Assert.True(first.eq(second).all().item<bool>());
        Assert.False(first.eq(labels).any().item<bool>());
        Assert.Equal(10, first.unique().Item1.shape[0]);
    }

    /// <summary>
    /// C&amp;W's fused CPU path and its tensor path (the one other devices take) are the same mathematics: same successes,
    /// distortions equal up to float rounding.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FusedAndTensorCarliniWagnerAgree(bool targeted)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = SyntheticData.Images(ImageCount, seed: 5);
        var targets = targeted ? AttackTargets.RandomWrong(labels, seed: 4) : null;
        var fused = new CarliniWagnerL2 { BinarySearchSteps = 4, Steps = 30 }.Run(SyntheticData.Mlp, images, labels, targets);
        var tensors = new CarliniWagnerL2 { BinarySearchSteps = 4, Steps = 30, UseTensorOperations = true }
            .Run(SyntheticData.Mlp, images, labels, targets);

        Assert.True(fused.Summary.Successes > 0);
        for (int i = 0; i < ImageCount; i++)
        {
            Assert.Equal(tensors.Examples[i].Success, fused.Examples[i].Success);
            Assert.Equal(tensors.Examples[i].L2, fused.Examples[i].L2, 2e-3);
        }
    }
}
