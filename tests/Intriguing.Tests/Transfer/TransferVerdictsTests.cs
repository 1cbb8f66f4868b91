using Intriguing.Transfer;

namespace Intriguing.Tests.Transfer;

/// <summary>
/// Each transfer claim on hand-built matrices whose verdict is known: agrees when every comparison passes McNemar's
/// exact test after Holm's correction, partly when some do, disagrees when none does (or all go the other way).
/// </summary>
public sealed class TransferVerdictsTests
{
    private static readonly string[] ThreeModels = ["a", "b", "c"];

    // ---- claim (1) ----

    [Fact]
    public void Claim_one_agrees_when_every_cell_is_significantly_above_every_noise()
    {
        // 40 images only the examples fool, none only the noise: p = 2^-39 in every one of 6 x 3 comparisons.
        var matrix = HandBuiltMatrix.Uniform(ThreeModels, 100, new CellSpec(40, 0));

        var claim = TransferVerdicts.ClaimOne(matrix);

        Assert.Equal(ClaimVerdictKind.Agrees, claim.Verdict);
        Assert.Equal((18, 18, 0), (claim.Tests, claim.Passed, claim.Opposite));
        Assert.Equal(TransferVerdicts.McNemarStatistic, claim.Statistic);
        Assert.Equal("Holm", claim.Correction);
        Assert.StartsWith("**(1) Agrees.**", claim.Sentence);
        Assert.Contains("McNemar's exact test", claim.Sentence);
        Assert.Contains("6 of 6 cells against Gaussian noise scaled", claim.Sentence);
        Assert.Contains("6 of 6 against the paper's noise row", claim.Sentence);
        Assert.All(claim.Comparisons, test => Assert.Equal(ComparisonResult.Passes, test.Result));
        Assert.True(matrix.EqualDistortion.Holds);
        Assert.Equal((6, 6, 6, 18), (matrix.EqualDistortion.AboveRmsNoise, matrix.EqualDistortion.AboveStddevNoise, matrix.EqualDistortion.StddevCells, matrix.EqualDistortion.Tests));
    }

    [Fact]
    public void Claim_one_partly_agrees_when_only_the_magnified_cells_pass()
    {
        var matrix = HandBuiltMatrix.Build(ThreeModels, 100, (_, _) => new CellSpec(5, 5, 10), (_, _) => new CellSpec(40, 0), _ => 0);

        var claim = TransferVerdicts.ClaimOne(matrix);

        Assert.Equal(ClaimVerdictKind.Partly, claim.Verdict);
        Assert.Equal((18, 12), (claim.Tests, claim.Passed));
        Assert.Equal(0, claim.PassedIn(TransferVerdicts.OwnDistortion));
        Assert.StartsWith("**(1) Partly agrees.**", claim.Sentence);
        Assert.Contains("in 0 of 6 cells against Gaussian noise scaled", claim.Sentence);
        Assert.Contains("6 of 6 magnified to RMS 0.10", claim.Sentence);
    }

    [Fact]
    public void Claim_one_disagrees_when_examples_and_noise_fool_as_many_images()
    {
        // The paper's noise row fools the last 15 images, the magnified examples the first 15: 15 against 15.
        var matrix = HandBuiltMatrix.Uniform(ThreeModels, 100, new CellSpec(5, 5, 10), paperNoise: 15);

        var claim = TransferVerdicts.ClaimOne(matrix);

        Assert.Equal(ClaimVerdictKind.Disagrees, claim.Verdict);
        Assert.Equal(0, claim.Passed);
        Assert.All(claim.Comparisons, test => Assert.Equal(1.0, test.PValue));
        Assert.StartsWith("**(1) Disagrees.**", claim.Sentence);
        Assert.False(matrix.EqualDistortion.Holds);
    }

    [Fact]
    public void Claim_one_disagrees_and_counts_the_cells_where_noise_fools_more()
    {
        var matrix = HandBuiltMatrix.Uniform(ThreeModels, 100, new CellSpec(0, 40), paperNoise: null);

        var claim = TransferVerdicts.ClaimOne(matrix);

        Assert.Equal(ClaimVerdictKind.Disagrees, claim.Verdict);
        Assert.Equal((12, 0, 12), (claim.Tests, claim.Passed, claim.Opposite));
        Assert.Contains("significantly less in 12 of 12", claim.Sentence);
        Assert.Contains("none against the paper's noise row (no row of stddev 0.10 was measured)", claim.Sentence);
        Assert.Equal((6, 0, 0), (matrix.EqualDistortion.BelowRmsNoise, matrix.EqualDistortion.AboveStddevNoise, matrix.EqualDistortion.StddevCells));
    }

    [Fact]
    public void A_cell_a_few_points_above_its_noise_is_not_above_it_when_the_pairs_do_not_say_so()
    {
        // 23.9% against 21.7% on 1,000 images: 139 images only the examples fool, 117 only the noise, p about 0.19.
        var matrix = HandBuiltMatrix.Uniform(["a", "b"], 1000, new CellSpec(139, 117, 100), paperNoise: null);

        var claim = TransferVerdicts.ClaimOne(matrix);

        Assert.Equal(0.239, matrix.Magnified[0].Errors["b"], 12);
        Assert.Equal(0.217, matrix.Magnified[0].Noise.Errors["b"], 12);
        Assert.InRange(matrix.Magnified[0].PValues["b"], 0.15, 0.25);
        Assert.Equal(ClaimVerdictKind.Disagrees, claim.Verdict);
        Assert.Equal(0, matrix.EqualDistortion.AboveRmsNoise);
        Assert.Contains("Smallest difference at equal distortion: 2.2 points", claim.Sentence);
    }

    [Fact]
    public void Holms_correction_can_take_away_what_each_test_alone_would_grant()
    {
        // Six discordant pairs all one way: p = 0.03125 alone, but 18 of them adjust to at least 18 x 0.03125.
        var matrix = HandBuiltMatrix.Uniform(ThreeModels, 100, new CellSpec(6, 0), paperNoise: 0);

        var claim = TransferVerdicts.ClaimOne(matrix);

        Assert.All(claim.Comparisons, test => Assert.Equal(0.03125, test.PValue, 12));
        Assert.All(claim.Comparisons, test => Assert.Equal(ComparisonResult.NotDetected, test.Result));
        Assert.Equal(ClaimVerdictKind.Disagrees, claim.Verdict);
    }

    // ---- claim (2) ----

    private static readonly string[] Family = ["weak", "middle", "strong"];

    private static TransferMatrix ByFooled(Func<string, int> plainFooled, Func<string, int> magnifiedFooled) =>
        HandBuiltMatrix.Build([.. Family, "other"], 100, (source, _) => new CellSpec(plainFooled(source), 0), (source, _) => new CellSpec(magnifiedFooled(source), 0));

    private static int Decreasing(string source) => source switch { "weak" => 60, "middle" => 30, "strong" => 10, _ => 0 };

    private static int Increasing(string source) => source switch { "weak" => 10, "middle" => 30, "strong" => 60, _ => 0 };

    [Fact]
    public void Claim_two_agrees_when_each_weaker_model_fools_every_other_target_more()
    {
        var claim = TransferVerdicts.ClaimTwo(ByFooled(Decreasing, Decreasing), Family);

        Assert.Equal(ClaimVerdictKind.Agrees, claim.Verdict);
        Assert.Equal((8, 8), (claim.Tests, claim.Passed)); // 2 pairs x 2 other targets x (plain, magnified)
        Assert.StartsWith("**(2) Agrees.**", claim.Sentence);
        Assert.Contains("in 4 of 4 at the examples' own distortions and 4 of 4", claim.Sentence);
    }

    [Fact]
    public void Claim_two_partly_agrees_when_only_the_plain_examples_are_ordered()
    {
        var claim = TransferVerdicts.ClaimTwo(ByFooled(Decreasing, _ => 30), Family);

        Assert.Equal(ClaimVerdictKind.Partly, claim.Verdict);
        Assert.Equal((4, 4), (claim.PassedIn(TransferVerdicts.Plain), claim.CountIn(TransferVerdicts.Magnified)));
        Assert.Equal(0, claim.PassedIn(TransferVerdicts.Magnified));
    }

    [Fact]
    public void Claim_two_disagrees_when_the_most_regularised_transfers_most_and_says_what_the_paper_shows()
    {
        var paper = new Dictionary<string, (double, double)> { ["weak"] = (0.086, 0.062), ["middle"] = (0.391, 0.1), ["strong"] = (0.555, 0.14) };

        var claim = TransferVerdicts.ClaimTwo(ByFooled(Increasing, Increasing), Family, source => paper[source]);

        Assert.Equal(ClaimVerdictKind.Disagrees, claim.Verdict);
        Assert.Equal((0, 8), (claim.Passed, claim.Opposite));
        Assert.StartsWith("**(2) Disagrees.**", claim.Sentence);
        Assert.Contains("significantly less in 4 and 4", claim.Sentence);
        Assert.Contains("there transfer rises as regularisation grows, and the examples of strong transfer most, at the largest distortion", claim.Sentence);
    }

    [Fact]
    public void Claim_two_pairs_only_the_images_both_sources_share()
    {
        var matrix = ByFooled(Decreasing, Decreasing);
        // The weak source's examples exist for images 0..49 only: a measurement keeps verified examples alone.
        var weak = matrix.Rows[0];
        var trimmed = weak with
        {
            Indices = [.. weak.Indices.Take(50)],
            Outcomes = weak.Outcomes.ToDictionary(cell => cell.Key, cell => cell.Value.Take(50).ToArray()),
        };
        matrix = matrix with { Rows = [trimmed, .. matrix.Rows.Skip(1)] };

        var comparisons = TransferVerdicts.ClaimTwoComparisons(matrix, Family);

        var first = comparisons.First(comparison => comparison.Group == TransferVerdicts.Plain);
        Assert.Equal(50, first.Items);
        Assert.Equal((20, 0), (first.Supporting, first.Opposing)); // images 30..49: weak fools them, middle does not
    }

    [Fact]
    public void Claim_two_refuses_a_family_member_that_is_not_a_row()
    {
        Assert.Throws<ArgumentException>(() => TransferVerdicts.ClaimTwo(ByFooled(Decreasing, Decreasing), ["weak", "absent"]));
    }

    // ---- claim (3) ----

    private static readonly string[] Halves = ["source", "same", "other"];

    private static TransferMatrix Halved(CellSpec toSame, CellSpec toOther) =>
        HandBuiltMatrix.Build(Halves, 100, (source, target) => source != "source" ? new CellSpec(0, 0) : target == "same" ? toSame : target == "other" ? toOther : new CellSpec(100, 0),
            (_, _) => new CellSpec(0, 0));

    [Fact]
    public void Claim_three_agrees_when_examples_beat_noise_across_halves_and_fool_the_same_half_more()
    {
        var claim = TransferVerdicts.ClaimThree(Halved(new CellSpec(40, 0), new CellSpec(15, 0)), "source", "same", "other", 0.262, 0.059);

        Assert.Equal(ClaimVerdictKind.Agrees, claim.Verdict);
        Assert.Equal(2, claim.Tests);
        Assert.Equal((15, 0), (claim.Comparisons[0].Supporting, claim.Comparisons[0].Opposing));
        Assert.Equal((25, 0), (claim.Comparisons[1].Supporting, claim.Comparisons[1].Opposing));
        Assert.StartsWith("**(3) Agrees.**", claim.Sentence);
        Assert.Contains("(paper 5.9%)", claim.Sentence);
        Assert.Contains("across the halves significantly above noise", claim.Sentence);
    }

    [Fact]
    public void Claim_three_partly_agrees_when_the_other_half_is_not_told_from_noise()
    {
        var claim = TransferVerdicts.ClaimThree(Halved(new CellSpec(40, 0), new CellSpec(2, 2)), "source", "same", "other");

        Assert.Equal(ClaimVerdictKind.Partly, claim.Verdict);
        Assert.Equal(ComparisonResult.NotDetected, claim.Comparisons[0].Result);
        Assert.Equal(ComparisonResult.Passes, claim.Comparisons[1].Result);
        Assert.Contains("not distinguishable from noise", claim.Sentence);
    }

    [Fact]
    public void Claim_three_disagrees_when_neither_comparison_passes()
    {
        var claim = TransferVerdicts.ClaimThree(Halved(new CellSpec(2, 2), new CellSpec(2, 2)), "source", "same", "other");

        Assert.Equal(ClaimVerdictKind.Disagrees, claim.Verdict);
        Assert.StartsWith("**(3) Disagrees.**", claim.Sentence);
        Assert.Contains("not distinguishable from within the same half", claim.Sentence);
    }

    // ---- claim (4) ----

    private static TransferMatrix Magnified(int toSame, int toOther) =>
        HandBuiltMatrix.Build(Halves, 100, (_, _) => new CellSpec(0, 0),
            (source, target) => source != "source" ? new CellSpec(0, 0) : target == "same" ? new CellSpec(toSame, 0) : target == "other" ? new CellSpec(toOther, 0) : new CellSpec(100, 0));

    [Fact]
    public void Claim_four_agrees_when_both_targets_are_fooled_by_significantly_more_than_half()
    {
        var claim = TransferVerdicts.ClaimFour(Magnified(90, 80), "source", ["same", "other"]);

        Assert.Equal(ClaimVerdictKind.Agrees, claim.Verdict);
        Assert.Equal(TransferVerdicts.BinomialStatistic, claim.Statistic);
        Assert.Equal((90, 10), (claim.Comparisons[0].Supporting, claim.Comparisons[0].Opposing));
        Assert.Contains("in 2 of 2", claim.Sentence);
    }

    [Fact]
    public void Claim_four_partly_agrees_at_the_papers_own_98_and_43_percent()
    {
        var claim = TransferVerdicts.ClaimFour(Magnified(98, 43), "source", ["same", "other"], target => target == "same" ? 0.98 : 0.43);

        Assert.Equal(ClaimVerdictKind.Partly, claim.Verdict);
        Assert.Equal(ComparisonResult.NotDetected, claim.Comparisons[1].Result); // 43 of 100 against one half: p about 0.19
        Assert.StartsWith("**(4) Partly agrees.**", claim.Sentence);
        Assert.Contains("The paper's own values are above one half in 1 of 2.", claim.Sentence);
    }

    [Fact]
    public void Claim_four_disagrees_when_both_targets_are_fooled_by_fewer_than_half()
    {
        var claim = TransferVerdicts.ClaimFour(Magnified(30, 20), "source", ["same", "other"]);

        Assert.Equal(ClaimVerdictKind.Disagrees, claim.Verdict);
        Assert.Equal(2, claim.Opposite);
        Assert.Contains("significantly below in 2", claim.Sentence);
    }

    // ---- the rule ----

    [Theory]
    [InlineData(3, 3, ClaimVerdictKind.Agrees)]
    [InlineData(1, 3, ClaimVerdictKind.Partly)]
    [InlineData(0, 3, ClaimVerdictKind.Disagrees)]
    [InlineData(0, 0, ClaimVerdictKind.Disagrees)]
    public void The_verdict_follows_from_how_many_comparisons_pass(int passed, int tests, ClaimVerdictKind expected)
    {
        Assert.Equal(expected, TransferVerdicts.KindOf(passed, tests));
    }

    [Fact]
    public void The_trend_word_follows_the_values()
    {
        Assert.Equal("falls", TransferVerdicts.Trend([0.5, 0.4, 0.1]));
        Assert.Equal("rises", TransferVerdicts.Trend([0.1, 0.4, 0.5]));
        Assert.Equal("is not monotone", TransferVerdicts.Trend([0.49, 0.55, 0.39]));
    }
}
