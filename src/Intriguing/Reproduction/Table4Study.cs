using Intriguing.Attacks;
using Intriguing.Reporting;
using Intriguing.Transfer;

namespace Intriguing.Reproduction;

/// <summary>
/// Table 4: transfer across training sets. The Table 3 networks (FC100-100-10 and FC123-456-10 on P1, FC100-100-10'
/// on P2) classify each other's L-BFGS examples: plain, magnified to RMS 0.1, and Gaussian noise of stddev 0.06 and 0.1;
/// the examples are Table 3's shared runs.
/// </summary>
public sealed class Table4Study(int attackCount, BoxConstrainedLbfgs? lbfgs = null) : IStudy
{
    private readonly BoxConstrainedLbfgs attack = lbfgs ?? new BoxConstrainedLbfgs();

    public string Key => "table4";

    public string Fingerprint => $"{string.Join(",", PaperTransfer.Table4Models)}|count={attackCount}|{attack.Describe()}|options={Table2Study.Describe(TransferOptions.Table4())}";

    public ReportSection Run(StudyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = TransferOptions.Table4(context.Seed);
        var matrix = TransferStudy.Measure(context, PaperTransfer.Table4Models, ["lbfgs"], attackCount, attack, options)[0].Result;
        int images = matrix.Count;

        var tables = new List<ReportTable>
        {
            TransferStudy.MatrixTable(
                $"Table 4: error of each column model on the L-BFGS examples (towards a random wrong class) made for each row model, first {images} test images, " +
                $"95% Wilson intervals, the paper's value in brackets (its noise rows give only {PaperTransfer.Table4NoiseRange} over the models).",
                matrix, PaperTransfer.Table4, null, null),
            TransferStudy.CleanTable("Each column model's own error on the clean images under each row's examples.", matrix),
            TransferStudy.MatchedNoiseTable("Gaussian noise scaled to each row's own mean distortion, on the same images.", matrix),
            TransferStudy.MagnifiedTable(
                $"Table 4, magnified: each row's perturbations scaled to RMS {TransferStudy.Number(options.MagnifyRms, 2)} and clipped to [0,1] " +
                "(the paper's \"distorted by a factor\"; its values in brackets), and under each row Gaussian noise of the same RMS on the same images.",
                matrix, PaperTransfer.Table4Magnified),
        };
        var figures = new List<ReportFigure>
        {
            TransferStudy.PlainHeatMap("table4-plain.png", "Table 4: error of the column model on examples for the row model",
                $"Table 4 as a heat map: L-BFGS examples for models trained on P1 or P2, error of each column model, first {images} test images; noise rows under them.", matrix),
            TransferStudy.MagnifiedHeatMap("table4-magnified.png", FormattableString.Invariant($"Table 4, magnified to RMS {options.MagnifyRms}, with noise of the same RMS"),
                "Table 4 at equal distortion: perturbations magnified to RMS 0.1, and under each row Gaussian noise of RMS 0.1 on the same images.", matrix),
            new ReportFigure("table4-curves.png",
                "Table 4's error against RMS distortion: each source's perturbations scaled (solid) and Gaussian noise of the same RMS (dashed), per target model.",
                TransferFigures.Curves("Table 4: error vs RMS distortion", matrix.Curves)),
        };

        string prose =
            "The paper's Table 4 asks whether adversarial examples transfer to a model trained on a *disjoint* half of the training set: the " +
            "Table 3 networks (FC100-100-10 and FC123-456-10 on P1, FC100-100-10' on P2) classify each other's examples, plain and magnified " +
            "(the paper: examples for FC100-100-10 fool FC123-456-10 26.2% and FC100-100-10' 5.9%; magnified to distortion 0.1, 98% and 43%; " +
            $"Gaussian noise of stddev 0.06 or 0.1 only {PaperTransfer.Table4NoiseRange}).\n\n" +
            $"- {TransferStudy.ClaimOne(matrix)}\n" +
            $"- {ClaimThree(matrix)}\n" +
            $"- {ClaimFour(matrix)}" +
            (context.Quick ? "\n\n**Quick run**: fewer images and epochs, so the numbers are rougher." : "");

        return new ReportSection(Key, "Table 4: adversarial examples transfer across training sets", prose)
        {
            Tables = tables,
            Figures = figures,
            Data = new
            {
                count = images,
                models = matrix.Targets,
                rows = matrix.Rows,
                magnified = matrix.Magnified,
                noise = matrix.Noise,
                curves = matrix.Curves,
                cleanErrors = matrix.CleanErrors,
                equalDistortion = matrix.EqualDistortion,
                paper = new
                {
                    plain = PaperTransfer.Table4Models.ToDictionary(target => target, target => PaperTransfer.Table4(PaperTransfer.Table4Models[0], target)),
                    magnified = PaperTransfer.Table4Models.ToDictionary(target => target, target => PaperTransfer.Table4Magnified(PaperTransfer.Table4Models[0], target)),
                    noise = new[] { PaperTransfer.Table4NoiseLow, PaperTransfer.Table4NoiseHigh },
                },
                seconds = matrix.Seconds,
            },
        };
    }

    private const string Source = "fc100-100-10@p1";
    private const string SameHalf = "fc123-456-10@p1";
    private const string OtherHalf = "fc100-100-10@p2";

    /// <summary>Claim (3): examples transfer to a model trained on the other half, less than to one trained on the same half.</summary>
    private static string ClaimThree(TransferMatrix matrix)
    {
        var row = matrix.Rows.First(candidate => candidate.Source == Source);
        double same = row.Errors[SameHalf], other = row.Errors[OtherHalf], noise = row.MatchedNoise.Errors[OtherHalf];
        bool transfers = other > noise && row.Intervals[OtherHalf][0] > row.MatchedNoise.Intervals[OtherHalf][1];
        bool less = same > other;
        return $"**(3) {(transfers && less ? "Agrees" : transfers || less ? "Partly agrees" : "Disagrees")}.** Examples for FC100-100-10 (P1) fool FC100-100-10' trained on the other half " +
            $"{TransferStudy.Rate(other, row.Intervals[OtherHalf])} (noise of the same RMS on the same images: {TransferStudy.Percent(noise)}; paper 5.9%) and FC123-456-10 on the same half " +
            $"{TransferStudy.Rate(same, row.Intervals[SameHalf])} (paper 26.2%), from {row.Examples} examples of mean distortion {TransferStudy.Number(row.Distortion)}: " +
            $"{(transfers ? "they transfer across the halves clearly above noise" : "not clearly above noise across the halves")}, " +
            $"{(less ? "and less than within the same half" : "but not less than within the same half")}.";
    }

    /// <summary>Claim (4): magnified examples fool most of both other models.</summary>
    private static string ClaimFour(TransferMatrix matrix)
    {
        var row = matrix.Magnified.First(candidate => candidate.Source == Source);
        double same = row.Errors[SameHalf], other = row.Errors[OtherHalf];
        bool holds = same > 0.5 && other > 0.5;
        return $"**(4) {(holds ? "Agrees" : same > 0.5 || other > 0.5 ? "Partly agrees" : "Disagrees")}.** Magnified to RMS {TransferStudy.Number(row.RequestedRms, 2)} (reached {TransferStudy.Number(row.Distortion)}, " +
            $"{ReportFormat.Percent(row.ClippedFraction, 1)} of values clipped), the examples for FC100-100-10 (P1) fool FC123-456-10 {TransferStudy.Rate(same, row.Intervals[SameHalf])} (paper 98%) " +
            $"and FC100-100-10' {TransferStudy.Rate(other, row.Intervals[OtherHalf])} (paper 43%); Gaussian noise of the same RMS on the same images: " +
            $"{TransferStudy.Percent(row.Noise.Errors[SameHalf])} and {TransferStudy.Percent(row.Noise.Errors[OtherHalf])}.";
    }
}
