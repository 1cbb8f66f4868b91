using System.Text.Json.Serialization;

namespace Intriguing.Transfer;

/// <summary>What a transfer measurement varies besides the examples: magnification, noise levels, the curve, the seed.</summary>
/// <param name="MagnifyRms">The RMS each example's perturbation is scaled to (Table 4's "distorted by a factor"; 0.1 by default).</param>
/// <param name="NoiseStddevs">The paper's noise rows: clip(x + stddev n) on every image (Table 2: 0.1 and 0.3; Table 4: 0.06 and 0.1).</param>
/// <param name="CurveRms">The RMS levels of the error-against-distortion curves (empty: no curves).</param>
/// <param name="Seed">Seeds the Gaussian noise (one N(0,1) direction per image, shared by every noise row and curve).</param>
public sealed record TransferOptions(double MagnifyRms, IReadOnlyList<double> NoiseStddevs, IReadOnlyList<double> CurveRms, int Seed)
{
    /// <summary>The RMS levels of the error-against-distortion curves: 0.02 to 0.2 in steps of 0.02.</summary>
    public static readonly IReadOnlyList<double> DefaultCurve = [0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2];

    /// <summary>Table 2's options: noise rows of stddev 0.1 and 0.3, magnified to <paramref name="magnifyRms"/> (default 0.1), the default curve.</summary>
    public static TransferOptions Table2(int seed = 0, double magnifyRms = 0.1) => new(magnifyRms, [0.1, 0.3], DefaultCurve, seed);

    /// <summary>Table 4's options: noise rows of stddev 0.06 and 0.1, magnified to <paramref name="magnifyRms"/> (default 0.1), the default curve.</summary>
    public static TransferOptions Table4(int seed = 0, double magnifyRms = 0.1) => new(magnifyRms, [0.06, 0.1], DefaultCurve, seed);

    /// <exception cref="BadInputException">A size that is not a finite positive number, or no curve level.</exception>
    public void Validate()
    {
        if (!double.IsFinite(MagnifyRms) || MagnifyRms <= 0)
        {
            throw new BadInputException($"--magnify must be a finite RMS distortion > 0; got {MagnifyRms}");
        }
        foreach (double stddev in NoiseStddevs)
        {
            if (!double.IsFinite(stddev) || stddev < 0)
            {
                throw new BadInputException($"noise stddev must be a finite number >= 0; got {stddev}");
            }
        }
        if (CurveRms.Any(level => !double.IsFinite(level) || level <= 0))
        {
            throw new BadInputException("every RMS level of the curve must be a finite number > 0 (an empty list draws no curve)");
        }
    }
}

/// <summary>
/// One row of a transfer matrix: examples made for <see cref="Source"/>, the rate at which each target misclassifies
/// them (<see cref="Errors"/>, with 95% Wilson <see cref="Intervals"/>, of <see cref="Counts"/> examples, <see cref="Fooled"/>
/// of them), and each target's error on the clean versions of the same images (<see cref="CleanErrors"/>: how much of a
/// cell is the target's own error). <see cref="Distortion"/> is the mean RMS of the examples; <see cref="MatchedNoise"/>
/// is Gaussian noise scaled to that same mean RMS on the same images. <see cref="AttackSeconds"/>: the source's attack run.
/// <see cref="PValues"/>: per target, McNemar's exact two-sided p of the examples against <see cref="MatchedNoise"/> on the
/// same images, from <see cref="Discordant"/> = [images only the examples fooled, images only the noise fooled]
/// (uncorrected; a claim corrects over the cells it rests on, <see cref="TransferVerdicts"/>). <see cref="Indices"/>: the
/// images of the examples (indices into the attacked images); <see cref="Outcomes"/>: per target, which of them it
/// misclassified, in that order (kept for paired tests, not written to JSON).
/// </summary>
public sealed record TransferRow(
    string Source,
    double Distortion,
    double MeanL2,
    int Examples,
    int Attempted,
    double SourceSuccessRate,
    string Attack,
    bool Targeted,
    IReadOnlyDictionary<string, double> Errors,
    IReadOnlyDictionary<string, double[]> Intervals,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyDictionary<string, int> Fooled,
    IReadOnlyDictionary<string, double> CleanErrors,
    IReadOnlyDictionary<string, double[]> CleanIntervals,
    NoiseRow MatchedNoise,
    double AttackSeconds,
    IReadOnlyDictionary<string, double> PValues,
    IReadOnlyDictionary<string, int[]> Discordant,
    [property: JsonIgnore] IReadOnlyList<long> Indices,
    [property: JsonIgnore] IReadOnlyDictionary<string, bool[]> Outcomes);

/// <summary>
/// A row's examples with each perturbation scaled to <see cref="RequestedRms"/> and clipped to the box:
/// <see cref="Distortion"/> is the mean RMS actually reached, <see cref="ClippedFraction"/> the share of values the box
/// clipped, <see cref="Unreachable"/> the examples that could not reach the request. <see cref="Noise"/> is Gaussian noise
/// of the same RMS on the same images: the comparison at equal distortion. <see cref="PValues"/> and <see cref="Discordant"/>:
/// McNemar's exact test of each cell against <see cref="Noise"/> on the same images ([only the examples fooled, only the
/// noise fooled]); <see cref="StddevPValues"/> and <see cref="StddevDiscordant"/> the same against the paper's noise row
/// of stddev <see cref="PaperNoiseStddev"/> (equal to the requested RMS) on the same images, empty when the measurement
/// has no such row. <see cref="Indices"/> and <see cref="Outcomes"/> as in <see cref="TransferRow"/>.
/// </summary>
public sealed record MagnifiedRow(
    string Source,
    double RequestedRms,
    double Distortion,
    double ClippedFraction,
    int Unreachable,
    int Examples,
    IReadOnlyDictionary<string, double> Errors,
    IReadOnlyDictionary<string, double[]> Intervals,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyDictionary<string, int> Fooled,
    NoiseRow Noise,
    IReadOnlyDictionary<string, double> PValues,
    IReadOnlyDictionary<string, int[]> Discordant,
    double? PaperNoiseStddev,
    IReadOnlyDictionary<string, double> StddevPValues,
    IReadOnlyDictionary<string, int[]> StddevDiscordant,
    [property: JsonIgnore] IReadOnlyList<long> Indices,
    [property: JsonIgnore] IReadOnlyDictionary<string, bool[]> Outcomes);

/// <summary>
/// Gaussian noise measured on every target. <see cref="Kind"/>: "stddev" = the paper's rows, clip(x + stddev n) on all
/// images (<see cref="Rms"/> is what that reached after clipping); "rms" = noise scaled so that, after clipping, its RMS
/// is <see cref="Stddev"/> (equal distortion); "matched" = scaled to a source row's mean distortion, on that row's images.
/// <see cref="Outcomes"/>: per target, which images it misclassified, in the order of the images measured (all images
/// for a matrix-wide row, a source row's images for its own), kept for paired tests and not written to JSON.
/// </summary>
public sealed record NoiseRow(
    string Kind,
    double Stddev,
    double Rms,
    string? Source,
    int Examples,
    IReadOnlyDictionary<string, double> Errors,
    IReadOnlyDictionary<string, double[]> Intervals,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyDictionary<string, int> Fooled,
    [property: JsonIgnore] IReadOnlyDictionary<string, bool[]> Outcomes)
{
    /// <summary>The row's rates and outcomes as cells, to pair with an adversarial row.</summary>
    [JsonIgnore]
    public TransferCells Cells => new(Errors, Intervals, Counts, Fooled) { Outcomes = Outcomes };
}

/// <summary>
/// Error against RMS distortion for one source's examples: at each requested level, the perturbations scaled to it
/// (<see cref="AdversarialRms"/> reached) and Gaussian noise of the same RMS on the same images (<see cref="NoiseRms"/>),
/// each target's error on both.
/// </summary>
public sealed record TransferCurve(
    string Source,
    int Examples,
    double[] Rms,
    double[] AdversarialRms,
    double[] NoiseRms,
    IReadOnlyDictionary<string, double[]> Adversarial,
    IReadOnlyDictionary<string, double[]> Noise);

/// <summary>
/// The paper's claim at equal distortion, cell by cell: off the diagonal (source and target differ), how many magnified
/// cells fool the target significantly more than noise of the same RMS on the same images (<see cref="AboveRmsNoise"/>)
/// and than the paper's noise row of that stddev on the same images (<see cref="AboveStddevNoise"/>, of
/// <see cref="StddevCells"/> cells; 0 of 0 when the measurement has no such row), and how many significantly less
/// (<see cref="BelowRmsNoise"/>, <see cref="BelowStddevNoise"/>). Significant: McNemar's exact test, Holm-adjusted p
/// below <see cref="Alpha"/> over the <see cref="Tests"/> comparisons of claim (1) (<see cref="TransferVerdicts.ClaimOne(TransferMatrix)"/>),
/// which <see cref="Test"/> names. <see cref="WorstMargin"/> is the smallest difference of rates (magnified minus noise)
/// over the cells, against the larger of the two noise rates, at <see cref="WorstCell"/>: a point estimate.
/// </summary>
public sealed record EqualDistortion(
    double Rms,
    int Cells,
    int AboveRmsNoise,
    int AboveStddevNoise,
    double WorstMargin,
    string? WorstCell,
    int BelowRmsNoise,
    int BelowStddevNoise,
    int StddevCells,
    int Tests,
    double Alpha,
    string Test)
{
    /// <summary>Every off-diagonal cell is significantly above both kinds of noise.</summary>
    public bool Holds => Cells > 0 && AboveRmsNoise == Cells && AboveStddevNoise == StddevCells;
}

/// <summary>A whole transfer matrix: rows (sources) by columns (targets), magnified rows, noise rows and curves.</summary>
public sealed record TransferMatrix(
    int Count,
    IReadOnlyList<string> Sources,
    IReadOnlyList<string> Targets,
    IReadOnlyList<TransferRow> Rows,
    IReadOnlyList<MagnifiedRow> Magnified,
    IReadOnlyList<NoiseRow> Noise,
    IReadOnlyList<TransferCurve> Curves,
    IReadOnlyDictionary<string, double> CleanErrors,
    EqualDistortion EqualDistortion,
    double Seconds);
