using Intriguing.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>
/// On a linear classifier the minimal L2 perturbation is known in closed form: the distance from x to the
/// hyperplane (w_i - w_j).x + (b_i - b_j) = 0 is |margin| / |w_i - w_j|. Minimal-perturbation attacks must land just
/// beyond it (never below it: that would be a wrong success), FGSM must move each pixel by exactly eps sign(w_j - w_i),
/// and PGD-L2 must succeed just above that radius and fail just below it.
/// </summary>
public class LinearClassifierAnalyticTests
{
    public LinearClassifierAnalyticTests() => TorchThreads.UseOne();

    private const int ImageCount = 4;

    private sealed record Problem(LinearClassifier Model, Tensor Images, Tensor Labels, Tensor Others, double[] ExactL2, Tensor BoundaryNormals);

    /// <summary>Images near mid-grey (far from the box walls) on a two-class linear model, with the exact distances.</summary>
    private static Problem MakeProblem(int seed)
    {
        var model = LinearClassifier.TwoClass(seed);
        var generator = new Generator((ulong)seed + 100, CPU);
        var images = (0.5 + 0.02 * randn(ImageCount, 784, generator: generator)).to_type(ScalarType.Float32);
        var labels = model.Predict(images);
        var others = 1 - labels;
        var difference = model.Weights[0] - model.Weights[1];
        var margins = images.matmul(difference) + (model.Biases[0] - model.Biases[1]);
        var exact = (margins.abs() / difference.norm()).to_type(ScalarType.Float64).data<double>().ToArray();
        // Row n's normal points from its class to the other one.
        var sign = where(labels.eq(0), full(ImageCount, -1f), full(ImageCount, 1f)).unsqueeze(1);
        return new Problem(model, images, labels, others, exact, difference.unsqueeze(0) * sign);
    }

    public static TheoryData<string, bool> MinimalAttacks() => new()
    {
        { "lbfgs", false }, { "lbfgs", true },
        { "cw", false }, { "cw", true },
        { "deepfool", false }, { "deepfool", true },
    };

    [Theory]
    [MemberData(nameof(MinimalAttacks))]
    public void Minimal_attacks_land_just_beyond_the_closed_form_distance(string method, bool targeted)
    {
        using var scope = NewDisposeScope();
        var problem = MakeProblem(seed: 3);
        Attack attack = method switch
        {
            "lbfgs" => new BoxConstrainedLbfgs(),
            "cw" => new CarliniWagnerL2(),
            _ => new DeepFool(),
        };
        // Upper tolerances: L-BFGS and C&W stop within one c-bracket of the boundary; DeepFool overshoots by 2%.
        double tolerance = method switch { "lbfgs" => 0.05, "cw" => 0.05, _ => 0.03 };

        var result = attack.Run(problem.Model, problem.Images, problem.Labels, targeted ? problem.Others : null);

        for (int i = 0; i < ImageCount; i++)
        {
            var example = result.Examples[i];
            Assert.True(example.Success, $"{method} image {i} not fooled");
            Assert.InRange(example.L2, problem.ExactL2[i] * (1 - 1e-3), problem.ExactL2[i] * (1 + tolerance));
        }
    }

    [Fact]
    public void Fgsm_moves_every_pixel_by_eps_times_the_sign_of_the_boundary_normal()
    {
        using var scope = NewDisposeScope();
        var problem = MakeProblem(seed: 5);
        const double eps = 0.1;

        var result = new Fgsm { Epsilon = eps }.Run(problem.Model, problem.Images, problem.Labels);

        var expected = (problem.Images + eps * problem.BoundaryNormals.sign()).clamp(0.0, 1.0);
        Assert.True(result.Adversarials.allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Fgsm_clips_pixels_that_would_leave_the_box()
    {
        using var scope = NewDisposeScope();
        var problem = MakeProblem(seed: 6);
        var images = problem.Images.clone();
        images[.., ..100] = tensor(0f);
        images[.., 100..200] = tensor(1f);

        var result = new Fgsm { Epsilon = 0.3 }.Run(problem.Model, images, problem.Model.Predict(images));

        var expected = (images + 0.3 * problem.BoundaryNormals.sign()).clamp(0.0, 1.0);
        Assert.True(result.Adversarials.allclose(expected, rtol: 0, atol: 1e-6));
        Assert.True(result.Adversarials.min().item<float>() >= 0 && result.Adversarials.max().item<float>() <= 1);
    }

    [Fact]
    public void Pgd_l2_succeeds_just_outside_the_exact_radius_and_fails_just_inside()
    {
        using var scope = NewDisposeScope();
        var problem = MakeProblem(seed: 7);
        for (int i = 0; i < ImageCount; i++)
        {
            var image = problem.Images.narrow(0, i, 1);
            var label = problem.Labels.narrow(0, i, 1);
            double exact = problem.ExactL2[i];
            var outside = new PgdL2 { Epsilon = exact * 1.02, StepSize = exact / 10, Steps = 40, RandomStart = false };
            var inside = new PgdL2 { Epsilon = exact * 0.98, StepSize = exact / 10, Steps = 40, RandomStart = false };

            Assert.True(outside.Run(problem.Model, image, label).Examples[0].Success, $"image {i} at 1.02x");
            Assert.False(inside.Run(problem.Model, image, label).Examples[0].Success, $"image {i} at 0.98x");
        }
    }

    [Fact]
    public void Pgd_linf_never_exceeds_eps_and_beats_fgsm_at_the_same_eps()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 11);
        var (images, _) = SyntheticData.Images(20, seed: 4);
        var labels = model.Predict(images);

        var pgd = new PgdLinf { Epsilon = 0.02, StepSize = 0.005, Steps = 20 }.Run(model, images, labels);
        var fgsm = new Fgsm { Epsilon = 0.02 }.Run(model, images, labels);

        Assert.All(pgd.Examples, example => Assert.True(example.Linf <= 0.02 + 1e-6));
        Assert.True(pgd.Summary.ErrorRate >= fgsm.Summary.ErrorRate);
    }
}
