using Intriguing.Attacks;
using Intriguing.DistortionBounds;

namespace Intriguing.Tests.DistortionBounds;

/// <summary>The tightest upper bound per image over several attacks, on hand-made per-image numbers.</summary>
public class TightestBoundTests
{
    private static readonly AttackDistortions Targeted = new("t", "targeted", new Dictionary<int, double> { [0] = 0.10, [1] = 0.08, [2] = 0.12 }, 3);
    private static readonly AttackDistortions Untargeted = new("u", "untargeted", new Dictionary<int, double> { [0] = 0.05, [2] = 0.04 }, 3);
    private static readonly AttackDistortions Other = new("o", "other", new Dictionary<int, double> { [0] = 0.04, [3] = 0.2 }, 4);

    [Fact]
    public void The_bound_is_the_smallest_distortion_any_attack_reached_on_each_image()
    {
        var bound = TightestBound.PerImage([Targeted, Untargeted, Other]);

        Assert.Equal([0, 1, 2, 3], bound.Keys);
        Assert.Equal([0.04, 0.08, 0.04, 0.2], bound.Values);
    }

    [Fact]
    public void Each_attack_gets_its_own_mean_and_its_mean_ratio_to_the_bound_on_the_images_it_fooled()
    {
        var result = TightestBound.Compute([Targeted, Untargeted, Other]);

        Assert.Equal(4, result.Images);
        Assert.Equal((0.04 + 0.08 + 0.04 + 0.2) / 4, result.MeanBound, 9);
        Assert.Equal(0.06, result.MedianBound, 9);
        var targeted = result.Attacks[0];
        Assert.Equal(0.10, targeted.MeanDistortion, 9);
        Assert.Equal((0.10 / 0.04 + 1 + 0.12 / 0.04) / 3, targeted.MeanRatio, 9);
        Assert.Equal(0.10 / 0.04, targeted.MedianRatio, 9);
        Assert.Equal(1.0 / 3, targeted.ShareTightest, 9);
        var untargeted = result.Attacks[1];
        Assert.Equal((0.05 / 0.04 + 1) / 2, untargeted.MeanRatio, 9);
        Assert.Equal(0.5, untargeted.ShareTightest, 9);
        var other = result.Attacks[2];
        Assert.Equal(1, other.MeanRatio, 9);
        Assert.Equal(1, other.ShareTightest, 9);
        Assert.Equal(2, other.Successes);
        Assert.Equal(4, other.Attempted);
    }

    [Fact]
    public void Only_verified_successes_on_correctly_classified_images_count()
    {
        AdversarialExample Example(int index, bool correct, bool success, double distortion) =>
            new(index, 1, null, correct ? 1 : 2, correct, success, distortion, distortion * 28, distortion, 3, 0.9, 10);

        var distortions = AttackDistortions.FromExamples("cw", "C&W", [Example(0, true, true, 0.03), Example(1, false, true, 0), Example(2, true, false, 0.5)]);

        Assert.Equal(2, distortions.Attempted);
        Assert.Equal([0], distortions.PerImage.Keys);
        Assert.Equal(0.03, distortions.PerImage[0]);
        var empty = TightestBound.Compute([]);
        Assert.Equal(0, empty.Images);
        Assert.True(double.IsNaN(empty.MeanBound));
    }
}
