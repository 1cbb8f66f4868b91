using Intriguing.DistortionBounds;
using Intriguing.Reporting;

namespace Intriguing.Tests.DistortionBounds;

/// <summary>The spread over starts and its verdict, on hand-made numbers.</summary>
public class StartSpreadTests
{
    private static readonly ImageStarts[] Images =
    [
        new(0, [0.100, 0.100, 0.1005]),  // spread 0.5%: within the tolerance
        new(1, [0.100, null, 0.120]),    // 20%
        new(2, [0.050, null, null]),     // one success: not compared
        new(3, [null, 0.040, 0.042]),    // 5%; the paper's start failed
    ];

    [Fact]
    public void Spread_is_max_minus_min_over_min_of_the_successful_starts()
    {
        Assert.Equal(0.005, Images[0].RelativeSpread!.Value, 9);
        Assert.Equal(0.2, Images[1].RelativeSpread!.Value, 9);
        Assert.Null(Images[2].RelativeSpread);
        Assert.Equal(0.05, Images[3].RelativeSpread!.Value, 9);
        Assert.Equal(0.040, Images[3].Best);
        Assert.Null(new ImageStarts(4, [null, null]).Best);
    }

    [Fact]
    public void The_statistics_count_compared_images_and_the_share_beyond_the_tolerance()
    {
        var spread = StartSpread.From(Images);

        Assert.Equal(4, spread.Images);
        Assert.Equal(3, spread.Starts);
        Assert.Equal(3, spread.Compared);
        Assert.Equal(0.05, spread.MedianSpread, 9);
        Assert.Equal(0.2, spread.MaxSpread, 9);
        Assert.Equal(2.0 / 3, spread.ShareDisagreeing, 9);
        // Over the images where the paper's start succeeded: 0.1, 0.1, 0.05 from the image; best 0.1, 0.1, 0.05.
        Assert.Equal(0.25 / 3, spread.MeanFromImage, 9);
        Assert.Equal(0.25 / 3, spread.MeanBest, 9);
        Assert.True(double.IsNaN(StartSpread.From([]).MedianSpread));
        Assert.Throws<ArgumentException>(() => StartSpread.From([new(0, [0.1]), new(1, [0.1, 0.2])]));
    }

    private static StartSpread Spread(int compared, double share) => new(compared, 5, compared, 0.01, 0.1, share, 0.01, 0.05, 0.049);

    [Fact]
    public void Agreement_reads_the_share_of_disagreeing_images()
    {
        Assert.Equal(StartAgreement.Agree, ConvexityVerdicts.Agreement(Spread(50, 0.2)));
        Assert.Equal(StartAgreement.Mixed, ConvexityVerdicts.Agreement(Spread(50, 0.3)));
        Assert.Equal(StartAgreement.Spread, ConvexityVerdicts.Agreement(Spread(50, 0.5)));
        Assert.Equal(StartAgreement.TooFew, ConvexityVerdicts.Agreement(Spread(4, 1)));
    }

    [Fact]
    public void The_claim_holds_when_every_model_does_what_its_convexity_predicts_and_can_come_out_against()
    {
        var convexAgrees = new ModelStarts("softmax", true, Spread(50, 0.02));
        var convexSpreads = new ModelStarts("softmax", true, Spread(50, 0.9));
        var networkSpreads = new ModelStarts("net", false, Spread(50, 0.9));
        var networkAgrees = new ModelStarts("net", false, Spread(50, 0.0));

        Assert.Equal(ReportVerdict.Holds, ConvexityVerdicts.Claim("c", [convexAgrees, networkSpreads]).Verdict);
        Assert.Equal(ReportVerdict.Partly, ConvexityVerdicts.Claim("c", [convexAgrees, networkAgrees]).Verdict);
        Assert.Equal(ReportVerdict.DoesNotHold, ConvexityVerdicts.Claim("c", [convexSpreads, networkAgrees]).Verdict);
        Assert.Equal(ReportVerdict.Inconclusive, ConvexityVerdicts.Claim("c", [convexAgrees, new ModelStarts("net", false, Spread(3, 1))]).Verdict);
        Assert.Equal(ReportVerdict.NotRun, ConvexityVerdicts.Claim("c", []).Verdict);
        Assert.Contains("net (not convex): starts spread, 90% of 50 images", ConvexityVerdicts.Claim("c", [convexAgrees, networkSpreads]).Evidence);
    }

    [Fact]
    public void The_spread_figure_is_a_png()
    {
        byte[] png = DistortionFigures.SpreadPerImage([("a", Images), ("b", [new ImageStarts(0, [0.1, 0.1])])]);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));
    }
}
