using Intriguing.Models;
using Intriguing.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Spectral;

/// <summary>
/// The soundness check must be able to fail: on a small network with real bounds it passes, and handed a bound that is too
/// small (for one layer, or for the whole network) it reports the violation by name. Also: a zoo model's layer descriptions
/// rebuild its forward pass.
/// </summary>
public sealed class SoundnessTests
{
    private static LayerStack SmallNetwork(Generator generator) => new("small",
    [
        new("fc1", SpectralLayerKind.Linear, [20], randn(16, 20, generator: generator), randn(16, generator: generator)),
        new("fc1.sigmoid", SpectralLayerKind.Sigmoid, [16]),
        new("fc2", SpectralLayerKind.Linear, [16], randn(12, 16, generator: generator), randn(12, generator: generator)),
        new("fc2.relu", SpectralLayerKind.Relu, [12]),
        new("output", SpectralLayerKind.Linear, [12], randn(10, 12, generator: generator)),
    ]);

    private static (IReadOnlyList<LayerBound> Bounds, SensitivityResult Measured) Measure()
    {
        var generator = new Generator(11);
        var stack = SmallNetwork(generator);
        var bounds = LayerBounds.Compute(stack);
        var x = randn([50, 20], dtype: ScalarType.Float64, generator: generator);
        var r = randn([50, 20], dtype: ScalarType.Float64, generator: generator) * 0.1;
        var direction = Sensitivity.WorstDirection(stack.Forward, x, 20, 1e-5, generator);
        var measured = Sensitivity.Measure(stack, [new PerturbationSet("random", x, r), new PerturbationSet("jacobian", x, direction)], x, localIterations: 20);
        return (bounds, measured);
    }

    [Fact]
    public void Real_bounds_pass_and_the_local_directions_reach_the_linear_layers_norms()
    {
        using var scope = NewDisposeScope();
        var (bounds, measured) = Measure();
        var verdict = Soundness.Check(bounds.Select(bound => bound.Bound).ToList(), LayerBounds.Product(bounds), measured);
        Assert.True(verdict.Sound, string.Join("; ", verdict.Violations));
        Assert.Equal(5, measured.Layers.Count);
        Assert.Equal(100, measured.Samples);
        // A linear layer's worst local direction is its top singular vector: the measured ratio meets the bound.
        Assert.Equal(bounds[0].Bound, measured.Layers[0].MaxRatio, bounds[0].Bound * 1e-4);
        Assert.True(measured.MaxRatio < LayerBounds.Product(bounds));
    }

    [Fact]
    public void A_layer_bound_that_is_too_small_is_reported_as_a_violation()
    {
        using var scope = NewDisposeScope();
        var (bounds, measured) = Measure();
        var tooSmall = bounds.Select(bound => bound.Bound).ToList();
        tooSmall[2] = measured.Layers[2].MaxRatio * 0.9;
        var verdict = Soundness.Check(tooSmall, LayerBounds.Product(bounds), measured);
        Assert.False(verdict.Sound);
        Assert.All(verdict.Violations, violation => Assert.Equal("fc2", violation.Where));
    }

    [Fact]
    public void A_network_bound_that_is_too_small_is_reported_as_a_violation()
    {
        using var scope = NewDisposeScope();
        var (bounds, measured) = Measure();
        var verdict = Soundness.Check(bounds.Select(bound => bound.Bound).ToList(), measured.MaxRatio * 0.5, measured);
        Assert.False(verdict.Sound);
        Assert.Contains(verdict.Violations, violation => violation.Where == "network");
    }

    [Fact]
    public void A_certified_radius_above_a_successful_attack_is_a_violation()
    {
        using var scope = NewDisposeScope();
        var (bounds, measured) = Measure();
        var images = new[] { new CertifiedImage(3, 1, Margin: 2, CertifiedL2: 0.5, AttackL2: 0.4, AttackMethod: "deepfool") };
        var verdict = Soundness.Check(bounds.Select(bound => bound.Bound).ToList(), LayerBounds.Product(bounds), measured, certified: images);
        Assert.False(verdict.Sound);
        Assert.Contains(verdict.Violations, violation => violation.Source == "deepfool");
    }

    [Theory]
    [InlineData("fc100-100-10")]
    [InlineData("conv")]
    public void A_zoo_models_layer_descriptions_rebuild_its_forward_pass(string name)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(1);
        using var model = ModelZoo.Get(name).Create();
        model.eval();
        var images = rand(6, 784);
        var stack = LayerStack.FromClassifier(model, name, images);
        using var noGrad = no_grad();
        var expected = model.forward(images).to_type(ScalarType.Float64);
        Assert.True((stack.Forward(images.to_type(ScalarType.Float64)) - expected).abs().max().item<double>() < 1e-4);
    }
}

/// <summary>The spectral-norm penalty: its value is the sum of the layers' norms, and its gradient lowers it.</summary>
public sealed class SpectralPenaltyTests
{
    [Fact]
    public void The_penalty_is_the_sum_of_the_layers_spectral_norms_and_gradient_steps_lower_it()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(4);
        using var model = ModelZoo.Get("fc100-100-10").Create();
        var stack = LayerStack.FromClassifier(model, "fc100-100-10");
        double expected = LayerBounds.Compute(stack).Where(bound => bound.Kind == "linear").Sum(bound => bound.Bound);
        var loss = SpectralPenalty.Loss(model, iterations: 300);
        Assert.Equal(expected, loss.item<float>(), expected * 1e-3);

        // Training on the penalty alone: one power step per call, the vectors kept between calls.
        using var penalty = new SpectralPenalty(iterationsPerCall: 1);
        var optimizer = optim.SGD(model.parameters(), 0.05);
        double first = penalty.Compute(model).item<float>();
        for (int step = 0; step < 30; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var value = penalty.Compute(model);
            value.backward();
            Assert.True(model.parameters().First().grad is not null);
            optimizer.step();
        }
        double after = LayerBounds.Compute(LayerStack.FromClassifier(model, "fc100-100-10")).Where(bound => bound.Kind == "linear").Sum(bound => bound.Bound);
        Assert.True(after < expected - 0.1, $"thirty steps on the penalty alone should lower the sum of norms {expected}; got {after}");
    }

    [Fact]
    public void The_static_penalty_covers_convolutions()
    {
        using var threads = Intriguing.Models.TorchThreads.Limit(1);
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        using var model = ModelZoo.Get("conv").Create();
        // The weights come from the global generator, which tests running in parallel also draw from: enough iterations
        // that both power iterations converge on whatever weights this run gets.
        var loss = SpectralPenalty.Loss(model, iterations: 1000);
        loss.backward();
        var stack = LayerStack.FromClassifier(model, "conv");
        double exact = stack.Layers.Where(layer => layer.Kind is SpectralLayerKind.Linear or SpectralLayerKind.Convolution)
            .Sum(layer => layer.Kind == SpectralLayerKind.Linear ? LinearNorm.Exact(layer.Weight!) : ConvolutionNorm.PowerIteration(layer, maxIterations: 1000).Norm);
        Assert.Equal(exact, loss.item<float>(), exact * 2e-2);
        Assert.All(model.parameters().Where(parameter => parameter.dim() > 1), parameter => Assert.NotNull(parameter.grad));
    }
}
