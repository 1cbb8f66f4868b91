using Intriguing.Attacks;
using Intriguing.Evaluation;
using Intriguing.Tests.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Tests.Evaluation;

/// <summary>
/// APGD against known answers: on a linear two-class model the smallest L-inf perturbation that flips an image is
/// |margin| / ||w_0 - w_1||_1, so every loss must succeed just above it and cannot below it; on a trained MLP it must
/// find at least what PGD-40 finds; its schedule is the paper's; rows are independent of their batch.
/// </summary>
public class ApgdTests
{
    public ApgdTests() => TorchThreads.UseOne();

    [Fact]
    public void The_step_size_checkpoints_are_the_papers()
    {
        Assert.Equal([22, 41, 57, 70, 80, 87, 93, 99], Apgd.Checkpoints(100));
        Assert.Equal([1, 2, 3, 4, 5], Apgd.Checkpoints(5));
        Assert.Equal([220, 410, 570, 700, 800, 870, 930, 990], Apgd.Checkpoints(1000).Take(8));
    }

    public static TheoryData<ApgdLoss> Losses() => [ApgdLoss.CrossEntropy, ApgdLoss.Dlr, ApgdLoss.TargetedDlr];

    [Theory]
    [MemberData(nameof(Losses))]
    public void On_a_linear_model_it_succeeds_just_above_the_closed_form_linf_distance_and_never_below(ApgdLoss loss)
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.TwoClass(seed: 5);
        var generator = new Generator(105, CPU);
        var images = (0.5 + 0.02 * randn(8, 784, generator: generator)).to_type(ScalarType.Float32);
        var labels = model.Predict(images);
        var difference = model.Weights[0] - model.Weights[1];
        var margins = (images.matmul(difference) + (model.Biases[0] - model.Biases[1])).abs();
        var exact = (margins / difference.abs().sum()).to_type(ScalarType.Float64).data<double>().ToArray();
        double largest = exact.Max(), smallest = exact.Min();

        var above = new ApgdLinf { Epsilon = largest * 1.02, Loss = loss, Iterations = 50 }.Run(model, images, labels);
        var below = new ApgdLinf { Epsilon = smallest * 0.98, Loss = loss, Iterations = 50 }.Run(model, images, labels);

        Assert.All(above.Examples, example => Assert.True(example.Success, $"image {example.Index}: not fooled at 1.02 x its distance"));
        Assert.All(above.Examples, example => Assert.InRange(example.Linf, exact[example.Index] * 0.999, largest * 1.02 + 1e-6));
        Assert.All(below.Examples, example => Assert.False(example.Success));
        Assert.True(above.Summary.Verified);
    }

    [Fact]
    public void On_a_trained_mlp_it_finds_at_least_what_pgd_finds_and_every_point_stays_in_the_ball_and_box()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(200, seed: 11);
        const double eps = 0.1;

        var pgd = new PgdLinf { Epsilon = eps, StepSize = eps / 10, Steps = 40 }.Run(model, images, labels);
        var apgdCe = new ApgdLinf { Epsilon = eps }.Run(model, images, labels);
        var apgdT = new ApgdLinf { Epsilon = eps, Loss = ApgdLoss.TargetedDlr }.Run(model, images, labels);

        int pgdFooled = pgd.Examples.Count(example => example.Success);
        Assert.InRange(pgdFooled, 20, 150);
        Assert.True(apgdCe.Examples.Count(example => example.Success) >= pgdFooled,
            $"APGD-CE fooled {apgdCe.Examples.Count(example => example.Success)}, PGD-40 {pgdFooled}");
        Assert.True(apgdT.Examples.Count(example => example.Success) >= pgdFooled);
        foreach (var result in new[] { apgdCe, apgdT })
        {
            Assert.True(result.Summary.Verified);
            Assert.True(result.Adversarials.ge(0).all().item<bool>() && result.Adversarials.le(1).all().item<bool>());
            Assert.True((result.Adversarials - images).abs().max().item<float>() <= eps + 1e-6);
            // A row stops once fooled: fooled rows used fewer passes than the 101 of a full run.
            Assert.Contains(result.Examples, example => example.Success && example.GradientEvaluations < 101);
        }
    }

    [Fact]
    public void The_l2_version_stays_in_its_ball_and_beats_pgd_l2()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(100, seed: 12);
        const double eps = 0.8;

        var apgd = new ApgdL2 { Epsilon = eps }.Run(model, images, labels);
        var pgd = new PgdL2 { Epsilon = eps, StepSize = eps / 10, Steps = 40 }.Run(model, images, labels);

        Assert.Equal("apgd-ce-l2", apgd.Summary.Method);
        Assert.True((apgd.Adversarials - images).square().sum(1).sqrt().max().item<float>() <= eps + 1e-4);
        Assert.True(apgd.Examples.Count(example => example.Success) >= pgd.Examples.Count(example => example.Success));
    }

    [Fact]
    public void A_rows_result_does_not_depend_on_its_batch_and_the_seed_decides_the_start()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(12, seed: 13);
        var attack = new ApgdLinf { Epsilon = 0.1, Iterations = 30, Seed = 4 };

        var whole = attack.Run(model, images, labels, batchSize: 12);
        var ones = attack.Run(model, images, labels, batchSize: 1);
        var again = attack.Run(model, images, labels, batchSize: 5);
        var otherSeed = new ApgdLinf { Epsilon = 0.1, Iterations = 30, Seed = 5 }.Run(model, images, labels);

        Assert.True(whole.Adversarials.allclose(ones.Adversarials, rtol: 0, atol: 1e-6));
        Assert.True(whole.Adversarials.allclose(again.Adversarials, rtol: 0, atol: 1e-6));
        Assert.False(whole.Adversarials.allclose(otherSeed.Adversarials, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Bad_settings_and_too_few_classes_are_named()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(2, seed: 14);
        Assert.Contains("eps", Assert.Throws<BadInputException>(() => new ApgdLinf { Epsilon = 0 }.Run(model, images, labels)).Message);
        Assert.Contains("iterations", Assert.Throws<BadInputException>(() => new ApgdLinf { Iterations = 0 }.Run(model, images, labels)).Message);
        var twoClasses = LinearClassifier.Random(1, Intriguing.Models.InputSpace.Images(1, 4, 4, 2));
        var tiny = rand(3, 16);
        Assert.Contains("at least 4 classes", Assert.Throws<BadInputException>(
            () => new ApgdLinf { Loss = ApgdLoss.TargetedDlr }.Run(twoClasses, tiny, twoClasses.Predict(tiny))).Message);
    }
}
