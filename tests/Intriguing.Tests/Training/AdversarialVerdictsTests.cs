using Intriguing.Statistics;
using Intriguing.Training.Adversarial;
using static Intriguing.Training.Adversarial.AdversarialVerdicts;

namespace Intriguing.Tests.Training;

/// <summary>
/// The adversarial-training claims on hand-made numbers whose verdict is known, each verdict (agrees, does not agree,
/// no difference detected) at least once; the paired test and the masking rule on counts worked by hand.
/// </summary>
public sealed class AdversarialVerdictsTests
{
    /// <summary>A result with <paramref name="testErrors"/> wrong of 10,000, no per-image outcomes (intervals decide).</summary>
    private static Robustness Robust(int testErrors, int fgsm01 = 660, int fgsm025 = 990, int pgd01 = 770, int pgd03 = 1000, int attacked = 1000,
        double distortion = 0.06, double spread = double.NaN) => new(
        Rate.Of(testErrors, 10_000),
        new Dictionary<string, Rate> { ["0.1"] = Rate.Of(fgsm01, attacked), ["0.25"] = Rate.Of(fgsm025, attacked) },
        new Dictionary<string, Rate> { ["0.1"] = Rate.Of(pgd01, attacked), ["0.3"] = Rate.Of(pgd03, attacked) },
        distortion, distortion, 500, 500, 1.0)
        {
            LbfgsDistortionStdDev = spread,
        };

    /// <summary>A masking check whose fast cascade fooled the given number of 1,000 images at each eps.</summary>
    private static MaskingCheck Cascade(params (string Eps, int Fooled)[] errors) => new(1000, 10,
        errors.ToDictionary(entry => entry.Eps, entry => Rate.Of(entry.Fooled, 1000)),
        new Dictionary<string, Rate>(), new Dictionary<string, Rate>(), false, 1.0)
    {
        AutoAttackError = errors.ToDictionary(entry => entry.Eps, entry => Rate.Of(entry.Fooled, 1000)),
        CascadeVersion = "fast",
    };

    /// <summary>
    /// Two models' clean outcomes on 10,000 images: both wrong on <paramref name="both"/>, then <paramref name="onlyFirst"/>
    /// wrong under the first only and <paramref name="onlySecond"/> under the second only.
    /// </summary>
    private static (Robustness First, Robustness Second) PairedClean(int both, int onlyFirst, int onlySecond)
    {
        var first = new bool[10_000];
        var second = new bool[10_000];
        for (int i = 0; i < both; i++)
        {
            first[i] = second[i] = true;
        }
        for (int i = both; i < both + onlyFirst; i++)
        {
            first[i] = true;
        }
        for (int i = both + onlyFirst; i < both + onlyFirst + onlySecond; i++)
        {
            second[i] = true;
        }
        return (Robust(both + onlyFirst) with { CleanWrong = PairedComparison.Encode(first) },
            Robust(both + onlySecond) with { CleanWrong = PairedComparison.Encode(second) });
    }

    [Fact]
    public void McNemars_exact_test_gives_the_binomial_tail_worked_by_hand()
    {
        // b = 0, c = 6: 2 * 0.5^6.
        Assert.Equal(0.03125, McNemar.ExactPValue(0, 6), 12);
        // b = 1, c = 9: 2 * (1 + 10) / 1024.
        Assert.Equal(22.0 / 1024, McNemar.ExactPValue(1, 9), 12);
        Assert.Equal(1, McNemar.ExactPValue(5, 5));
        Assert.Equal(1, McNemar.ExactPValue(0, 0));
        // Thousands of discordant pairs do not underflow: 2,000 against 2,100 is p about 0.12.
        Assert.InRange(McNemar.ExactPValue(2000, 2100), 0.1, 0.14);
    }

    [Fact]
    public void A_paired_difference_carries_its_counts_interval_and_direction()
    {
        var paired = PairedComparison.Of([true, true, false, false, true], [false, true, true, false, false]);
        Assert.Equal(2, paired.OnlyFirst);
        Assert.Equal(1, paired.OnlySecond);
        Assert.Equal(0.2, paired.Difference, 12);
        Assert.True(paired.Lower < paired.Difference && paired.Difference < paired.Upper);
        Assert.False(paired.FirstHigher);

        var shown = PairedComparison.FromCounts(1000, 40, 5);
        Assert.True(shown.FirstHigher);
        Assert.True(shown.Lower > 0);
        Assert.Throws<BadInputException>(() => PairedComparison.Of([true], [true, false]));
        Assert.Equal([true, false, true], PairedComparison.Decode(PairedComparison.Encode([true, false, true])));
    }

    [Fact]
    public void A_lower_clean_error_agrees_only_when_the_paired_test_shows_it()
    {
        // 100 images fixed, 40 broken: p far below 0.05.
        var (better, baseline) = PairedClean(100, 40, 100);
        var agrees = LowersCleanError("a", "lower", "1.2%", "pools", better, baseline);
        Assert.Equal(Verdict.Agrees, agrees.Verdict);
        Assert.Contains("exact McNemar", agrees.Ours);

        // 1.50% against 1.65% on the same images, but with 60 against 75 discordant images: p about 0.25.
        var (close, closeBaseline) = PairedClean(90, 60, 75);
        var undecided = LowersCleanError("a", "lower", "1.2%", "pools", close, closeBaseline);
        Assert.Equal(Verdict.NoDifferenceDetected, undecided.Verdict);
        Assert.Null(undecided.Agrees);

        var (worse, worseBaseline) = PairedClean(100, 120, 20);
        var disagrees = LowersCleanError("a", "lower", "1.2%", "pools", worse, worseBaseline);
        Assert.Equal(Verdict.DoesNotAgree, disagrees.Verdict);
        Assert.False(disagrees.Agrees);
    }

    [Fact]
    public void A_paired_test_can_show_a_difference_that_overlapping_intervals_would_miss()
    {
        // 1.40% against 1.65%: the Wilson intervals overlap, but all 25 discordant images favour the first model (p about 6e-8).
        var (first, second) = PairedClean(140, 0, 25);
        Assert.True(first.TestError.Upper > second.TestError.Lower);
        Assert.Equal(Verdict.Agrees, LowersCleanError("a", "lower", "", "pools", first, second).Verdict);
        // Without the per-image outcomes the same rates fall back on the intervals, which say nothing.
        Assert.Equal(Verdict.NoDifferenceDetected, LowersCleanError("a", "lower", "", "pools", Robust(140), Robust(165)).Verdict);
    }

    [Fact]
    public void The_claims_about_layers_fgsm_pgd_and_conv_follow_their_numbers()
    {
        var baseline = Robust(165);
        Assert.Equal(Verdict.Agrees, HigherLayersMoreUseful(input: Robust(353), hidden: Robust(250)).Verdict);
        Assert.Equal(Verdict.DoesNotAgree, HigherLayersMoreUseful(input: Robust(250), hidden: Robust(353)).Verdict);

        Assert.Equal(Verdict.Agrees, FgsmTrainingHelps(Robust(170, fgsm025: 180), baseline).Verdict);
        Assert.Equal(Verdict.DoesNotAgree, FgsmTrainingHelps(Robust(400, fgsm025: 180), baseline).Verdict);
        Assert.Equal(Verdict.NoDifferenceDetected, FgsmTrainingHelps(Robust(165, fgsm025: 985), baseline).Verdict);

        var straddles = ConvMeetsTarget(Robust(116, pgd01: 73));
        Assert.Equal(Verdict.NoDifferenceDetected, straddles.Verdict);
        Assert.Contains("point estimates meet", straddles.Ours);
        Assert.Equal(Verdict.Agrees, ConvMeetsTarget(Robust(116, pgd01: 40)).Verdict);
        Assert.Equal(Verdict.DoesNotAgree, ConvMeetsTarget(Robust(116, pgd01: 150)).Verdict);
        Assert.Equal(Verdict.DoesNotAgree, ConvMeetsTarget(Robust(300, pgd01: 40)).Verdict);

        Assert.Equal(Verdict.DoesNotAgree, ConvAgainstMadry(Robust(116, pgd03: 988), "FGSM-RS").Verdict);
        Assert.Equal(Verdict.NoDifferenceDetected, ConvAgainstMadry(Robust(116, pgd03: 70), "PGD").Verdict);
        Assert.Equal(Verdict.Agrees, ConvAgainstMadry(Robust(116, pgd03: 20), "PGD").Verdict);

        // With the cascade run, it is the robust accuracy judged: PGD-40 alone would meet the target here, AutoAttack does not.
        var cascadeMisses = ConvMeetsTarget(Robust(116, pgd01: 40), Cascade(("0.1", 150), ("0.3", 900)));
        Assert.Equal(Verdict.DoesNotAgree, cascadeMisses.Verdict);
        Assert.Contains("AutoAttack (fast) accuracy at 0.1 85.00%", cascadeMisses.Ours);
        Assert.Equal(Verdict.Agrees, ConvMeetsTarget(Robust(116, pgd01: 40), Cascade(("0.1", 45), ("0.3", 900))).Verdict);
        // Against Madry: PGD-40 above 93.2% but AutoAttack below their model's 88.5% does not agree.
        Assert.Equal(Verdict.DoesNotAgree, ConvAgainstMadry(Robust(116, pgd03: 20), "PGD", Cascade(("0.1", 45), ("0.3", 200))).Verdict);
        Assert.Equal(Verdict.Agrees, ConvAgainstMadry(Robust(116, pgd03: 20), "PGD", Cascade(("0.1", 45), ("0.3", 40))).Verdict);

        Assert.Equal(Verdict.Agrees, PgdTrainingHelps(Robust(200, pgd01: 100), baseline, 0.1).Verdict);
        Assert.Equal(Verdict.DoesNotAgree, PgdTrainingHelps(Robust(200, pgd01: 900), baseline, 0.1).Verdict);
    }

    [Fact]
    public void The_pool_target_needs_the_error_below_it_and_the_distortion_shown_higher()
    {
        var baseline = Robust(165, distortion: 0.06, spread: 0.02);
        Assert.Equal(Verdict.Agrees, PoolMeetsTarget(Robust(100, distortion: 0.08, spread: 0.02), baseline).Verdict);
        // Higher by 0.001 with a spread of 0.02 over 500 successes each: the Welch interval straddles zero.
        Assert.Equal(Verdict.NoDifferenceDetected, PoolMeetsTarget(Robust(100, distortion: 0.061, spread: 0.02), baseline).Verdict);
        Assert.Equal(Verdict.DoesNotAgree, PoolMeetsTarget(Robust(100, distortion: 0.05, spread: 0.02), baseline).Verdict);
        Assert.Equal(Verdict.DoesNotAgree, PoolMeetsTarget(Robust(200, distortion: 0.08, spread: 0.02), baseline).Verdict);
    }

    [Fact]
    public void Masking_signs_need_their_statistic_and_a_small_sample_stays_undecided()
    {
        var none = PairedComparison.FromCounts(1000, 2, 0);
        var (signs, undecided) = MaskingSigns.Read("0.1", none, PairedComparison.FromCounts(1000, 0, 30), PairedComparison.FromCounts(1000, 0, 50));
        Assert.Empty(signs);
        Assert.Empty(undecided);

        // Restarts 10 points above plain on 1,000 images: a sign. Transfer above white-box, shown: a sign. FGSM above PGD: a sign.
        (signs, _) = MaskingSigns.Read("0.3", PairedComparison.FromCounts(1000, 100, 0), PairedComparison.FromCounts(1000, 30, 5),
            PairedComparison.FromCounts(1000, 25, 2));
        Assert.Equal(3, signs.Count);
        Assert.Contains(signs, sign => sign.Contains("FGSM step fools more"));

        // The old 5-point rule on 50 images: 3 more images (6 points) is no sign, the interval reaches below 5 points: undecided.
        (signs, undecided) = MaskingSigns.Read("0.1", PairedComparison.FromCounts(50, 3, 0), none with { }, none);
        Assert.Empty(signs);
        Assert.Single(undecided);
    }

    [Fact]
    public void A_history_file_that_cannot_be_read_is_named_in_a_warning_not_read_as_empty_silently()
    {
        string model = Path.Combine(Path.GetTempPath(), "intriguing-history-" + Guid.NewGuid().ToString("N") + ".safetensors");
        try
        {
            var warnings = new List<string>();
            var progress = new Collect(update => warnings.Add(update.Detail ?? ""));
            Assert.Empty(AdversarialTraining.ReadHistory(model, progress));
            Assert.Empty(warnings);

            File.WriteAllText(model + ".history.json", "[{\"epoch\": 1, \"meanLoss\": ");
            Assert.Empty(AdversarialTraining.ReadHistory(model, progress));
            Assert.Contains(warnings, warning => warning.Contains(model + ".history.json") && warning.Contains("cannot be read"));

            File.WriteAllText(model + ".history.json", "[{\"epoch\": 1, \"meanLoss\": 0.5, \"testError\": 0.1, \"robustError\": 0.3}]");
            Assert.Equal(0.5, Assert.Single(AdversarialTraining.ReadHistory(model, progress)).MeanLoss);
        }
        finally
        {
            File.Delete(model + ".history.json");
        }
    }

    private sealed class Collect(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
