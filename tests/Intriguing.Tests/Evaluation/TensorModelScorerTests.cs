using Intriguing.Evaluation;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Evaluation;

/// <summary>
/// The adapter that lets Square's managed search score a TorchSharp model: forward's logits, a convnet scored in chunks
/// small enough for its unfolded convolution buffer to stay off fresh memory maps, an MLP in one call.
/// </summary>
public class TensorModelScorerTests
{
    [Fact]
    public void A_convnet_is_scored_in_chunks_that_keep_its_unfolded_buffer_under_24_MB_with_forwards_logits()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(3);
        using var model = new ConvNet("conv");
        model.eval();
        // conv2 unfolds 8 channels x 5 x 5 over 14 x 14 positions: 156,800 bytes per image, 160 images in 24 MB.
        Assert.Equal(160, TensorModelScorer.ChunkRows(model, 1000));
        Assert.Equal(7, TensorModelScorer.ChunkRows(model, 7));
        var images = rand(400, 784, generator: new Generator(8, CPU));
        float[] values = images.data<float>().ToArray();
        var logits = new float[400 * 10];

        using (var scorer = new TensorModelScorer(model, 784, 400))
        {
            scorer.Score(values, 400, logits);
        }

        Tensor expected;
        using (var noGrad = no_grad())
        {
            expected = model.forward(images);
        }
        Assert.True(tensor(logits, [400, 10]).allclose(expected, rtol: 1e-5, atol: 1e-5));
        Assert.True(TensorModelScorer.Applies(model));
    }

    [Fact]
    public void A_model_without_convolutions_is_scored_in_one_call_and_spans_are_checked()
    {
        using var scope = NewDisposeScope();
        var model = Intriguing.Tests.Attacks.SyntheticData.Mlp;
        Assert.Equal(500, TensorModelScorer.ChunkRows(model, 500));
        using var scorer = new TensorModelScorer(model, model.Features, 4);
        Assert.Throws<ArgumentException>(() => { scorer.Score(new float[5 * model.Features], 5, new float[5 * model.ClassCount]); });
        Assert.Throws<ArgumentException>(() => { scorer.Score(new float[4 * model.Features], 4, new float[3]); });
    }
}
