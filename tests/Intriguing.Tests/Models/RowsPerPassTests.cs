using Intriguing.Attacks;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

/// <summary>
/// How many rows a model takes per pass: a convnet's batches are capped so its unfolded convolution buffer stays under
/// 24 MB, attacks and <see cref="Classifier.Predict"/> split their batches accordingly, and the split changes no number.
/// </summary>
public class RowsPerPassTests
{
    /// <summary>The zoo's convnet behind a wrapper that records the largest batch forward sees.</summary>
    private sealed class Watched(ConvNet inner) : Classifier(inner.GetName(), inner.Input)
    {
        public long LargestBatch { get; private set; }

        public override Device Device => inner.Device;

        public override IReadOnlyList<LayerDescription> Layers => inner.Layers;

        public override Tensor forward(Tensor input)
        {
            LargestBatch = Math.Max(LargestBatch, input.shape[0]);
            return inner.forward(input);
        }

        public override Tensor WeightPenalty() => inner.WeightPenalty();
    }

    [Fact]
    public void A_convnet_takes_160_rows_per_pass_and_a_model_without_convolutions_all()
    {
        random.manual_seed(1);
        using var conv = new ConvNet("conv");
        // conv2 unfolds 8 channels x 5 x 5 over 14 x 14 positions: 156,800 bytes per image; 24 MB hold 160.
        Assert.Equal(160, conv.RowsPerPass);
        using var wide = new ConvNet("wide", conv1Channels: 32);
        Assert.Equal(40, wide.RowsPerPass);
        Assert.Equal(int.MaxValue, Intriguing.Tests.Attacks.SyntheticData.Mlp.RowsPerPass);
    }

    [Fact]
    public void Attacks_and_Predict_split_a_convnets_batches_with_the_same_results()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(2);
        using var conv = new ConvNet("conv");
        conv.eval();
        var watched = new Watched(conv);
        var images = rand(340, 784, generator: new Generator(4, CPU));
        var labels = conv.Predict(images);
        Assert.True(watched.Predict(images).eq(labels).all().item<bool>());
        Assert.Equal(160, watched.LargestBatch);

        var attack = new PgdLinf { Epsilon = 0.1, StepSize = 0.02, Steps = 5 };
        var split = attack.Run(watched, images, labels, batchSize: 500);
        Assert.Equal(160, watched.LargestBatch);
        var small = attack.Run(conv, images, labels, batchSize: 70);
        Assert.True(split.Adversarials.eq(small.Adversarials).all().item<bool>(), "the same points whatever the batches");
        Assert.Equal(split.Examples.Select(example => example.Success), small.Examples.Select(example => example.Success));
    }
}
