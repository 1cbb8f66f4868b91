using Intriguing.Attacks;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>
/// Attacks over any declared input: boxes other than [0,1] (a finite [-1, 2] and a ReLU layer's [0, inf)), inputs
/// shaped [N, 3, 8, 8], and five classes. Every attack keeps its points inside the model's box.
/// </summary>
public class AnyInputTests
{
    public AnyInputTests() => TorchThreads.UseOne();

    public static TheoryData<string> Methods() => [.. AttackCatalog.Methods];

    /// <summary>FAB's projection is written for [0, 1]; elsewhere it refuses, by name. Square takes any box and shape.</summary>
    private static bool NeedsUnitBox(string method) => method is "fab-t";

    /// <summary>The catalog's attack, made cheaper where its defaults are long (the box handling is the same).</summary>
    private static Attack Cheap(string method) => AttackCatalog.Create(method, seed: 3) switch
    {
        CarliniWagnerL2 cw => cw with { BinarySearchSteps = 4, Steps = 40, LearningRate = 0.1 },
        BoxConstrainedLbfgs lbfgs => lbfgs with { SearchSteps = 5 },
        Intriguing.Evaluation.Square square => square with { Queries = 200 },
        var attack => attack,
    };

    private static void AssertInsideBox(InputBox box, Tensor points)
    {
        var (lower, upper) = box.Tensors(points.device);
        Assert.True(points.isfinite().all().item<bool>(), "a point is not finite");
        Assert.True(points.ge(lower).logical_and(points.le(upper)).all().item<bool>(),
            $"a point left the box {box}: min {points.min().item<float>()}, max {points.max().item<float>()}");
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_attack_stays_in_a_box_other_than_the_unit_interval(string method)
    {
        using var scope = NewDisposeScope();
        var space = new InputSpace([20], 5, InputBox.Uniform(-1f, 2f, 20));
        var model = LinearClassifier.Random(seed: 4, space);
        var generator = new TorchSharp.torch.Generator(5, CPU);
        var inputs = rand(12, 20, generator: generator) * 3 - 1;
        var labels = model.Predict(inputs);

        if (NeedsUnitBox(method))
        {
            Assert.Contains("needs", Assert.Throws<BadInputException>(() => Cheap(method).Run(model, inputs, labels)).Message);
            return;
        }
        var result = Cheap(method).Run(model, inputs, labels);

        AssertInsideBox(space.Box, result.Adversarials);
        Assert.True(result.Summary.Verified);
        if (method is "lbfgs" or "cw" or "deepfool")
        {
            // A linear model with a box three units wide: the strong attacks fool every input.
            Assert.Equal(1.0, result.Summary.SuccessRate);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_attack_on_a_relu_layers_activations_stays_in_zero_to_infinity(string method)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(6);
        using var convnet = new ConvNet("conv-test", conv1Channels: 4, conv2Channels: 4, fcUnits: 24);
        var above = convnet.AboveHidden(2);
        Assert.Equal(new long[] { 24 }, above.Input.Shape);
        Assert.Equal(0f, above.Input.Box.Lower[0]);
        Assert.True(float.IsPositiveInfinity(above.Input.Box.Upper[0]));

        var (images, _) = SyntheticData.Images(10, seed: 7);
        using var noGrad = no_grad();
        var activations = convnet.Activations(images)[2];
        var labels = above.Predict(activations);
        noGrad.Dispose();

        if (NeedsUnitBox(method))
        {
            Assert.Contains("needs", Assert.Throws<BadInputException>(() => Cheap(method).Run(above, activations, labels)).Message);
            return;
        }
        var result = Cheap(method).Run(above, activations, labels);

        AssertInsideBox(above.Input.Box, result.Adversarials);
        Assert.True(result.Summary.Verified);
        // Every point handed out is classified by the network above the layer as the examples say.
        var predictions = above.Predict(result.Adversarials).data<long>().ToArray();
        Assert.Equal(result.Examples.Select(example => (long)example.FinalPrediction), predictions);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_attack_takes_colour_images_shaped_n_3_8_8(string method)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(8);
        var space = InputSpace.Images(3, 8, 8, 10);
        using var model = new ConvNet("conv-rgb", conv1Channels: 4, conv2Channels: 4, fcUnits: 16, input: space);
        var generator = new TorchSharp.torch.Generator(9, CPU);
        var inputs = rand([6, 3, 8, 8], generator: generator);
        var labels = model.Predict(inputs);

        var result = Cheap(method).Run(model, inputs, labels);
        var batch = Cheap(method).Perturb(model, inputs, labels);

        Assert.Equal(new long[] { 6, 192 }, result.Adversarials.shape);
        Assert.Equal(new long[] { 6, 3, 8, 8 }, batch.Adversarials.shape);
        AssertInsideBox(space.Box, result.Adversarials);
        Assert.True(result.Summary.Verified);
    }

    [Fact]
    public void Inputs_of_another_shape_or_outside_the_box_are_refused_with_the_models_declaration()
    {
        using var scope = NewDisposeScope();
        var space = new InputSpace([4, 5], 3, InputBox.Uniform(-1f, 2f, 20));
        var model = LinearClassifier.Random(seed: 1, space);
        var labels = zeros(2, dtype: ScalarType.Int64);

        var shape = Assert.Throws<BadInputException>(() => new Fgsm().Run(model, zeros(2, 21), labels));
        Assert.Contains("[N, 20] or [N, 4, 5]", shape.Message);
        var outside = Assert.Throws<BadInputException>(() => new Fgsm().Run(model, full(2, 20, 2.5f), labels));
        Assert.Contains("[-1, 2]", outside.Message);
        var classes = Assert.Throws<BadInputException>(() => new Fgsm().Run(model, zeros(2, 20), full(2, 3L)));
        Assert.Contains("0..2", classes.Message);
    }

    [Fact]
    public void A_box_with_bounds_per_value_is_respected_value_by_value()
    {
        using var scope = NewDisposeScope();
        var lower = Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? 0f : -5f).ToArray();
        var upper = Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? 1f : float.PositiveInfinity).ToArray();
        var box = InputBox.PerValue(lower, upper);
        var model = LinearClassifier.Random(seed: 2, new InputSpace([10], 4, box));
        var inputs = full(5, 10, 0.5f);
        var labels = model.Predict(inputs);

        foreach (var method in new[] { "lbfgs", "pgd", "cw", "deepfool", "noise" })
        {
            var result = Cheap(method).Run(model, inputs, labels);
            AssertInsideBox(box, result.Adversarials);
        }
    }
}
