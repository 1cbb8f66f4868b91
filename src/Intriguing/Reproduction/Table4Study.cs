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

    /// <inheritdoc/>
    public string Key => "table4";

    /// <inheritdoc/>
    public string Fingerprint => $"{string.Join(",", PaperTransfer.Table4Models)}|count={attackCount}|{attack.Describe()}|options={Table2Study.Describe(TransferOptions.Table4())}|verdicts=mcnemar-holm";

    /// <inheritdoc/>
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
                FormattableString.Invariant($"Table 4 at equal distortion: perturbations magnified to RMS {options.MagnifyRms}, and under each row Gaussian noise of RMS {options.MagnifyRms} on the same images."), matrix),
            new ReportFigure("table4-curves.png",
                "Table 4's error against RMS distortion: each source's perturbations scaled (solid) and Gaussian noise of the same RMS (dashed), per target model.",
                TransferFigures.Curves("Table 4: error vs RMS distortion", matrix.Curves)),
        };

        var claims = new[]
        {
            TransferVerdicts.ClaimOne(matrix),
            TransferVerdicts.ClaimThree(matrix, Source, SameHalf, OtherHalf, PaperTransfer.Table4(Source, SameHalf), PaperTransfer.Table4(Source, OtherHalf)),
            TransferVerdicts.ClaimFour(matrix, Source, [SameHalf, OtherHalf], target => PaperTransfer.Table4Magnified(Source, target)),
        };
        string?[] paragraphs =
        [
            "The paper's Table 4 asks whether adversarial examples transfer to a model trained on a *disjoint* half of the training set: the " +
            "Table 3 networks (FC100-100-10 and FC123-456-10 on P1, FC100-100-10' on P2) classify each other's examples, plain and magnified " +
            "(the paper: examples for FC100-100-10 fool FC123-456-10 26.2% and FC100-100-10' 5.9%; magnified to distortion 0.1, 98% and 43%; " +
            $"Gaussian noise of stddev 0.06 or 0.1 only {PaperTransfer.Table4NoiseRange}). " + TransferVerdicts.Rule,
            string.Join("\n", claims.Select(claim => $"- {claim.Sentence}")),
            TransferFindings.Curves(matrix.Curves),
            context.Quick ? "**Quick run**: fewer images and epochs, so the numbers are rougher." : null,
        ];
        string prose = string.Join("\n\n", paragraphs.OfType<string>());

        string[] statements = [TransferVerdicts.ClaimOneStatement, TransferVerdicts.ClaimThreeStatement, TransferVerdicts.ClaimFourStatement];
        return new ReportSection(Key, Title, prose)
        {
            Claims = [.. claims.Select((claim, index) => TransferVerdicts.ToReportClaim(claim, TransferVerdicts.ClaimText(statements[index], Where)))],
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
                claims,
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

    /// <inheritdoc/>
    public string Title => "Table 4: adversarial examples transfer across training sets";

    /// <inheritdoc/>
    public IReadOnlyList<ReportClaim> PlannedClaims =>
    [
        TransferVerdicts.Planned("1", TransferVerdicts.ClaimOneStatement, Where),
        TransferVerdicts.Planned("3", TransferVerdicts.ClaimThreeStatement, Where),
        TransferVerdicts.Planned("4", TransferVerdicts.ClaimFourStatement, Where),
    ];

    private const string Where = "Section 4.2, Table 4";

    private const string Source = "fc100-100-10@p1";
    private const string SameHalf = "fc123-456-10@p1";
    private const string OtherHalf = "fc100-100-10@p2";
}
