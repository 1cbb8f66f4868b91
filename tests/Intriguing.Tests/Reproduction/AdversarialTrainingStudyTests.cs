using System.Text.Json;
using Intriguing.Reporting;
using Intriguing.Reproduction;
using Intriguing.Statistics;
using Intriguing.Training;
using Intriguing.Training.Adversarial;
using static Intriguing.Reproduction.AdversarialTrainingStudy;
using static Intriguing.Training.Adversarial.AdversarialVerdicts;

namespace Intriguing.Tests.Reproduction;

/// <summary>
/// The adversarial-training section without training: its claims on given numbers (intervals decide), its fingerprint,
/// the arms a quick run trains, and the section rendered from made-up results.
/// </summary>
public sealed class AdversarialTrainingStudyTests
{
    private static Robustness Robust(int testErrors, int fgsm01 = 660, int fgsm025 = 990, int pgd01 = 770, int pgd03 = 1000, int attacked = 1000, double distortion = 0.06) => new(
        Rate.Of(testErrors, 10_000),
        new Dictionary<string, Rate> { ["0.1"] = Rate.Of(fgsm01, attacked), ["0.25"] = Rate.Of(fgsm025, attacked) },
        new Dictionary<string, Rate> { ["0.1"] = Rate.Of(pgd01, attacked), ["0.3"] = Rate.Of(pgd03, attacked) },
        distortion, distortion, 100, 100, 1.0);

    [Fact]
    public void A_claim_whose_arm_did_not_run_says_so()
    {
        var outcomes = new[] { Outcome(DefaultArms.Single(arm => arm.Name == PoolArm), Robust(120)) };

        var claims = Claims(outcomes);

        Assert.Equal(["a", "b", "c", "d", "e", "f", "g", "h", "i"], claims.Select(claim => claim.Id));
        Assert.Equal(Verdict.NoDifferenceDetected, claims[0].Verdict);
        Assert.All(claims.Where(claim => claim.Id is not ("a" or "h")), claim =>
        {
            Assert.Equal(Verdict.NotRun, claim.Verdict);
            Assert.Null(claim.Agrees);
        });
    }

    [Fact]
    public void The_fingerprint_changes_with_any_arms_settings()
    {
        string original = new AdversarialTrainingStudy().Fingerprint;
        Assert.Equal(original, new AdversarialTrainingStudy(DefaultArms).Fingerprint);

        IReadOnlyList<Arm> Changed(string name, Func<Arm, Arm> change) => DefaultArms.Select(arm => arm.Name == name ? change(arm) : arm).ToList();
        var variants = new[]
        {
            Changed(PoolArm, arm => arm with { Settings = arm.Settings with { Pool = arm.Settings.Pool with { MixRatio = 0.25 } } }),
            Changed(FgsmArm, arm => arm with { Settings = arm.Settings with { Epsilon = 0.3 } }),
            Changed(PgdArm, arm => arm with { Settings = arm.Settings with { Epochs = 5 } }),
            Changed(ConvArm, arm => arm with { Evaluation = arm.Evaluation with { RobustCount = 500 } }),
            Changed(DropoutArm, arm => arm with { InQuick = false }),
        };
        var fingerprints = variants.Select(arms => new AdversarialTrainingStudy(arms).Fingerprint).Append(original).ToList();
        Assert.Equal(fingerprints.Count, fingerprints.Distinct().Count());
    }

    [Fact]
    public void A_quick_run_trains_the_quick_arms_for_one_epoch_with_small_counts_at_the_runs_seed()
    {
        var quick = ForRun(DefaultArms, quick: true, seed: 7);
        Assert.Equal(DefaultArms.Where(arm => arm.InQuick).Select(arm => arm.Name), quick.Select(arm => arm.Name));
        Assert.DoesNotContain(quick, arm => arm.Settings.Model == Conv);
        Assert.All(quick, arm =>
        {
            Assert.True(arm.Settings.Quick);
            Assert.Equal(QuickEpochs, arm.Settings.Epochs);
            Assert.Equal(7, arm.Settings.Seed);
            Assert.Equal(QuickEvaluation with { Seed = 7 }, arm.Evaluation);
        });

        var full = ForRun(DefaultArms, quick: false, seed: 0);
        Assert.Equal(DefaultArms.Where(arm => !arm.ExtendedOnly).Select(arm => arm.Name), full.Select(arm => arm.Name));
        Assert.DoesNotContain(full, arm => arm.Name == ConvPgdArm);
        Assert.Equal(DefaultArms.Select(arm => arm.Name), ForRun(DefaultArms, quick: false, seed: 0, extended: true).Select(arm => arm.Name));
        Assert.Equal(quick.Select(arm => arm.Name), ForRun(DefaultArms, quick: true, seed: 7, extended: true).Select(arm => arm.Name));
        Assert.Equal(3, full.Single(arm => arm.Name == ConvArm).Settings.Epochs);
        Assert.Null(full.Single(arm => arm.Name == PoolArm).Settings.Epochs);
    }

    [Fact]
    public void Helpers_take_the_single_threaded_arms_last_first_and_unknown_arm_names_are_refused()
    {
        var helperArms = HelperArms(quick: false);
        Assert.Equal(ForRun(DefaultArms, quick: false, seed: 0).Where(arm => arm.Settings.Model == Fc100).Select(arm => arm.Name).Reverse(), helperArms);
        Assert.DoesNotContain(ConvArm, helperArms);
        Assert.Equal(["fgsm", "pool", "dropout"], HelperArms(quick: true));

        using var data = new Intriguing.Data.ImageDataset("synthetic", Intriguing.Tests.Models.SyntheticDigits.Make(10, seed: 1),
            Intriguing.Tests.Models.SyntheticDigits.Make(10, seed: 2));
        var error = Assert.Throws<BadInputException>(() => TrainArms(data, ["pool", "nope"], seed: 0, quick: false));
        Assert.Contains("'nope'", error.Message);
        Assert.Contains(ConvPgdArm + " only with --extended", error.Message);
        Assert.Contains("'conv-pgd'", Assert.Throws<BadInputException>(() => TrainArms(data, [ConvPgdArm], seed: 0, quick: false)).Message);
    }

    [Fact]
    public void The_section_renders_the_comparison_the_ablation_and_the_claims_from_results()
    {
        var numbers = new Dictionary<string, Robustness>
        {
            [DropoutArm] = Robust(150),
            [PoolArm] = Robust(359, fgsm01: 206, distortion: 0.108),
            [PoolInputArm] = Robust(353, fgsm01: 250, distortion: 0.106),
            [PoolHiddenArm] = Robust(250, distortion: 0.065),
            [FgsmArm] = Robust(180, fgsm025: 200),
            [PgdArm] = Robust(200, pgd01: 150),
            [ConvArm] = Robust(116, pgd01: 73, pgd03: 988),
            [PoolFreshArm] = Robust(130, fgsm01: 133, distortion: 0.082),
            [FgsmSmallArm] = Robust(127, fgsm01: 187),
            [ConvPgdArm] = Robust(359, pgd01: 74, pgd03: 233),
        };
        var outcomes = DefaultArms.Select(arm => Outcome(arm, numbers[arm.Name])).ToList();
        // The PGD-trained conv carries its masking checks: restarts within the margin, transfer below plain PGD.
        int convPgd = outcomes.FindIndex(outcome => outcome.Arm.Name == ConvPgdArm);
        var masking = new MaskingCheck(1000, 10,
            new Dictionary<string, Rate> { ["0.1"] = Rate.Of(74, 1000), ["0.3"] = Rate.Of(233, 1000) },
            new Dictionary<string, Rate> { ["0.1"] = Rate.Of(75, 1000), ["0.3"] = Rate.Of(272, 1000) },
            new Dictionary<string, Rate> { ["0.1"] = Rate.Of(54, 1000), ["0.3"] = Rate.Of(98, 1000) }, Suspect: false, Seconds: 1)
        {
            RestartsExcess = new Dictionary<string, PairedComparison> { ["0.1"] = PairedComparison.FromCounts(1000, 1, 0), ["0.3"] = PairedComparison.FromCounts(1000, 39, 0) },
        };
        outcomes[convPgd] = outcomes[convPgd] with { Result = outcomes[convPgd].Result with { Masking = masking } };

        var section = Section(outcomes, quick: false, seed: 0);

        section.Validate();
        Assert.Equal("adversarialTraining", section.Key);
        Assert.Equal(4, section.Tables.Count);
        Assert.Equal(["0.1", "0.3"], section.Tables[3].Rows.Select(row => row[2].Text));
        Assert.Contains("+3.9 [", section.Tables[3].Rows[1][5].Text);
        Assert.Contains("no sign of masking in these three checks", section.Prose);
        Assert.Equal(DefaultArms.Count + 2, section.Tables[0].Rows.Count);
        Assert.Equal(["none (weight decay)", "0", "1, 2", "0, 1, 2"], section.Tables[1].Rows.Select(row => row[0].Text));
        Assert.Equal(["adversarial-training-errors.png", "adversarial-training-pool-curves.png"], section.Figures.Select(figure => figure.FileName));
        Assert.Contains("**(a) Does not agree.**", section.Prose);
        Assert.Contains("**(c) Agrees.**", section.Prose);
        Assert.Contains("**(e) No difference detected.**", section.Prose);
        Assert.Contains("shorter than the recipe's", section.Prose);

        var json = JsonSerializer.SerializeToElement(section.Data, JsonReportWriter.Options);
        Assert.False(json.GetProperty("quick").GetBoolean());
        var arms = json.GetProperty("arms").EnumerateArray().ToList();
        Assert.Equal(DefaultArms.Select(arm => arm.Name), arms.Select(arm => arm.GetProperty("name").GetString()));
        var pool = arms.Single(arm => arm.GetProperty("name").GetString() == PoolArm);
        Assert.Equal(0.0359, pool.GetProperty("testError").GetDouble(), 6);
        Assert.Equal(0.206, pool.GetProperty("robust").GetProperty("fgsmErrorByEps").GetProperty("0.1").GetDouble(), 6);
        Assert.Equal(2, json.GetProperty("baselines").GetArrayLength());
        Assert.Equal("fc100-100-10", json.GetProperty("baseline").GetProperty("model").GetString());
        Assert.Equal(3, json.GetProperty("ablation").GetArrayLength());
        var claims = json.GetProperty("claims").EnumerateArray().ToList();
        Assert.Equal(9, claims.Count);
        // (f) judges Madry's claim on the PGD-trained conv, (h) the target on the fresh pool, (i) FGSM at 0.05 against weight decay.
        Assert.Contains("PGD-10 training at eps 0.3", claims.Single(claim => claim.GetProperty("id").GetString() == "f").GetProperty("ours").GetString());
        Assert.Contains("refreshed every batch", claims.Single(claim => claim.GetProperty("id").GetString() == "h").GetProperty("ours").GetString());
        Assert.Equal("no difference detected", claims.Single(claim => claim.GetProperty("id").GetString() == "i").GetProperty("verdict").GetString());
        Assert.NotEqual(JsonValueKind.Null, arms.Single(arm => arm.GetProperty("name").GetString() == ConvPgdArm).GetProperty("masking").ValueKind);
        Assert.False(claims[0].GetProperty("agrees").GetBoolean());
        Assert.Equal(JsonValueKind.Null, claims.Single(claim => claim.GetProperty("id").GetString() == "e").GetProperty("agrees").ValueKind);
        Assert.Equal(0.016, json.GetProperty("paper").GetProperty("szegedy").GetProperty("weightDecay").GetDouble(), 6);
    }

    [Fact]
    public void A_quick_section_says_it_is_a_smoke_run_and_which_arms_it_left_out()
    {
        var arms = ForRun(DefaultArms, quick: true, seed: 0);
        var outcomes = arms.Select(arm => Outcome(arm, Robust(700))).ToList();

        var section = Section(outcomes, quick: true, seed: 0, leftOut: ["pool-input", "pgd"]);

        section.Validate();
        Assert.Contains("**Quick run: a smoke run, not comparable with the papers.**", section.Prose);
        Assert.Contains("arms left out: pool-input, pgd.", section.Prose);
        Assert.Contains("**(a) Does not agree (smoke run).**", section.Prose);
        Assert.Contains("**(g) Not run.**", section.Prose);
        Assert.Equal(2, section.Tables.Count);
        var json = JsonSerializer.SerializeToElement(section.Data, JsonReportWriter.Options);
        Assert.True(json.GetProperty("quick").GetBoolean());
        Assert.StartsWith("quick: a smoke run", json.GetProperty("schedule").GetString());
    }

    private static ArmOutcome Outcome(Arm arm, Robustness trained)
    {
        var baseline = arm.Settings.Model == Conv ? Robust(81, pgd01: 697) : Robust(165);
        int epochs = arm.Settings.Epochs ?? 30;
        var history = Enumerable.Range(1, epochs).Select(epoch => new EpochRecord(epoch, 1.0 / epoch, 0.02 + 0.1 / epoch, 0.2 + 0.5 / epoch)).ToList();
        var result = new AdversarialTrainingResult(arm.Settings.Model, AdversarialTrainingSettings.Name(arm.Settings.Method), arm.Settings.DescribeMethod(),
            "recipe", epochs, 0, Reused: false, TrainingSeconds: 12.5, $"/models/{arm.Name}.safetensors", "/models/zoo.safetensors", trained, baseline, history, [], Masking: null);
        return new ArmOutcome(arm, result, 20);
    }
}
