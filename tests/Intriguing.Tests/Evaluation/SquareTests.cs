using Intriguing.Attacks;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Tests.Attacks;
using static TorchSharp.torch;
using TorchThreads = Intriguing.Tests.Attacks.TorchThreads;

namespace Intriguing.Tests.Evaluation;

/// <summary>
/// The Square attack on the tiny MLP trained in-test on synthetic ten-class images: it breaks the model within a few
/// hundred queries, stays in its ball and the box, repeats with a seed, gives each row the same result in any batch,
/// and still breaks a model whose gradients are masked (input rounding) where FGSM and PGD fail.
/// </summary>
public class SquareTests
{
    public SquareTests() => TorchThreads.UseOne();

    [Fact]
    public void Linf_breaks_a_small_model_within_a_few_hundred_queries_and_every_success_is_verified()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = SyntheticData.Images(40, seed: 3);
        var model = SyntheticData.Mlp;

        var result = new SquareLinf { Epsilon = 0.3, Queries = 1000, Seed = 1 }.Run(model, images, labels);

        Assert.True(result.Summary.Attempted >= 36, "the tiny model gets most synthetic images right");
        Assert.True(result.Summary.SuccessRate >= 0.8, $"square L-inf eps 0.3 fooled only {result.Summary.SuccessRate}");
        var spent = result.Examples.Where(example => example.Success).Select(example => example.GradientEvaluations).Order().ToList();
        Assert.True(spent[spent.Count / 2] <= 600, $"median queries {spent[spent.Count / 2]}");
        Assert.True(result.Summary.Verified);
        Assert.Equal(0, result.Summary.RejectedClaims);
        // A fresh forward pass of the points handed out confirms each success; every point is in the eps-cube and in [0,1].
        var predictions = GradientFree(model, result.Adversarials).cpu().data<long>().ToArray();
        var linf = (result.Adversarials - images).abs().amax(1).cpu().data<float>().ToArray();
        foreach (var example in result.Examples)
        {
            Assert.True(linf[example.Index] <= 0.3 + 1e-6, $"row {example.Index} moved {linf[example.Index]}");
            Assert.True(example.GradientEvaluations is >= 1 and <= 1000);
            if (example.Success)
            {
                Assert.NotEqual(example.Label, (int)predictions[example.Index]);
            }
        }
        Assert.True(result.Adversarials.min().item<float>() >= 0 && result.Adversarials.max().item<float>() <= 1);
    }

    [Fact]
    public void L2_stays_in_its_ball_and_breaks_the_model()
    {
        using var scope = NewDisposeScope();
        // A random linear model, labelled by its own predictions: small margins, so an L2 budget of 2 suffices.
        var (images, _) = SyntheticData.Images(20, seed: 4);
        using var model = LinearClassifier.Random(seed: 3);
        var labels = model.Predict(images);

        var result = new SquareL2 { Epsilon = 2.0, Queries = 300, Seed = 2 }.Run(model, images, labels);

        var l2 = (result.Adversarials - images).square().sum(1).sqrt();
        Assert.True(l2.max().item<float>() <= 2.0 + 1e-4, $"largest L2 change {l2.max().item<float>()}");
        Assert.True(result.Adversarials.min().item<float>() >= 0 && result.Adversarials.max().item<float>() <= 1);
        Assert.True(result.Summary.Verified);
        Assert.True(result.Summary.SuccessRate >= 0.8, $"square L2 eps 2 fooled only {result.Summary.SuccessRate}");
    }

    [Theory]
    [InlineData("square")]
    [InlineData("square-l2")]
    public void Same_seed_same_result_and_a_row_does_not_depend_on_its_batch(string method)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = SyntheticData.Images(9, seed: 5);
        // A small budget and eps, so some rows take many iterations and some are still unbroken at the end.
        var attack = AttackCatalog.Create(method, epsilon: method == "square" ? 0.12 : 0.8, seed: 4, queries: 120);

        var whole = attack.Run(SyntheticData.Mlp, images, labels, batchSize: 9);
        var again = attack.Run(SyntheticData.Mlp, images, labels, batchSize: 9);
        var inThrees = attack.Run(SyntheticData.Mlp, images, labels, batchSize: 3);
        var otherSeed = attack.WithSeed(5).Run(SyntheticData.Mlp, images, labels, batchSize: 9);

        Assert.True(whole.Adversarials.eq(again.Adversarials).all().item<bool>());
        Assert.True(whole.Adversarials.allclose(inThrees.Adversarials, rtol: 0, atol: 1e-6));
        Assert.Equal(whole.Examples.Select(example => example.GradientEvaluations), inThrees.Examples.Select(example => example.GradientEvaluations));
        Assert.False(whole.Adversarials.eq(otherSeed.Adversarials).all().item<bool>());
        Assert.Contains(whole.Examples, example => example.GradientEvaluations > 1);
    }

    [Fact]
    public void Masked_gradients_defeat_fgsm_and_pgd_but_not_square()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = SyntheticData.Images(30, seed: 6);
        using var masked = new RoundedInput(SyntheticData.Mlp);

        var fgsm = new Fgsm { Epsilon = 0.3 }.Run(masked, images, labels);
        var pgd = new PgdLinf { Epsilon = 0.3, RandomStart = false }.Run(masked, images, labels);
        var square = new SquareLinf { Epsilon = 0.3, Queries = 2000, Seed = 3 }.Run(masked, images, labels);

        Assert.True(square.Summary.Attempted >= 25);
        Assert.Equal(0, fgsm.Summary.Successes);
        Assert.Equal(0, pgd.Summary.Successes);
        Assert.True(square.Summary.SuccessRate >= 0.8, $"square fooled only {square.Summary.SuccessRate} of the masked model");
        Assert.True(square.Summary.Verified);
    }

    [Fact]
    public void The_schedule_halves_p_at_the_papers_points_rescaled_to_the_budget()
    {
        var full = new SquareLinf { Queries = 10000 };
        Assert.Equal(0.8, full.FractionAt(10));
        Assert.Equal(0.4, full.FractionAt(11));
        Assert.Equal(0.2, full.FractionAt(51));
        Assert.Equal(0.8 / 512, full.FractionAt(9000));
        var short1000 = new SquareLinf { Queries = 1000 };
        Assert.Equal(0.8, short1000.FractionAt(1));
        Assert.Equal(0.4, short1000.FractionAt(2));
        Assert.Equal(0.8 / 16, short1000.FractionAt(51));
    }

    [Fact]
    public void Settings_out_of_range_are_bad_input()
    {
        var (images, labels) = SyntheticData.Images(2, seed: 1);
        Assert.Throws<BadInputException>(() => new SquareLinf { Queries = 0 }.Run(SyntheticData.Mlp, images, labels));
        Assert.Throws<BadInputException>(() => new SquareL2 { Epsilon = double.NaN }.Run(SyntheticData.Mlp, images, labels));
        Assert.Throws<BadInputException>(() => AttackCatalog.Create("fgsm", queries: 100));
        Assert.Throws<BadInputException>(() => AttackCatalog.Create("square", queries: 0));
        Assert.Equal("square(epsilon=0.3, pInit=0.8, queries=5000, rescaleSchedule=True, seed=0)", AttackCatalog.Create("square").Describe());
    }

    [Fact]
    public void The_cascades_schedule_keeps_the_10000_query_points()
    {
        var square = new SquareLinf { PInit = 0.8, Queries = 5000, RescaleSchedule = false };
        Assert.Equal([0.8, 0.8, 0.4, 0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625],
            new[] { 0, 10, 11, 51, 201, 501, 1001, 2001, 4001 }.Select(square.FractionAt));
        Assert.Equal(0.8 / 256, (square with { Queries = 10000 }).FractionAt(6001));
    }

    [Fact]
    public void Square_breaks_a_model_whose_gradients_are_masked_where_pgd_cannot()
    {
        using var scope = NewDisposeScope();
        // A linear model on images near mid-grey, behind a rounding of its input to 1/16 (zero gradient everywhere).
        var linear = LinearClassifier.Random(seed: 8);
        var masked = new Quantised(linear);
        var generator = new Generator(108, CPU);
        var images = (0.5 + 0.1 * randn(40, 784, generator: generator)).clamp(0, 1).to_type(ScalarType.Float32);
        var labels = masked.Predict(images);
        const double eps = 0.1;

        var pgd = new PgdLinf { Epsilon = eps, StepSize = eps / 10, Steps = 40, RandomStart = false }.Run(masked, images, labels);
        var onTheLinearModel = new PgdLinf { Epsilon = eps, StepSize = eps / 10, Steps = 40, RandomStart = false }.Run(linear, images, linear.Predict(images));
        var square = new SquareLinf { Epsilon = eps, Queries = 300, Seed = 1 }.Run(masked, images, labels);

        Assert.Equal(0, pgd.Examples.Count(example => example.Success));
        Assert.True(onTheLinearModel.Examples.Count(example => example.Success) >= 30, "the unmasked model should be easy to fool at this eps");
        int fooled = square.Examples.Count(example => example.Success);
        Assert.True(fooled >= 30, $"Square fooled {fooled} of 40");
        Assert.True(square.Summary.Verified);
        Assert.True((square.Adversarials - images).abs().max().item<float>() <= eps + 1e-6);
        Assert.True(square.Adversarials.ge(0).all().item<bool>() && square.Adversarials.le(1).all().item<bool>());
        // Fooled rows stop early: fewer queries than the budget.
        Assert.Contains(square.Examples, example => example.Success && example.GradientEvaluations < 300);
    }

    [Fact]
    public void A_rows_result_does_not_depend_on_its_batch_and_the_seed_matters()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 9);
        var generator = new Generator(109, CPU);
        var images = (0.5 + 0.1 * randn(10, 784, generator: generator)).clamp(0, 1).to_type(ScalarType.Float32);
        var labels = model.Predict(images);
        var square = new SquareLinf { Epsilon = 0.02, Queries = 60, Seed = 3 };

        var whole = square.Run(model, images, labels, batchSize: 10);
        var split = square.Run(model, images, labels, batchSize: 3);
        var other = (square with { Seed = 4 }).Run(model, images, labels);

        Assert.True(whole.Adversarials.allclose(split.Adversarials, rtol: 0, atol: 1e-6));
        Assert.False(whole.Adversarials.allclose(other.Adversarials, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void A_score_only_model_refuses_gradient_attacks_by_name_and_takes_square_and_noise()
    {
        using var scope = NewDisposeScope();
        var scoreOnly = new ScoreOnly(SyntheticData.Mlp);
        var (images, labels) = SyntheticData.Images(8, seed: 33);

        var error = Assert.Throws<BadInputException>(() => new Fgsm { Epsilon = 0.1 }.Run(scoreOnly, images, labels));
        Assert.Contains("square", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<BadInputException>(() => new ApgdLinf().Perturb(scoreOnly, images, labels));
        Assert.True(new SquareLinf { Epsilon = 0.2, Queries = 50 }.Run(scoreOnly, images, labels).Summary.Verified);
        Assert.Equal(8, new GaussianNoise().Run(scoreOnly, images, labels).Examples.Count);
    }

    private static Tensor GradientFree(Classifier model, Tensor images)
    {
        using var noGrad = no_grad();
        return model.forward(images).argmax(1);
    }

    /// <summary>
    /// x -> logits(round(4x) / 4): the same decisions on a coarse grid, but the rounding's derivative is zero
    /// everywhere, so every input gradient is exactly zero (a masked-gradient model).
    /// </summary>
    private sealed class RoundedInput(Classifier inner) : Classifier("rounded-input", inner.Input)
    {
        public override Tensor forward(Tensor input) => inner.forward((Flatten(input) * 4).round() / 4);

        public override Tensor WeightPenalty() => zeros(1).sum();
    }

    /// <summary>The MLP on its input rounded to 1/16: the rounding has a zero gradient everywhere.</summary>
    private sealed class Quantised(Classifier inner) : Classifier("quantised")
    {
        public override Tensor forward(Tensor input) => inner.forward((Flatten(input) * 16).round() / 16);

        public override Tensor WeightPenalty() => zeros(1);
    }

    /// <summary>The MLP declared score-only, as an ONNX model is.</summary>
    private sealed class ScoreOnly(Classifier inner) : Classifier("score-only")
    {
        public override bool ProvidesInputGradients => false;

        public override Tensor forward(Tensor input) => inner.forward(input);

        public override Tensor WeightPenalty() => zeros(1);
    }
}
