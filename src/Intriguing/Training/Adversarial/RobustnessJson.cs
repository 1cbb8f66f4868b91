using Intriguing.Statistics;

namespace Intriguing.Training.Adversarial;

/// <summary>
/// A <see cref="Robustness"/> as <c>adv-train --json</c> and report.json give it (docs/json-output.md): error rates are
/// fractions, eps keys plain decimals, intervals the 95% Wilson ones; <see cref="FgsmError"/> is at eps 0.25 and
/// <see cref="PgdError"/> at 0.3.
/// </summary>
public sealed record RobustJson(
    double FgsmError,
    double PgdError,
    double? LbfgsMeanDistortion,
    IReadOnlyDictionary<string, double> FgsmErrorByEps,
    IReadOnlyDictionary<string, double> PgdErrorByEps,
    double TestError,
    IReadOnlyList<double> TestErrorInterval,
    IReadOnlyDictionary<string, IReadOnlyList<double>> FgsmErrorInterval,
    IReadOnlyDictionary<string, IReadOnlyList<double>> PgdErrorInterval,
    int AttackedImages,
    int LbfgsAttempted,
    int LbfgsSuccesses,
    double? LbfgsMedianDistortion,
    double Seconds)
{
    /// <summary>The JSON of <paramref name="robustness"/>; a distortion that is not finite (no success) becomes null.</summary>
    public static RobustJson From(Robustness robustness) => new(
        Value(robustness.FgsmErrorByEps, 0.25),
        Value(robustness.PgdErrorByEps, 0.3),
        Finite(robustness.LbfgsMeanDistortion),
        Values(robustness.FgsmErrorByEps),
        Values(robustness.PgdErrorByEps),
        robustness.TestError.Value,
        [robustness.TestError.Lower, robustness.TestError.Upper],
        Intervals(robustness.FgsmErrorByEps),
        Intervals(robustness.PgdErrorByEps),
        robustness.FgsmErrorByEps.Values.FirstOrDefault()?.Count ?? 0,
        robustness.LbfgsAttempted,
        robustness.LbfgsSuccesses,
        Finite(robustness.LbfgsMedianDistortion),
        Math.Round(robustness.Seconds, 1));

    internal static IReadOnlyDictionary<string, double> Values(IReadOnlyDictionary<string, Rate> rates) =>
        rates.ToDictionary(entry => entry.Key, entry => entry.Value.Value);

    internal static IReadOnlyDictionary<string, IReadOnlyList<double>> Intervals(IReadOnlyDictionary<string, Rate> rates) =>
        rates.ToDictionary(entry => entry.Key, entry => (IReadOnlyList<double>)[entry.Value.Lower, entry.Value.Upper]);

    private static double Value(IReadOnlyDictionary<string, Rate> rates, double epsilon) =>
        rates.TryGetValue(RobustnessEvaluation.Key(epsilon), out var rate) ? rate.Value : double.NaN;

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>
/// A <see cref="MaskingCheck"/> as <c>adv-train --json</c> and report.json give it (docs/json-output.md): the rates, each
/// check's paired comparison with plain PGD-40 (difference, interval, discordant counts, exact McNemar p), the signs
/// found and the checks that could not decide; <see cref="Suspect"/> is true when there is a sign.
/// </summary>
public sealed record MaskingJson(
    int Count,
    int Restarts,
    IReadOnlyDictionary<string, double> PgdError,
    IReadOnlyDictionary<string, double> RestartsError,
    IReadOnlyDictionary<string, double> TransferError,
    IReadOnlyDictionary<string, IReadOnlyList<double>> RestartsErrorInterval,
    IReadOnlyDictionary<string, IReadOnlyList<double>> TransferErrorInterval,
    double Margin,
    bool Suspect,
    double Seconds,
    IReadOnlyDictionary<string, double> FgsmError,
    IReadOnlyDictionary<string, PairedComparison> RestartsExcess,
    IReadOnlyDictionary<string, PairedComparison> TransferExcess,
    IReadOnlyDictionary<string, PairedComparison> FgsmExcess,
    IReadOnlyList<string> Signs,
    IReadOnlyList<string> Undecided)
{
    /// <summary>Per eps, the error under the AutoAttack cascade on the same images.</summary>
    public IReadOnlyDictionary<string, double> AutoAttackError { get; init; } = new Dictionary<string, double>();

    /// <summary>Per eps, the 95% interval [lo, hi] of <see cref="AutoAttackError"/>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> AutoAttackErrorInterval { get; init; } = new Dictionary<string, IReadOnlyList<double>>();

    /// <summary>Per eps, the cascade minus plain PGD-40, paired.</summary>
    public IReadOnlyDictionary<string, PairedComparison> AutoAttackExcess { get; init; } = new Dictionary<string, PairedComparison>();

    /// <summary>Per eps, the images each stage broke.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> AutoAttackBrokeBy { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, int>>();

    /// <summary>The cascade's version ("standard" or "fast"), or null when it did not run.</summary>
    public string? CascadeVersion { get; init; }

    /// <summary>The cascade's sanity checks' warnings.</summary>
    public IReadOnlyList<string> AutoAttackWarnings { get; init; } = [];

    /// <summary>The JSON of <paramref name="check"/>.</summary>
    public static MaskingJson From(MaskingCheck check) => new(
        check.Count,
        check.Restarts,
        RobustJson.Values(check.PgdError),
        RobustJson.Values(check.RestartsError),
        RobustJson.Values(check.TransferError),
        RobustJson.Intervals(check.RestartsError),
        RobustJson.Intervals(check.TransferError),
        RobustnessEvaluation.MaskingMargin,
        check.Suspect,
        Math.Round(check.Seconds, 1),
        RobustJson.Values(check.FgsmError),
        check.RestartsExcess,
        check.TransferExcess,
        check.FgsmExcess,
        check.Signs,
        check.Undecided)
    {
        AutoAttackError = RobustJson.Values(check.AutoAttackError),
        AutoAttackErrorInterval = RobustJson.Intervals(check.AutoAttackError),
        AutoAttackExcess = check.AutoAttackExcess,
        AutoAttackBrokeBy = check.AutoAttackBrokeBy,
        CascadeVersion = check.CascadeVersion,
        AutoAttackWarnings = check.AutoAttackWarnings,
    };
}
