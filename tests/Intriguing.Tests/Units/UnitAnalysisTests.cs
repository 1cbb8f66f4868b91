using Intriguing.Units;
using static TorchSharp.torch;

namespace Intriguing.Tests.Units;

/// <summary>
/// The comparison on feature maps whose answer is known: units that are class indicators must come out purer than
/// random directions and the test must see it; features of pure noise must sit at chance for both, with no difference seen.
/// </summary>
public sealed class UnitAnalysisTests
{
    private static LayerUnits Analyze(Tensor features, int pool, UnitAnalysisOptions options)
    {
        var pixels = SyntheticFeatures.Pixels(pool, seed: 5);
        var input = new LayerInput("synthetic", 0, features, UnitAnalysis.PixelsLayer, pixels, pixels, SyntheticFeatures.Labels(pool));
        return UnitAnalysis.AnalyzeLayer(input, options);
    }

    [Fact]
    public void Class_indicator_units_are_pure_random_directions_are_not_and_the_test_detects_it()
    {
        using var scope = NewDisposeScope();
        const int pool = 1000;

        var result = Analyze(SyntheticFeatures.ClassIndicators(pool, seed: 1), pool, new UnitAnalysisOptions(Top: 8, RandomDirections: 200, Seed: 0, ChanceSamples: 500));

        Assert.Equal(10, result.Natural.Compared);
        Assert.All(result.Natural.PerDirection, unit =>
        {
            Assert.Equal(1.0, unit.Purity);
            Assert.Equal(unit.Index, unit.MajorityLabel);
        });
        Assert.Equal(1.0, result.Natural.MeanPurity);
        Assert.True(result.Random.MeanPurity < 0.9, $"random purity {result.Random.MeanPurity} should be clearly below 1");
        Assert.True(result.Random.MeanPurity > result.Chance, "random directions still favour some classes over chance");
        Assert.InRange(result.Chance, 0.2, 0.4);
        Assert.True(result.PValue < 1e-3, $"p = {result.PValue}, random purity {result.Random.MeanPurity}");
        Assert.True(result.EffectSize > 0.474, $"delta = {result.EffectSize}, random purity {result.Random.MeanPurity}");
        Assert.Equal(UnitVerdictKind.UnitsMoreCoherent, result.Verdict.Kind);
        Assert.False(result.Verdict.PaperClaimHolds);
        Assert.Contains("single units are more coherent than random directions (large effect)", result.Verdict.Sentence);
        Assert.Contains("purity 1.00 vs", result.Verdict.Sentence);
    }

    [Fact]
    public void Pure_noise_features_sit_at_chance_for_both_and_no_difference_is_detected()
    {
        using var scope = NewDisposeScope();
        const int pool = 2000;

        var result = Analyze(SyntheticFeatures.Noise(pool, units: 40, seed: 2), pool, new UnitAnalysisOptions(Top: 8, RandomDirections: 200, Seed: 0, ChanceSamples: 1000));

        Assert.InRange(result.Natural.MeanPurity, result.Chance - 0.04, result.Chance + 0.04);
        Assert.InRange(result.Random.MeanPurity, result.Chance - 0.04, result.Chance + 0.04);
        Assert.True(result.PValue > 0.05, $"p = {result.PValue}");
        Assert.True(Math.Abs(result.EffectSize) < 0.147, $"delta = {result.EffectSize}");
        Assert.Equal(UnitVerdictKind.NoDifference, result.Verdict.Kind);
        Assert.True(result.Verdict.PaperClaimHolds);
        Assert.StartsWith("synthetic: no difference in label purity detected between single units and random directions", result.Verdict.Sentence);
        // Pixels are noise too: the label-free measure also sits at its chance level.
        var pixels = result.Comparison(LayerUnits.PixelCosineMeasure);
        Assert.InRange(pixels.Natural, pixels.Chance - 0.01, pixels.Chance + 0.01);
    }

    [Fact]
    public void The_same_seed_gives_the_same_result_and_another_seed_other_directions()
    {
        using var scope = NewDisposeScope();
        const int pool = 300;
        var features = SyntheticFeatures.Noise(pool, units: 12, seed: 3);

        var first = Analyze(features, pool, new UnitAnalysisOptions(Top: 5, RandomDirections: 30, Seed: 7, ChanceSamples: 100));
        var again = Analyze(features, pool, new UnitAnalysisOptions(Top: 5, RandomDirections: 30, Seed: 7, ChanceSamples: 100));
        var other = Analyze(features, pool, new UnitAnalysisOptions(Top: 5, RandomDirections: 30, Seed: 8, ChanceSamples: 100));

        Assert.Equal(first.Random.PerDirection.Select(direction => direction.TopImages), again.Random.PerDirection.Select(direction => direction.TopImages));
        Assert.Equal(first.PValue, again.PValue);
        Assert.Equal(first.Chance, again.Chance);
        Assert.NotEqual(first.Random.PerDirection.Select(direction => direction.TopImages), other.Random.PerDirection.Select(direction => direction.TopImages));
        // Units do not depend on the seed.
        Assert.Equal(first.Natural.PerDirection.Select(direction => direction.TopImages), other.Natural.PerDirection.Select(direction => direction.TopImages));
    }

    [Fact]
    public void Dead_units_are_left_out_of_the_comparison_and_counted()
    {
        using var scope = NewDisposeScope();
        const int pool = 400;
        var features = SyntheticFeatures.ClassIndicators(pool, seed: 4);
        // Append a unit that never fires and one that fires on three images only (K = 8).
        var dead = zeros(pool, 1);
        var almostDead = zeros(pool, 1);
        almostDead[10, 0] = tensor(1f);
        almostDead[20, 0] = tensor(2f);
        almostDead[30, 0] = tensor(3f);

        var result = Analyze(cat([features, dead, almostDead], 1), pool, new UnitAnalysisOptions(Top: 8, RandomDirections: 50, Seed: 0, ChanceSamples: 100));

        Assert.Equal(12, result.Natural.Directions);
        Assert.Equal(10, result.Natural.Compared);
        Assert.Equal(2, result.Natural.InactiveExcluded);
        Assert.True(result.Natural.PerDirection[10].Inactive);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], result.Natural.PerDirection[10].TopImages);
        Assert.Equal([30, 20, 10, 0, 1, 2, 3, 4], result.Natural.PerDirection[11].TopImages);
        Assert.Equal(1.0, result.Natural.MeanPurity);
        Assert.True(result.Natural.MeanPurityAllDirections < 1.0);
        Assert.Equal(10, result.PurityComparison.NaturalCount);
    }

    [Fact]
    public void Nothing_is_left_alive_after_a_layer_is_analysed()
    {
        const int pool = 200;
        var features = SyntheticFeatures.ClassIndicators(pool, seed: 6);
        var pixels = SyntheticFeatures.Pixels(pool, seed: 6);
        var labels = SyntheticFeatures.Labels(pool);
        var input = new LayerInput("synthetic", 0, features, UnitAnalysis.PixelsLayer, pixels, pixels, labels);
        var options = new UnitAnalysisOptions(Top: 4, RandomDirections: 20, Seed: 0, ChanceSamples: 50);
        UnitAnalysis.AnalyzeLayer(input, options);

        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var result = UnitAnalysis.AnalyzeLayer(input, options);
        TopImages.Select(features, 4);
        long after = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(before, after);
        Assert.Equal(10, result.Natural.Compared);
        features.Dispose();
        pixels.Dispose();
        labels.Dispose();
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(301, 10)]
    [InlineData(8, 0)]
    public void Settings_out_of_range_are_bad_input(int top, int directions)
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<BadInputException>(() =>
            Analyze(SyntheticFeatures.Noise(300, 5, 1), 300, new UnitAnalysisOptions(top, directions, 0, 10)));
        Assert.Contains(directions == 0 ? "--directions" : "--top", error.Message);
    }

    [Fact]
    public void Mismatched_shapes_are_bad_input()
    {
        using var scope = NewDisposeScope();
        var pixels = SyntheticFeatures.Pixels(50, 1);
        var input = new LayerInput("synthetic", 0, SyntheticFeatures.Noise(40, 5, 1), UnitAnalysis.PixelsLayer, pixels, pixels, SyntheticFeatures.Labels(50));
        var error = Assert.Throws<BadInputException>(() => UnitAnalysis.AnalyzeLayer(input, new UnitAnalysisOptions(4, 5, 0, 10)));
        Assert.Contains("40 activation rows", error.Message);
    }
}
