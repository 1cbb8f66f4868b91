using System.Globalization;
using Intriguing.Reporting;
using Intriguing.Statistics;

namespace Intriguing.Training.Adversarial;

/// <summary>What a claim's statistic says of it.</summary>
public enum Verdict
{
    /// <summary>The statistic shows what the claim says.</summary>
    Agrees,

    /// <summary>The statistic shows the opposite (or a target missed).</summary>
    DoesNotAgree,

    /// <summary>The statistic shows no difference at this sample size (not the same as "no difference").</summary>
    NoDifferenceDetected,

    /// <summary>The arms the claim needs did not run.</summary>
    NotRun,
}

/// <summary>One claim, the number it was made with, ours with its statistic, and the verdict.</summary>
public sealed record Claim(string Id, string Statement, string Paper, string Ours, Verdict Verdict)
{
    /// <summary>true, false, or null when the statistic does not decide or the arm did not run.</summary>
    public bool? Agrees => Verdict switch { Verdict.Agrees => true, Verdict.DoesNotAgree => false, _ => null };

    /// <summary>The verdict in words (<see cref="AdversarialVerdicts.Text"/>).</summary>
    public string VerdictText => AdversarialVerdicts.Text(Verdict);
}

/// <summary>
/// The claims of Section 4.3 and of the methods that followed it, judged on measured <see cref="Robustness"/>: two
/// models' error rates on the same images are compared with McNemar's exact test on the per-image outcomes
/// (<see cref="PairedComparison"/>, 5% level); a rate against a fixed number (a paper's, a target's) with its 95%
/// Wilson interval; two mean distortions over different successes with Welch's 95% interval of the difference.
/// Results made without per-image outcomes fall back to the intervals being apart, which the text says.
/// </summary>
public static class AdversarialVerdicts
{
    // ---- the papers' numbers (REFERENCE.md) ----

    /// <summary>Szegedy et al. Section 4.3, 100-100-10 net: test error with weight decay, dropout, and adversarial pools.</summary>
    public const double PaperWeightDecay = 0.016, PaperDropout = 0.013, PaperPools = 0.012;

    /// <summary>Goodfellow et al.: maxout net, clean error and FGSM (eps 0.25) error, before and after FGSM training.</summary>
    public const double GoodfellowCleanBefore = 0.0094, GoodfellowCleanAfter = 0.0084, GoodfellowFgsmBefore = 0.894, GoodfellowFgsmAfter = 0.179;

    /// <summary>Madry et al.: PGD-trained MNIST convnet at eps 0.3, accuracies.</summary>
    public const double MadryNatural = 0.988, MadryPgd40 = 0.932, MadryFgsm = 0.956;

    /// <summary>Our targets: pool-trained fc100-100-10 clean error at most 1.40%; conv PGD-40 accuracy at 0.1 at least 92% with clean at least 98.5%.</summary>
    public const double TargetPoolError = 0.014, TargetConvPgdAccuracy = 0.92, TargetConvCleanAccuracy = 0.985;

    /// <summary>"agrees", "does not agree", "no difference detected" or "not run".</summary>
    public static string Text(Verdict verdict) => verdict switch
    {
        Verdict.Agrees => "agrees",
        Verdict.DoesNotAgree => "does not agree",
        Verdict.NoDifferenceDetected => "no difference detected",
        _ => "not run",
    };

    /// <summary>How one rate stands against another or a number: shown lower, shown higher, or not shown either way.</summary>
    public enum Comparison
    {
        /// <summary>Shown lower at the 5% level.</summary>
        Lower,
        /// <summary>Shown higher at the 5% level.</summary>
        Higher,
        /// <summary>Not shown either way.</summary>
        Undecided,
    }

    /// <summary>A comparison of two rates and the sentence naming its statistic.</summary>
    public sealed record Compared(Comparison Comparison, string Statistic);

    /// <summary>
    /// <paramref name="ours"/> against <paramref name="reference"/> measured on the same images: McNemar's exact test when
    /// both per-image outcomes are given (same length), else whether the 95% Wilson intervals are apart.
    /// </summary>
    public static Compared Compare(Rate ours, string? oursOutcomes, Rate reference, string? referenceOutcomes)
    {
        if (oursOutcomes is not null && referenceOutcomes is not null && oursOutcomes.Length == referenceOutcomes.Length && oursOutcomes.Length > 0)
        {
            var paired = PairedComparison.Of(PairedComparison.Decode(oursOutcomes), PairedComparison.Decode(referenceOutcomes));
            var comparison = paired.FirstLower ? Comparison.Lower : paired.FirstHigher ? Comparison.Higher : Comparison.Undecided;
            return new Compared(comparison, paired.Describe("wrong only here", "wrong only in the other"));
        }
        var apart = ours.Upper < reference.Lower ? Comparison.Lower : ours.Lower > reference.Upper ? Comparison.Higher : Comparison.Undecided;
        return new Compared(apart, apart == Comparison.Undecided ? "the 95% Wilson intervals overlap (no per-image outcomes for a paired test)" : "the 95% Wilson intervals apart (no per-image outcomes for a paired test)");
    }

    /// <summary>Where a rate's 95% interval lies against a fixed number: wholly below, wholly above, or around it.</summary>
    public static Comparison Against(Rate ours, double value) =>
        ours.Upper < value ? Comparison.Lower : ours.Lower > value ? Comparison.Higher : Comparison.Undecided;

    /// <summary>Welch's 95% interval for the difference of two mean distortions (normal quantile; n is in the hundreds).</summary>
    public static (double Difference, double Lower, double Upper) DistortionDifference(Robustness ours, Robustness reference)
    {
        double difference = ours.LbfgsMeanDistortion - reference.LbfgsMeanDistortion;
        double variance = ours.LbfgsDistortionStdDev * ours.LbfgsDistortionStdDev / ours.LbfgsSuccesses
            + reference.LbfgsDistortionStdDev * reference.LbfgsDistortionStdDev / reference.LbfgsSuccesses;
        double half = 1.959963984540054 * Math.Sqrt(variance);
        return (difference, difference - half, difference + half);
    }

    private static Verdict FromComparison(Comparison comparison, Comparison agrees) =>
        comparison == agrees ? Verdict.Agrees : comparison == Comparison.Undecided ? Verdict.NoDifferenceDetected : Verdict.DoesNotAgree;

    /// <summary>The claim that training <paramref name="method"/> lowers the clean test error below the baseline's.</summary>
    public static Claim LowersCleanError(string id, string statement, string paper, string method, Robustness trained, Robustness baseline)
    {
        var compared = Compare(trained.TestError, trained.CleanWrong, baseline.TestError, baseline.CleanWrong);
        return new Claim(id, statement, paper,
            $"{method} {RateText(trained.TestError)} vs weight decay {RateText(baseline.TestError)}: {compared.Statistic}",
            FromComparison(compared.Comparison, Comparison.Lower));
    }

    /// <summary>Claim (c): the hidden-layer pools train a lower clean error than the input pool (the paper's "more useful").</summary>
    public static Claim HigherLayersMoreUseful(Robustness input, Robustness hidden)
    {
        var compared = Compare(hidden.TestError, hidden.CleanWrong, input.TestError, input.CleanWrong);
        return new Claim("c", "Pools for the higher layers are more useful than the input's (lower clean test error)",
            "Szegedy 4.3: higher layers more useful, no numbers given",
            $"clean test error: hidden-only pools {RateText(hidden.TestError)}, input-only pool {RateText(input.TestError)} ({compared.Statistic})" +
            $"; mean L-BFGS distortion {Distortion(hidden)} vs {Distortion(input)}; FGSM 0.1 error {RateText(Fgsm(hidden, 0.1))} vs {RateText(Fgsm(input, 0.1))}",
            FromComparison(compared.Comparison, Comparison.Lower));
    }

    /// <summary>Claim (d): FGSM training cuts the FGSM error at 0.25 and keeps the clean error (Goodfellow et al.).</summary>
    public static Claim FgsmTrainingHelps(Robustness trained, Robustness baseline)
    {
        var cut = Compare(Fgsm(trained, 0.25), FgsmOutcomes(trained, 0.25), Fgsm(baseline, 0.25), FgsmOutcomes(baseline, 0.25));
        var clean = Compare(trained.TestError, trained.CleanWrong, baseline.TestError, baseline.CleanWrong);
        var verdict = cut.Comparison == Comparison.Higher || clean.Comparison == Comparison.Higher ? Verdict.DoesNotAgree
            : cut.Comparison == Comparison.Lower ? Verdict.Agrees : Verdict.NoDifferenceDetected;
        return new Claim("d", "FGSM training cuts the FGSM error while keeping the clean error (not shown higher)",
            $"Goodfellow (maxout net): clean {Percent(GoodfellowCleanBefore)} to {Percent(GoodfellowCleanAfter)}, FGSM 0.25 error {Percent(GoodfellowFgsmBefore, 1)} to {Percent(GoodfellowFgsmAfter, 1)}",
            $"FGSM 0.25 error {RateText(Fgsm(baseline, 0.25))} to {RateText(Fgsm(trained, 0.25))} ({cut.Statistic}); clean {RateText(baseline.TestError)} to {RateText(trained.TestError)} ({clean.Statistic})",
            verdict);
    }

    /// <summary>Madry et al.'s MNIST model under the standard AutoAttack at eps 0.3 (Croce and Hein 2020, Table 2): robust accuracy.</summary>
    public const double MadryAutoAttack = 0.885;

    /// <summary>
    /// Claim (e): the adversarially trained conv meets our target at eps 0.1 (accuracy intervals against the thresholds).
    /// With the masking checks' AutoAttack run, the robust accuracy judged is the cascade's (the worst case), PGD-40's beside it.
    /// </summary>
    public static Claim ConvMeetsTarget(Robustness trained, MaskingCheck? masking = null)
    {
        var pgdAccuracy = Accuracy(Pgd(trained, 0.1));
        var cascadeAccuracy = CascadeAccuracy(masking, 0.1);
        var robustAccuracy = cascadeAccuracy ?? pgdAccuracy;
        var cleanAccuracy = Accuracy(trained.TestError);
        var robust = Against(robustAccuracy, TargetConvPgdAccuracy);
        var clean = Against(cleanAccuracy, TargetConvCleanAccuracy);
        var verdict = robust == Comparison.Lower || clean == Comparison.Lower ? Verdict.DoesNotAgree
            : robust == Comparison.Higher && clean == Comparison.Higher ? Verdict.Agrees : Verdict.NoDifferenceDetected;
        bool pointMeets = robustAccuracy.Value >= TargetConvPgdAccuracy && cleanAccuracy.Value >= TargetConvCleanAccuracy;
        string judged = cascadeAccuracy is null ? "PGD-40" : $"AutoAttack ({masking!.CascadeVersion})";
        return new Claim("e", "conv trained adversarially: robust accuracy at eps 0.1 of at least 92% (AutoAttack where it ran, else PGD-40) with clean accuracy of at least 98.5%",
            "our target; Madry et al. reach 93.2% at eps 0.3",
            (cascadeAccuracy is null ? "" : $"AutoAttack ({masking!.CascadeVersion}) accuracy at 0.1 {RateText(cascadeAccuracy)}, ") +
            $"PGD-40 accuracy at 0.1 {RateText(pgdAccuracy)}, clean accuracy {RateText(cleanAccuracy)} ({judged} and clean accuracy judged, 95% Wilson intervals against the thresholds)" +
            (verdict == Verdict.NoDifferenceDetected ? $"; the point estimates {(pointMeets ? "meet" : "miss")} the target, an interval reaches across it" : ""),
            verdict);
    }

    /// <summary>
    /// Claim (f): at Madry's eps 0.3, our conv against their 93.2% PGD-40 accuracy and, where the cascade ran, against
    /// their model's 88.5% under AutoAttack: agrees when every interval lies above its number, does not when one lies below.
    /// </summary>
    public static Claim ConvAgainstMadry(Robustness trained, string training, MaskingCheck? masking = null)
    {
        var accuracy = Accuracy(Pgd(trained, 0.3));
        var comparison = Against(accuracy, MadryPgd40);
        var cascadeAccuracy = CascadeAccuracy(masking, 0.3);
        var cascade = cascadeAccuracy is null ? (Comparison?)null : Against(cascadeAccuracy, MadryAutoAttack);
        var verdict = comparison == Comparison.Lower || cascade == Comparison.Lower ? Verdict.DoesNotAgree
            : comparison == Comparison.Higher && cascade is null or Comparison.Higher ? Verdict.Agrees : Verdict.NoDifferenceDetected;
        return new Claim("f", "An adversarially trained MNIST convnet stays as accurate as Madry's under PGD-40 (and AutoAttack) at eps 0.3",
            $"Madry: natural accuracy {Percent(MadryNatural, 1)}, PGD-40 {Percent(MadryPgd40, 1)}, FGSM {Percent(MadryFgsm, 1)}, a wider net trained with PGD-40 at 0.3; " +
            $"AutoAttack on their model {Percent(MadryAutoAttack, 1)}",
            $"conv ({training}): PGD-40 accuracy at 0.3 {RateText(accuracy)} (95% Wilson interval against {Percent(MadryPgd40, 1)})" +
            (cascadeAccuracy is null ? "" : $", AutoAttack ({masking!.CascadeVersion}) accuracy {RateText(cascadeAccuracy)} (against {Percent(MadryAutoAttack, 1)})") +
            $", FGSM 0.25 accuracy {RateText(Accuracy(Fgsm(trained, 0.25)))}, clean {RateText(Accuracy(trained.TestError))}",
            verdict);
    }

    /// <summary>1 - the cascade's error at <paramref name="epsilon"/> in the masking checks, when they ran it.</summary>
    private static Rate? CascadeAccuracy(MaskingCheck? masking, double epsilon) =>
        masking is not null && masking.AutoAttackError.TryGetValue(RobustnessEvaluation.Key(epsilon), out var error) ? Accuracy(error) : null;

    /// <summary>Claim (g): PGD training cuts the PGD-40 error at its own eps (Madry et al.'s premise), on fc100-100-10.</summary>
    public static Claim PgdTrainingHelps(Robustness trained, Robustness baseline, double epsilon)
    {
        var compared = Compare(Pgd(trained, epsilon), PgdOutcomes(trained, epsilon), Pgd(baseline, epsilon), PgdOutcomes(baseline, epsilon));
        string eps = RobustnessEvaluation.Key(epsilon);
        return new Claim("g", $"PGD training makes fc100-100-10 more robust to PGD-40 at its training eps ({eps})",
            $"Madry (convnet at 0.3): PGD-40 accuracy {Percent(MadryPgd40, 1)}; a naturally trained model about 0%",
            $"PGD-40 error at {eps}: {RateText(Pgd(baseline, epsilon))} (weight decay), {RateText(Pgd(trained, epsilon))} (PGD-trained) ({compared.Statistic}); clean {RateText(baseline.TestError)}, {RateText(trained.TestError)}",
            FromComparison(compared.Comparison, Comparison.Lower));
    }

    /// <summary>Claim (h): our pool target: clean error at most 1.40% and mean L-BFGS distortion above the baseline's.</summary>
    public static Claim PoolMeetsTarget(Robustness pool, Robustness baseline, string label = "pools")
    {
        var error = Against(pool.TestError, TargetPoolError);
        var (difference, lower, upper) = DistortionDifference(pool, baseline);
        var distortion = double.IsNaN(lower) ? (difference > 0 ? Comparison.Higher : Comparison.Lower)
            : lower > 0 ? Comparison.Higher : upper < 0 ? Comparison.Lower : Comparison.Undecided;
        var verdict = error == Comparison.Higher || distortion == Comparison.Lower ? Verdict.DoesNotAgree
            : error == Comparison.Lower && distortion == Comparison.Higher ? Verdict.Agrees : Verdict.NoDifferenceDetected;
        string interval = double.IsNaN(lower)
            ? "point estimates only, no spread known"
            : FormattableString.Invariant($"difference {difference:+0.0000;-0.0000} [{lower:0.0000}, {upper:0.0000}], Welch 95%");
        return new Claim("h", "Pool training: clean test error at most 1.40% and a mean L-BFGS minimal distortion above the baseline's",
            $"our target; the paper: below {Percent(PaperPools, 1)}",
            $"{label}: clean {RateText(pool.TestError)} (95% Wilson interval against 1.40%); mean L-BFGS distortion {Distortion(pool)} ({pool.LbfgsSuccesses} successes) vs weight decay {Distortion(baseline)} ({baseline.LbfgsSuccesses}): {interval}" +
            (verdict == Verdict.NoDifferenceDetected && error == Comparison.Undecided
                ? $"; the clean error's point estimate {(pool.TestError.Value <= TargetPoolError ? "meets" : "misses")} the target, its interval reaches across it"
                : ""),
            verdict);
    }

    /// <summary>Claims that test our own targets rather than a paper's claim ((e) and (h)); the report's claims at a glance leaves them out.</summary>
    public static readonly IReadOnlySet<string> OwnTargets = new HashSet<string>(StringComparer.Ordinal) { "e", "h" };

    /// <summary>
    /// <paramref name="claim"/> as a line of the report's claims table: agrees holds, does not agree does not hold, no
    /// difference detected is inconclusive, not run stays not run. The claim names the paper and its number; the evidence
    /// is ours with its statistic.
    /// </summary>
    public static ReportClaim ToReportClaim(Claim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var verdict = claim.Verdict switch
        {
            Verdict.Agrees => ReportVerdict.Holds,
            Verdict.DoesNotAgree => ReportVerdict.DoesNotHold,
            Verdict.NoDifferenceDetected => ReportVerdict.Inconclusive,
            _ => ReportVerdict.NotRun,
        };
        return new ReportClaim(claim.Id, $"{claim.Statement} ({claim.Paper})", verdict, claim.Ours);
    }

    /// <summary>A claim whose arms did not run.</summary>
    public static Claim NotRun(string id, string statement, string paper, string arms) =>
        new(id, statement, paper, $"not run in this mode (needs {arms})", Verdict.NotRun);

    /// <summary>The FGSM error measured at <paramref name="epsilon"/>; NaN with count 0 when it was not measured.</summary>
    public static Rate Fgsm(Robustness robustness, double epsilon) => Lookup(robustness.FgsmErrorByEps, epsilon);

    /// <summary>The PGD error measured at <paramref name="epsilon"/>; NaN with count 0 when it was not measured.</summary>
    public static Rate Pgd(Robustness robustness, double epsilon) => Lookup(robustness.PgdErrorByEps, epsilon);

    private static string? FgsmOutcomes(Robustness robustness, double epsilon) =>
        robustness.FgsmFooled is { } fooled && fooled.TryGetValue(RobustnessEvaluation.Key(epsilon), out var outcomes) ? outcomes : null;

    private static string? PgdOutcomes(Robustness robustness, double epsilon) =>
        robustness.PgdFooled is { } fooled && fooled.TryGetValue(RobustnessEvaluation.Key(epsilon), out var outcomes) ? outcomes : null;

    private static Rate Lookup(IReadOnlyDictionary<string, Rate> rates, double epsilon) =>
        rates.TryGetValue(RobustnessEvaluation.Key(epsilon), out var rate) ? rate : new Rate(double.NaN, 0, double.NaN, double.NaN);

    /// <summary>1 - error, the interval turned around.</summary>
    public static Rate Accuracy(Rate error) => new(1 - error.Value, error.Count, 1 - error.Upper, 1 - error.Lower);

    /// <summary>"1.23% [1.01%, 1.50%]": the rate with its 95% interval; "n/a" when nothing was counted.</summary>
    public static string RateText(Rate rate) => rate.Count == 0
        ? ReportFormat.NotAvailable
        : $"{Percent(rate.Value)} [{Percent(rate.Lower)}, {Percent(rate.Upper)}]";

    /// <summary>L-BFGS's mean distortion, four decimals.</summary>
    public static string Distortion(Robustness robustness) => ReportFormat.Number(robustness.LbfgsMeanDistortion, 4);

    /// <summary><paramref name="fraction"/> as a percentage with <paramref name="decimals"/> decimals (default 2).</summary>
    public static string Percent(double fraction, int decimals = 2) => ReportFormat.Percent(fraction, decimals);

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
