using Intriguing.Evaluation;
using Intriguing.Tests.Attacks;
using static TorchSharp.torch;
using TorchThreads = Intriguing.Tests.Attacks.TorchThreads;

namespace Intriguing.Tests.Evaluation;

/// <summary>
/// FAB's projections against a plain bisection on the step size (the change in w.z is monotone in it), and FAB-T
/// against the closed-form L-inf distance of a linear model, where one linearisation is exact.
/// </summary>
public class FabTests
{
    public FabTests() => TorchThreads.UseOne();

    /// <summary>Random points in [0,1]^D and planes that cut the box near them, some out of reach.</summary>
    private static (Tensor Points, Tensor Normals, Tensor Offsets) Planes(int seed, int rows = 64, int features = 30)
    {
        var generator = new Generator((ulong)seed, CPU);
        var points = rand(rows, features, generator: generator, dtype: ScalarType.Float64);
        var normals = randn(rows, features, generator: generator, dtype: ScalarType.Float64);
        normals.index_fill_(1, tensor(new long[] { 3 }), 0.0);
        var offsets = (normals * points).sum(1) + randn(rows, generator: generator, dtype: ScalarType.Float64) * 2;
        return (points, normals, offsets);
    }

    /// <summary>The plane value w.(t + d(lambda)) - b for the step d(lambda) that <paramref name="step"/> builds, found by bisection.</summary>
    private static double[] BisectedSizes(Tensor points, Tensor normals, Tensor offsets, Func<Tensor, Tensor, double, Tensor> step)
    {
        long rows = points.shape[0];
        var sizes = new double[rows];
        for (long row = 0; row < rows; row++)
        {
            var t = points[row];
            var w = normals[row];
            double b = offsets[row].item<double>();
            double side = Math.Sign((w * t).sum().item<double>() - b);
            double Value(double lambda) => side * ((w * (t + step(t, w * side, lambda))).sum().item<double>() - b);
            if (Value(1e6) > 1e-9)
            {
                sizes[row] = double.NaN; // out of reach inside the box
                continue;
            }
            double low = 0, high = 1e6;
            for (int i = 0; i < 200; i++)
            {
                double middle = (low + high) / 2;
                (Value(middle) > 0 ? ref low : ref high) = middle;
            }
            sizes[row] = high;
        }
        return sizes;
    }

    [Fact]
    public void The_linf_projection_reaches_the_plane_in_the_box_with_the_smallest_step()
    {
        using var scope = NewDisposeScope();
        var (points, normals, offsets) = Planes(seed: 1);
        var d = FabProjections.Linf(points, normals, offsets);
        // Independent: every coordinate moves min(lambda, room) towards the bound that lowers w.z.
        var expected = BisectedSizes(points, normals, offsets,
            (t, w, lambda) => where(w.lt(0), (1 - t).clamp_max(lambda), (-t).clamp_min(-lambda)) * w.ne(0));

        var reached = (points + d);
        Assert.True(reached.ge(-1e-9).all().item<bool>() && reached.le(1 + 1e-9).all().item<bool>());
        var sizes = d.abs().amax([1]).data<double>().ToArray();
        var onPlane = ((normals * reached).sum(1) - offsets).abs().data<double>().ToArray();
        int reachable = 0;
        for (int row = 0; row < sizes.Length; row++)
        {
            if (double.IsNaN(expected[row]))
            {
                continue;
            }
            reachable++;
            Assert.True(onPlane[row] < 1e-6, $"row {row}: {onPlane[row]} off the plane");
            Assert.True(Math.Abs(sizes[row] - expected[row]) < 1e-6, $"row {row}: step {sizes[row]}, bisection {expected[row]}");
        }
        Assert.InRange(reachable, 20, 64);
    }

    [Fact]
    public void The_l2_projection_reaches_the_plane_in_the_box_with_the_smallest_step()
    {
        using var scope = NewDisposeScope();
        var (points, normals, offsets) = Planes(seed: 2);
        var d = FabProjections.L2(points, normals, offsets);
        // Independent: the box-constrained L2 projection is d = clip(-alpha w, -t, 1 - t) for the alpha that reaches the plane.
        var alphas = BisectedSizes(points, normals, offsets, (t, w, alpha) => (-alpha * w).clamp(-t, 1 - t));

        var reached = points + d;
        Assert.True(reached.ge(-1e-9).all().item<bool>() && reached.le(1 + 1e-9).all().item<bool>());
        var onPlane = ((normals * reached).sum(1) - offsets).abs().data<double>().ToArray();
        int reachable = 0;
        for (int row = 0; row < onPlane.Length; row++)
        {
            if (double.IsNaN(alphas[row]))
            {
                continue;
            }
            reachable++;
            var t = points[row];
            var w = normals[row] * Math.Sign((normals[row] * t).sum().item<double>() - offsets[row].item<double>());
            var expected = (-alphas[row] * w).clamp(-t, 1 - t);
            Assert.True(onPlane[row] < 1e-6, $"row {row}: {onPlane[row]} off the plane");
            Assert.True((d[row] - expected).abs().max().item<double>() < 1e-5, $"row {row}: not the clipped step");
        }
        Assert.InRange(reachable, 20, 64);
    }

    [Fact]
    public void Fab_t_finds_the_closed_form_linf_distance_of_a_linear_model()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.TwoClass(seed: 7);
        var generator = new Generator(107, CPU);
        var images = (0.5 + 0.02 * randn(8, 784, generator: generator)).to_type(ScalarType.Float32);
        var labels = model.Predict(images);
        var difference = model.Weights[0] - model.Weights[1];
        var exact = ((images.matmul(difference) + (model.Biases[0] - model.Biases[1])).abs() / difference.abs().sum())
            .to_type(ScalarType.Float64).data<double>().ToArray();

        var result = new FabTargeted { Epsilon = exact.Max() * 1.1, Iterations = 20 }.Run(model, images, labels);
        var below = new FabTargeted { Epsilon = exact.Min() * 0.98, Iterations = 20 }.Run(model, images, labels);

        Assert.True(result.Summary.Verified);
        Assert.All(result.Examples, example =>
        {
            Assert.True(example.Success, $"image {example.Index} not fooled");
            Assert.InRange(example.Linf, exact[example.Index] * 0.999, exact[example.Index] * 1.06);
        });
        Assert.All(below.Examples, example => Assert.False(example.Success));
    }

    [Fact]
    public void The_standard_cascade_adds_fab_t_and_is_no_weaker_than_the_fast_one()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(100, seed: 23);

        using var fast = AutoAttack.Run(model, images, labels, 0.1, ThreatNorm.Linf, AutoAttackVersion.Fast);
        using var standard = AutoAttack.Run(model, images, labels, 0.1, ThreatNorm.Linf, AutoAttackVersion.Standard);

        Assert.Equal("fab-t", standard.Stages[2].Name);
        Assert.True(standard.RobustAccuracy <= fast.RobustAccuracy);
    }
}
