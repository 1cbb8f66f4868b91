using Intriguing.Attacks;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Tests.Attacks;
using static TorchSharp.torch;
using TorchThreads = Intriguing.Tests.Attacks.TorchThreads;

namespace Intriguing.Tests.Evaluation;

/// <summary>
/// Square against cases with known answers: a model whose input gradients are zero (its input is quantised) defeats
/// PGD but not Square; a score-only model refuses gradient attacks and takes Square; the schedule is the paper's.
/// </summary>
public class SquareTests
{
    public SquareTests() => TorchThreads.UseOne();

    [Fact]
    public void The_window_schedule_is_the_papers()
    {
        var square = new Square { InitialFraction = 0.8 };
        Assert.Equal([0.8, 0.8, 0.4, 0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125, 0.0015625],
            new[] { 0, 10, 11, 51, 201, 501, 1001, 2001, 4001, 6001, 8001 }.Select(square.Fraction));
        var rescaled = square with { Queries = 1000, RescaleSchedule = true };
        Assert.Equal(0.4, rescaled.Fraction(2));
        Assert.Equal(0.8 / 512, rescaled.Fraction(900));
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
        var square = new Square { Epsilon = eps, Queries = 300, Seed = 1 }.Run(masked, images, labels);

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
        var square = new Square { Epsilon = 0.02, Queries = 60, Seed = 3 };

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
        Assert.True(new Square { Epsilon = 0.2, Queries = 50 }.Run(scoreOnly, images, labels).Summary.Verified);
        Assert.Equal(8, new GaussianNoise().Run(scoreOnly, images, labels).Examples.Count);
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
