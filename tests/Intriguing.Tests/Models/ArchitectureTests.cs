using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

public class ArchitectureTests
{
    public static TheoryData<string> ZooNames => new(ModelZoo.Names);

    [Theory]
    [MemberData(nameof(ZooNames))]
    public void Every_zoo_model_maps_flat_images_to_ten_logits_and_exposes_its_hidden_layers(string name)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(0);
        using var model = ModelZoo.Get(name).Create();
        model.eval();
        var images = rand(5, 784);

        var logits = model.forward(images);
        var activations = model.Activations(images);

        Assert.Equal(new long[] { 5, 10 }, logits.shape);
        Assert.Equal(model.HiddenLayerNames.Count, activations.Length);
        for (int layer = 0; layer < activations.Length; layer++)
        {
            Assert.Equal(2, activations[layer].dim());
            Assert.Equal(5, activations[layer].shape[0]);
            // The network above layer k, fed phi_k(x), must give the same logits as the whole network.
            Assert.True(model.ForwardFromHidden(layer, activations[layer]).allclose(logits, rtol: 1e-4, atol: 1e-5), $"layer {model.HiddenLayerNames[layer]}");
        }
        Assert.NotEmpty(model.Layers);
        Assert.All(model.Layers.Where(layer => layer.Kind is LayerKind.Linear or LayerKind.Convolution), layer => Assert.NotNull(layer.Weight));
    }

    [Theory]
    [MemberData(nameof(ZooNames))]
    public void Every_zoo_model_refuses_images_of_the_wrong_shape(string name)
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Get(name).Create();
        var error = Assert.Throws<BadInputException>(() => model.forward(rand(3, 2, 28, 28)));
        Assert.Contains("[N, 784]", error.Message);
    }

    [Fact]
    public void Softmax_penalty_is_lambda_times_sum_of_squared_weights_over_ten_units()
    {
        using var scope = NewDisposeScope();
        using var model = new SoftmaxRegression("fc10-test", lambda: 0.5);
        var weight = model.named_parameters().Single(p => p.name == "output.weight").parameter;
        double byHand = 0.5 * weight.square().sum().item<float>() / 10 * PaperWeightDecay.Scale;
        Assert.Equal(byHand, model.WeightPenalty().item<float>(), 5);
    }

    [Fact]
    public void Mlp_penalty_sums_each_layers_lambda_times_sum_of_squares_over_its_units()
    {
        using var scope = NewDisposeScope();
        using var model = new SigmoidMlp("fc7-5-10", 7, 5, 1e-1, 1e-2, 1e-3);
        var weights = model.named_parameters().Where(p => p.name.EndsWith("weight")).ToDictionary(p => p.name, p => p.parameter);
        double SumOfSquares(string name) => weights[name].square().sum().item<float>();
        double byHand = (1e-1 * SumOfSquares("hidden1.weight") / 7
            + 1e-2 * SumOfSquares("hidden2.weight") / 5
            + 1e-3 * SumOfSquares("output.weight") / 10) * PaperWeightDecay.Scale;
        Assert.Equal(byHand, model.WeightPenalty().item<float>(), 5);
    }

    [Fact]
    public void Autoencoder_classifier_decays_only_its_softmax_layer()
    {
        using var scope = NewDisposeScope();
        using var model = new SparseAutoencoderClassifier("ae-test", outputLambda: 0.3);
        var output = model.named_parameters().Single(p => p.name == "output.weight").parameter;
        double byHand = 0.3 * output.square().sum().item<float>() / 10 * PaperWeightDecay.Scale;
        Assert.Equal(byHand, model.WeightPenalty().item<float>(), 5);
    }

    [Fact]
    public void Unknown_model_name_lists_the_known_ones()
    {
        var error = Assert.Throws<BadInputException>(() => ModelZoo.Get("fc999"));
        Assert.Contains("unknown model 'fc999'", error.Message);
        Assert.Contains("fc100-100-10", error.Message);
        Assert.Contains("conv", error.Message);
    }

    [Fact]
    public void The_zoo_holds_the_contract_names_with_the_papers_numbers()
    {
        Assert.Equal(
            new[] { "fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10", "fc123-456-10", "conv" },
            ModelZoo.Names);
        Assert.Equal(0.0164, ModelZoo.Get("fc100-100-10").PaperFor(Intriguing.Data.Split.Train)!.TestError);
        Assert.Equal(0.025, ModelZoo.Get("fc123-456-10").PaperFor(Intriguing.Data.Split.P1)!.P2Error);
        Assert.Null(ModelZoo.Get("conv").PaperFor(Intriguing.Data.Split.Train));
    }
}
