using Intriguing.Units;

namespace Intriguing.Tests.Units;

/// <summary>
/// The units verdict on hand-built comparisons: Holm's correction over every test reported together, then the kind
/// from the adjusted p-value and Cliff's delta; "no difference detected" is worded as such.
/// </summary>
public sealed class UnitVerdictsTests
{
    private static MeasureComparison Comparison(string measure, double p, double delta) =>
        new(measure, 0.7, 0.65, 0.3, p, delta, MannWhitney.MagnitudeOf(delta), U: 0, Z: 0, NaturalCount: 100, RandomCount: 500, AdjustedPValue: double.NaN, Tests: 0);

    private static MeasureComparison[] Layer(double purityP, double purityDelta, double belowP, double pixelP) =>
    [
        Comparison(LayerUnits.PurityMeasure, purityP, purityDelta),
        Comparison(LayerUnits.LayerBelowCosineMeasure, belowP, 0.05),
        Comparison(LayerUnits.PixelCosineMeasure, pixelP, 0.05),
    ];

    private static UnitVerdict Judge(IReadOnlyList<MeasureComparison> comparisons) =>
        UnitVerdicts.Judge("layer", "below", comparisons, 100, 500, 8);

    [Fact]
    public void Fifteen_tests_are_corrected_together_as_in_the_docs_seed_0_table()
    {
        // docs/units.md, seed 0: purity p and delta, layer-below p (pixels under conv1 and hidden1), pixel p; five layers.
        MeasureComparison[][] layers =
        [
            Layer(0.0068, +0.08, 0.053, 0.053), // conv1
            Layer(7.4e-4, +0.11, 0.049, 0.10), // conv2
            Layer(0.64, -0.03, 0.85, 0.70), // fc1
            Layer(0.0040, +0.18, 4.2e-7, 4.2e-7), // hidden1
            Layer(0.034, -0.12, 0.95, 0.30), // hidden2
        ];

        var corrected = UnitVerdicts.Correct(layers);
        var kinds = corrected.Select(layer => Judge(layer).Kind).ToList();

        // Sorted: 4.2e-7 (x15), 4.2e-7 (x14), 7.4e-4 (x13 = 0.0096), 0.0040 (x12 = 0.048), 0.0068 (x11 = 0.0748): the step-down stops there.
        Assert.Equal(0.048, corrected[3][0].AdjustedPValue, 12);
        Assert.Equal(0.0748, corrected[0][0].AdjustedPValue, 12);
        Assert.All(corrected.SelectMany(layer => layer), comparison => Assert.Equal(15, comparison.Tests));
        Assert.Equal(
            [UnitVerdictKind.NoDifference, UnitVerdictKind.NegligibleDifference, UnitVerdictKind.NoDifference, UnitVerdictKind.UnitsMoreCoherent, UnitVerdictKind.NoDifference],
            kinds);
    }

    [Fact]
    public void An_uncorrected_p_below_005_is_no_difference_once_corrected()
    {
        var corrected = UnitVerdicts.Correct([Layer(0.03, +0.40, 0.5, 0.5)])[0];

        var verdict = Judge(corrected);

        Assert.Equal(0.09, corrected[0].AdjustedPValue, 12); // 3 x 0.03
        Assert.Equal(UnitVerdictKind.NoDifference, verdict.Kind);
        Assert.True(verdict.PaperClaimHolds);
        Assert.Equal(3, verdict.Tests);
        Assert.StartsWith("layer: no difference in label purity detected between single units and random directions", verdict.Sentence);
        Assert.DoesNotContain("as coherent", verdict.Sentence);
        Assert.Contains("Holm-adjusted over 3 tests p = 0.090", verdict.Sentence);
    }

    [Fact]
    public void A_detected_but_negligible_difference_is_named_as_such()
    {
        var verdict = Judge(UnitVerdicts.Correct([Layer(1e-6, -0.10, 0.5, 0.5)])[0]);

        Assert.Equal(UnitVerdictKind.NegligibleDifference, verdict.Kind);
        Assert.Contains("negligible one (units slightly less pure)", verdict.Sentence);
    }

    [Fact]
    public void Units_purer_by_a_small_effect_contradict_the_paper()
    {
        var verdict = Judge(UnitVerdicts.Correct([Layer(1e-6, +0.20, 0.5, 0.5)])[0]);

        Assert.Equal(UnitVerdictKind.UnitsMoreCoherent, verdict.Kind);
        Assert.False(verdict.PaperClaimHolds);
        Assert.Contains("single units are more coherent than random directions (small effect)", verdict.Sentence);
    }

    [Fact]
    public void Random_directions_purer_do_not_contradict_the_paper()
    {
        var verdict = Judge(UnitVerdicts.Correct([Layer(1e-6, -0.50, 0.5, 0.5)])[0]);

        Assert.Equal(UnitVerdictKind.RandomMoreCoherent, verdict.Kind);
        Assert.True(verdict.PaperClaimHolds);
        Assert.Contains("(large effect)", verdict.Sentence);
    }

    [Fact]
    public void A_label_free_difference_is_named_only_when_it_survives_the_correction()
    {
        MeasureComparison[] comparisons =
        [
            Comparison(LayerUnits.PurityMeasure, 0.5, 0.0),
            Comparison(LayerUnits.LayerBelowCosineMeasure, 0.03, 0.40), // second smallest: 2 x 0.03 = 0.06, not named
            Comparison(LayerUnits.PixelCosineMeasure, 1e-8, 0.35),
        ];

        var verdict = Judge(UnitVerdicts.Correct([comparisons])[0]);

        Assert.Contains("more alike in pixel space", verdict.Sentence);
        Assert.DoesNotContain("the layer below", verdict.Sentence);
    }

    [Fact]
    public void Uncorrected_comparisons_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Judge(Layer(0.01, 0.3, 0.5, 0.5)));
    }
}
