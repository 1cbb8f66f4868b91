using Intriguing.Attacks;
using Intriguing.Reporting;
using Intriguing.Transfer;

namespace Intriguing.Reproduction;

/// <summary>
/// Table 2: the error of each of the paper's six models on the adversarial examples made for each of them, beside the
/// paper's numbers, with Gaussian noise of the paper's stddevs, noise of each row's own size, the rows magnified to one
/// RMS, the error-against-distortion curves, and the same matrix for untargeted L-BFGS and for FGSM and PGD sized to
/// the L-BFGS rows' mean L2. The examples are Table 1's L-BFGS runs (same attack value and count: one shared run).
/// </summary>
public sealed class Table2Study(int attackCount, BoxConstrainedLbfgs? lbfgs = null) : IStudy
{
    private readonly BoxConstrainedLbfgs attack = lbfgs ?? new BoxConstrainedLbfgs();

    /// <inheritdoc/>
    public string Key => "table2";

    /// <inheritdoc/>
    public string Fingerprint => $"{string.Join(",", PaperTransfer.Table2Models)}|count={attackCount}|methods={string.Join(",", TransferAttacks.Methods)}|" +
        $"{attack.Describe()}|{new PgdL2().Describe()}|options={Describe(TransferOptions.Table2())}|verdicts=mcnemar-holm";

    internal static string Describe(TransferOptions options) =>
        FormattableString.Invariant($"magnify={options.MagnifyRms};noise={string.Join(",", options.NoiseStddevs)};curve={string.Join(",", options.CurveRms)}");

    /// <inheritdoc/>
    public ReportSection Run(StudyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = TransferOptions.Table2(context.Seed);
        var matrices = TransferStudy.Measure(context, PaperTransfer.Table2Models, TransferAttacks.Methods, attackCount, attack, options);
        var main = matrices[0].Result;
        int images = main.Count;

        var tables = new List<ReportTable>
        {
            TransferStudy.MatrixTable(
                $"Table 2: error of each column model on the examples made for each row model (box-constrained L-BFGS towards a random wrong class, " +
                $"verified on the row model, first {images} test images; the paper's value in brackets), 95% Wilson intervals. " +
                "Noise rows: clip(x + stddev n) on all images; 'distortion' is the RMS actually reached.",
                main, PaperTransfer.Table2, PaperTransfer.Table2Noise, source => PaperTransfer.Table2Distortion.TryGetValue(source, out double value) ? value : null),
            TransferStudy.CleanTable("Each column model's own error on the clean images under each row's examples (how much of a cell is the model's own error).", main),
            TransferStudy.MatchedNoiseTable("Gaussian noise scaled to each row's own mean distortion, on the same images: the comparison at equal size.", main),
            TransferStudy.MagnifiedTable(
                $"Each row's perturbations magnified to RMS {TransferStudy.Number(options.MagnifyRms, 2)} (clipped to [0,1]; RMS reached beside), " +
                "and under each row Gaussian noise of the same RMS on the same images.", main, null),
        };
        foreach (var other in matrices.Skip(1))
        {
            tables.Add(TransferStudy.MatrixTable(
                $"Table 2 with {TransferStudy.MethodLabel(other.Method)}: {string.Join("; ", other.Result.Rows.Select(row => $"{row.Source}: {row.Examples} of {row.Attempted} fooled, mean L2 {TransferStudy.Number(row.MeanL2, 2)}"))}.",
                other.Result, (_, _) => null, PaperTransfer.Table2Noise, null));
        }

        var figures = new List<ReportFigure>
        {
            TransferStudy.PlainHeatMap("table2-lbfgs.png", "Table 2: error of the column model on examples for the row model (L-BFGS targeted)",
                $"Table 2 as a heat map: examples made with targeted L-BFGS for each row model, error of each column model, first {images} test images; Gaussian-noise rows under them.", main),
            TransferStudy.MagnifiedHeatMap("table2-magnified.png", FormattableString.Invariant($"Table 2, perturbations magnified to RMS {options.MagnifyRms}, with noise of the same RMS"),
                FormattableString.Invariant($"Table 2 at equal distortion: each row's perturbations magnified to RMS {options.MagnifyRms}, and under it Gaussian noise of RMS {options.MagnifyRms} on the same images."), main),
            new ReportFigure("table2-curves.png",
                "Error against RMS distortion for each source's perturbations scaled up or down (solid) and Gaussian noise of the same RMS on the same images (dashed), per target model.",
                TransferFigures.Curves("Table 2: error vs RMS distortion", main.Curves)),
        };
        figures.AddRange(matrices.Skip(1).Select(other => TransferStudy.PlainHeatMap($"table2-{other.Method}.png",
            $"Table 2 with {other.Method}", $"Table 2 as a heat map with {TransferStudy.MethodLabel(other.Method)}.", other.Result)));

        var claimOne = TransferVerdicts.ClaimOne(main);
        var claimTwo = TransferVerdicts.ClaimTwo(main, SoftmaxFamily, PaperTransferOf);
        string?[] paragraphs =
        [
            "The paper's Table 2: adversarial examples made for one model (box-constrained L-BFGS, the examples of Table 1) are " +
            "classified by every other model; the diagonal is 100% by construction (only examples verified on their source are kept). " +
            "The paper compares them with Gaussian noise of stddev 0.1 and 0.3 added to every pixel and clipped to [0,1]; the tables give the RMS " +
            "it reaches. " + (TransferFindings.NoiseSize(main) is string size ? size + " " : "") + "We add the comparison the paper " +
            "only implies: noise of exactly the examples' size on the same images, the examples magnified to one RMS against noise of that RMS, " +
            "and the full curve of error against RMS distortion. Every rate has a 95% Wilson interval and the number of examples it rests on. " +
            TransferVerdicts.Rule,
            $"- {claimOne.Sentence}\n- {claimTwo.Sentence}\n- {AttackComparison(matrices)}",
            TransferFindings.AgainstPaper(main, PaperTransfer.Table2, PaperDistortion, PaperTransfer.Table2Noise),
            TransferFindings.Curves(main.Curves),
            context.Quick ? "**Quick run**: fewer images and epochs, so the numbers are rougher." : null,
        ];
        string prose = string.Join("\n\n", paragraphs.OfType<string>());

        return new ReportSection(Key, Title, prose)
        {
            Claims =
            [
                TransferVerdicts.ToReportClaim(claimOne, TransferVerdicts.ClaimText(TransferVerdicts.ClaimOneStatement, Where)),
                TransferVerdicts.ToReportClaim(claimTwo, TransferVerdicts.ClaimText(TransferVerdicts.ClaimTwoStatement, Where + ", softmax models")),
            ],
            Tables = tables,
            Figures = figures,
            Data = new
            {
                count = images,
                method = matrices[0].Method,
                rows = main.Rows,
                noise = main.Noise,
                magnified = main.Magnified,
                curves = main.Curves,
                cleanErrors = main.CleanErrors,
                equalDistortion = main.EqualDistortion,
                claims = new[] { claimOne, claimTwo },
                methods = matrices.Select(matrix => new { method = matrix.Method, rows = matrix.Result.Rows, magnified = matrix.Result.Magnified, equalDistortion = matrix.Result.EqualDistortion }),
                paper = PaperTransfer.Table2Models.ToDictionary(source => source, source => PaperTransfer.Table2Models.ToDictionary(target => target, target => PaperTransfer.Table2(source, target))),
                seconds = matrices.Sum(matrix => matrix.Result.Seconds),
            },
        };
    }

    /// <inheritdoc/>
    public string Title => "Table 2: adversarial examples transfer across models";

    /// <inheritdoc/>
    public IReadOnlyList<ReportClaim> PlannedClaims =>
    [
        TransferVerdicts.Planned("1", TransferVerdicts.ClaimOneStatement, Where),
        TransferVerdicts.Planned("2", TransferVerdicts.ClaimTwoStatement, Where + ", softmax models"),
    ];

    private const string Where = "Section 4.2, Table 2";

    /// <summary>Claim (2)'s family: the softmax models, weakest weight decay first (lambda 1e-4 &lt; 1e-2 &lt; 1).</summary>
    private static readonly IReadOnlyList<string> SoftmaxFamily = ["fc10-1e-4", "fc10-1e-2", "fc10-1"];

    private static double? PaperDistortion(string source) => PaperTransfer.Table2Distortion.TryGetValue(source, out double value) ? value : null;

    /// <summary>A source's mean off-diagonal error and its distortion in the paper's Table 2.</summary>
    private static (double Transfer, double Distortion)? PaperTransferOf(string source) =>
        PaperDistortion(source) is double distortion
            ? (PaperTransfer.Table2Models.Where(target => target != source).Average(target => PaperTransfer.Table2(source, target) ?? 0), distortion)
            : null;

    /// <summary>Mean off-diagonal error per method at its own size (descriptive: the methods' examples differ in size and number).</summary>
    private static string AttackComparison(IReadOnlyList<TransferStudy.Matrix> matrices) =>
        "By attack, same sources and images: mean off-diagonal error (mean RMS distortion of the examples): " +
        string.Join("; ", matrices.Select(matrix =>
        {
            var rows = matrix.Result.Rows;
            double mean = rows.Average(row => TransferVerdicts.MeanOffDiagonal(row.Errors, row.Source));
            double distortion = rows.Where(row => row.Examples > 0).Select(row => row.Distortion).DefaultIfEmpty(0).Average();
            return $"{matrix.Method} {TransferStudy.Percent(mean)} ({TransferStudy.Number(distortion)})";
        })) + ".";
}
