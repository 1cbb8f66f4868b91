using Intriguing.Attacks;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Tests.Attacks;
using static TorchSharp.torch;
using TorchThreads = Intriguing.Tests.Attacks.TorchThreads;

namespace Intriguing.Tests.Evaluation;

/// <summary>
/// The cascade against known answers (on a linear model an image is robust exactly when its closed-form L-inf distance
/// to the boundary exceeds eps), its bookkeeping (each stage sees only the images still robust; the worst case per
/// image), and the reference's checks, each triggered by a model built to trip it.
/// </summary>
public class AutoAttackTests
{
    public AutoAttackTests() => TorchThreads.UseOne();

    [Fact]
    public void On_a_linear_model_the_robust_images_are_exactly_those_farther_than_eps()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.TwoClass(seed: 6);
        var generator = new Generator(106, CPU);
        var images = (0.5 + 0.02 * randn(40, 784, generator: generator)).to_type(ScalarType.Float32);
        var labels = model.Predict(images);
        var difference = model.Weights[0] - model.Weights[1];
        var exact = ((images.matmul(difference) + (model.Biases[0] - model.Biases[1])).abs() / difference.abs().sum())
            .to_type(ScalarType.Float64).data<double>().ToArray();
        double eps = exact.Order().ElementAt(20);
        // Keep clear of images within 1% of eps, where the answer would rest on float rounding.
        var decided = Enumerable.Range(0, 40).Where(i => Math.Abs(exact[i] - eps) > 0.01 * eps).ToHashSet();

        using var result = AutoAttack.Run(model, images, labels, eps, ThreatNorm.Linf, AutoAttackVersion.Fast);

        Assert.Equal(1.0, result.CleanAccuracy);
        foreach (int i in decided)
        {
            Assert.True(result.Images[i].Robust == exact[i] > eps, $"image {i}: distance {exact[i]:G4}, eps {eps:G4}, broken by {result.Images[i].BrokenBy}");
        }
        Assert.All(result.Images.Where(image => !image.Robust), image => Assert.True(image.Linf <= eps + 1e-6));
    }

    [Fact]
    public void Each_stage_attacks_only_the_images_still_robust_and_the_worst_case_is_kept()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(150, seed: 21);
        const double eps = 0.1;

        using var result = AutoAttack.Run(model, images, labels, eps, ThreatNorm.Linf, AutoAttackVersion.Fast, seed: 3);
        var pgd = new PgdLinf { Epsilon = eps, StepSize = eps / 10, Steps = 40 }.Run(model, images, labels);

        Assert.Equal(["apgd-ce", "apgd-t"], result.Stages.Select(stage => stage.Name));
        int correct = result.Images.Count(image => image.CleanCorrect);
        Assert.Equal(correct, result.Stages[0].Attacked);
        Assert.Equal(result.Stages[0].Attacked - result.Stages[0].BrokeImages, result.Stages[1].Attacked);
        Assert.Equal(result.Stages.Sum(stage => stage.BrokeImages), result.Images.Count(image => image.BrokenBy is not null));
        double pgdRobust = pgd.Examples.Count(example => example.OriginallyCorrect && !example.Success) / 150.0;
        Assert.True(result.RobustAccuracy <= pgdRobust, $"cascade {result.RobustAccuracy:P1} vs PGD-40 {pgdRobust:P1}");
        Assert.InRange(result.RobustAccuracy, result.RobustInterval[0], result.RobustInterval[1]);
        // Every broken image's point is adversarial on a fresh pass, inside the ball and the box.
        var broken = tensor(result.Images.Where(image => image.BrokenBy is not null).Select(image => (long)image.Index).ToArray());
        var points = result.Adversarials.index_select(0, broken);
        Assert.True(model.Predict(points).ne(labels.index_select(0, broken)).all().item<bool>());
        Assert.True((points - images.index_select(0, broken)).abs().max().item<float>() <= eps + 1e-6);
        Assert.True(points.ge(0).all().item<bool>() && points.le(1).all().item<bool>());
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void An_images_outcome_does_not_depend_on_which_images_are_evaluated_with_it()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(60, seed: 23);
        const double eps = 0.1;

        using var whole = AutoAttack.Run(model, images, labels, eps, ThreatNorm.Linf, AutoAttackVersion.Fast, seed: 5);
        // The last 35 images as a run of their own (a shard), numbered from their place in the whole: the images the
        // first stage breaks differ in number from the whole run's, so the robust images sit at other positions.
        using var part = AutoAttack.Run(model, images.narrow(0, 25, 35), labels.narrow(0, 25, 35), eps, ThreatNorm.Linf,
            AutoAttackVersion.Fast, seed: 5, firstImage: 25);

        Assert.Contains(whole.Images, image => image.BrokenBy == "apgd-ce");
        Assert.Contains(whole.Images.Skip(25), image => image.Robust);
        for (int i = 0; i < 35; i++)
        {
            Assert.Equal(whole.Images[25 + i].BrokenBy, part.Images[i].BrokenBy);
            Assert.Equal(whole.Images[25 + i].Linf, part.Images[i].Linf);
        }
        Assert.True(whole.Adversarials.narrow(0, 25, 35).eq(part.Adversarials).all().item<bool>());
    }

    [Fact]
    public void The_checks_flag_probabilities_randomness_and_zero_gradients()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = SyntheticData.Images(20, seed: 22);

        var softmaxed = AutoAttackChecks.Before(new Wrapped(SyntheticData.Mlp, logits => nn.functional.softmax(logits, 1)), images, labels);
        var noisy = AutoAttackChecks.Before(new Wrapped(SyntheticData.Mlp, logits => logits + 0.1 * randn_like(logits)), images, labels);
        var flat = AutoAttackChecks.Before(new Wrapped(SyntheticData.Mlp, logits => logits.detach()), images, labels);
        var clean = AutoAttackChecks.Before(SyntheticData.Mlp, images, labels);

        Assert.Contains(softmaxed, warning => warning.Contains("probabilities, not logits"));
        Assert.Contains(noisy, warning => warning.Contains("randomised"));
        Assert.Contains(flat, warning => warning.Contains("20 of 20 images have an input gradient of exactly zero"));
        Assert.Empty(clean);
        Assert.Contains(AutoAttackChecks.After([new("apgd-ce", 100, 10, 1, ""), new("square", 90, 3, 1, "")], 100),
            warning => warning.Contains("broke 3 of 100"));
        Assert.Empty(AutoAttackChecks.After([new("apgd-ce", 100, 10, 1, ""), new("square", 90, 0, 1, "")], 100));
    }

    [Fact]
    public void A_bad_eps_is_named()
    {
        Assert.Contains("--eps", Assert.Throws<BadInputException>(() => AutoAttack.Stages(AutoAttackVersion.Fast, ThreatNorm.Linf, 0)).Message);
        Assert.Contains("--eps", Assert.Throws<BadInputException>(() => AutoAttack.Stages(AutoAttackVersion.Fast, ThreatNorm.L2, double.NaN)).Message);
    }

    [Fact]
    public void A_score_only_model_gets_square_alone_with_a_warning_and_a_gradient_stage_is_refused_by_name()
    {
        using var scope = NewDisposeScope();
        var scoreOnly = new ScoreOnly(SyntheticData.Mlp);
        var (images, labels) = SyntheticData.Images(12, seed: 22);

        using var result = AutoAttack.Run(scoreOnly, images, labels, 0.3, ThreatNorm.Linf, AutoAttackVersion.Fast, seed: 1);
        using var l2 = AutoAttack.Run(scoreOnly, images, labels, 4.0, ThreatNorm.L2, AutoAttackVersion.Standard, seed: 1);
        var refused = Assert.Throws<BadInputException>(() => AutoAttack.RunStages(scoreOnly, images, labels, 0.1, ThreatNorm.Linf,
            AutoAttackVersion.Fast, AutoAttack.Stages(AutoAttackVersion.Fast, ThreatNorm.Linf, 0.1)));

        Assert.Equal(["square"], result.Stages.Select(stage => stage.Name));
        Assert.Equal(["square-l2"], l2.Stages.Select(stage => stage.Name));
        Assert.Contains(result.Warnings, warning => warning.Contains("scores only"));
        Assert.True(result.Stages[0].BrokeImages > 0, "Square breaks some images of the small MLP at eps 0.3");
        Assert.Contains("apgd-ce", refused.Message);
        Assert.Contains("square", refused.Message);
    }

    /// <summary>The MLP declared score-only, as an ONNX model is.</summary>
    private sealed class ScoreOnly(Classifier inner) : Classifier("score-only")
    {
        public override bool ProvidesInputGradients => false;

        public override Tensor forward(Tensor input) => inner.forward(input);

        public override Tensor WeightPenalty() => zeros(1);
    }

    /// <summary>A model whose logits pass through <paramref name="change"/>: a softmax, noise, or a cut gradient.</summary>
    private sealed class Wrapped(Classifier inner, Func<Tensor, Tensor> change) : Classifier("wrapped")
    {
        public override Tensor forward(Tensor input) => change(inner.forward(input));

        public override Tensor WeightPenalty() => zeros(1);
    }
}
