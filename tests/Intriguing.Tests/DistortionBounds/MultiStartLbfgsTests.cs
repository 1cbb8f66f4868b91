using Intriguing.Attacks;
using Intriguing.DistortionBounds;
using Intriguing.Tests.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Tests.DistortionBounds;

/// <summary>
/// L-BFGS from several starts: on a linear softmax model the targeted problem is convex, so every start reaches the
/// same minimum; the random starts come from each image's own stream, so a seed fixes them whatever the batch.
/// </summary>
public class MultiStartLbfgsTests
{
    public MultiStartLbfgsTests() => TorchThreads.UseOne();

    private static (LinearClassifier Model, Tensor Images, Tensor Labels, Tensor Targets) Problem(int count)
    {
        var model = LinearClassifier.Random(seed: 5);
        var generator = new Generator(11, CPU);
        var images = (0.5 + 0.05 * randn(count, 784, generator: generator)).clamp(0, 1).to_type(ScalarType.Float32);
        var labels = model.Predict(images);
        return (model, images, labels, AttackTargets.RandomWrong(labels, seed: 0));
    }

    [Fact]
    public void On_a_linear_softmax_model_every_start_reaches_the_same_minimum()
    {
        using var scope = NewDisposeScope();
        var (model, images, labels, targets) = Problem(6);

        var (perImage, spread) = MultiStartLbfgs.Run(model, images, labels, targets, new MultiStartSettings(6, 5), seed: 0);

        Assert.Equal(6, spread.Images);
        Assert.Equal(5, spread.Starts);
        Assert.All(perImage, image => Assert.All(image.Distortions, distortion => Assert.NotNull(distortion)));
        Assert.Equal(6, spread.Compared);
        Assert.All(perImage, image => Assert.InRange(image.RelativeSpread!.Value, 0, 0.01));
        Assert.Equal(0, spread.ShareDisagreeing);
        Assert.Equal(StartAgreement.Agree, ConvexityVerdicts.Agreement(spread));
        Assert.True(spread.MeanBest <= spread.MeanFromImage);
    }

    [Fact]
    public void Random_starts_are_fixed_by_the_seed_and_the_image_index_whatever_the_batch()
    {
        using var scope = NewDisposeScope();
        var (model, images, labels, targets) = Problem(4);
        var attack = new BoxConstrainedLbfgs { RandomStart = 0.3, Start = 2, MaxIterations = 5, SearchSteps = 2 };

        var all = attack.WithSeed(1).Run(model, images, labels, targets);
        var again = attack.WithSeed(1).Run(model, images, labels, targets);
        var firstTwo = attack.WithSeed(1).Run(model, images.narrow(0, 0, 2), labels.narrow(0, 0, 2), targets.narrow(0, 0, 2));
        var otherSeed = attack.WithSeed(2).Run(model, images, labels, targets);
        var fromImage = (attack with { RandomStart = 0 }).WithSeed(1).Run(model, images, labels, targets);

        Assert.Equal(all.Examples.Select(example => example.Distortion), again.Examples.Select(example => example.Distortion));
        // The same start in a smaller batch: equal up to the last bits of the batched matrix product.
        Assert.All(firstTwo.Examples, example => Assert.Equal(all.Examples[example.Index].Distortion, example.Distortion, 5));
        // Five iterations from another start end somewhere else.
        Assert.NotEqual(all.Examples.Select(example => example.Distortion), otherSeed.Examples.Select(example => example.Distortion));
        Assert.NotEqual(all.Examples.Select(example => example.Distortion), fromImage.Examples.Select(example => example.Distortion));
    }

    [Fact]
    public void The_first_start_is_the_papers_and_the_others_are_random_with_their_own_streams()
    {
        var starts = MultiStartLbfgs.Starts(new BoxConstrainedLbfgs { MaxIterations = 7, RandomStart = 0.1 }, 3, radius: 0.2);

        Assert.Equal([0.0, 0.2, 0.2], starts.Select(start => start.RandomStart));
        Assert.Equal([0, 1, 2], starts.Select(start => start.Start));
        Assert.All(starts, start => Assert.Equal(7, start.MaxIterations));
        Assert.Throws<BadInputException>(() => MultiStartLbfgs.Starts(new BoxConstrainedLbfgs(), 1));
        Assert.Throws<BadInputException>(() => new MultiStartSettings(10, 3, Radius: 0).Validate());
        Assert.Throws<BadInputException>(() => new BoxConstrainedLbfgs { RandomStart = -0.1 }.Validate());
        Assert.Throws<BadInputException>(() => new BoxConstrainedLbfgs { Start = -1 }.Validate());
    }
}
