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

    public string Key => "table2";

    public string Fingerprint => $"{string.Join(",", PaperTransfer.Table2Models)}|count={attackCount}|methods={string.Join(",", TransferAttacks.Methods)}|" +
        $"{attack.Describe()}|{new PgdL2().Describe()}|options={Describe(TransferOptions.Table2())}";

    internal static string Describe(TransferOptions options) =>
        FormattableString.Invariant($"magnify={options.MagnifyRms};noise={string.Join(",", options.NoiseStddevs)};curve={string.Join(",", options.CurveRms)}");

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
                "Table 2 at equal distortion: each row's perturbations magnified to RMS 0.1, and under it Gaussian noise of RMS 0.1 on the same images.", main),
            new ReportFigure("table2-curves.png",
                "Error against RMS distortion for each source's perturbations scaled up or down (solid) and Gaussian noise of the same RMS on the same images (dashed), per target model.",
                TransferFigures.Curves("Table 2: error vs RMS distortion", main.Curves)),
        };
        figures.AddRange(matrices.Skip(1).Select(other => TransferStudy.PlainHeatMap($"table2-{other.Method}.png",
            $"Table 2 with {other.Method}", $"Table 2 as a heat map with {TransferStudy.MethodLabel(other.Method)}.", other.Result)));

        string prose =
            "The paper's Table 2: adversarial examples made for one model (box-constrained L-BFGS, the examples of Table 1) are " +
            "classified by every other model; the diagonal is 100% by construction (only examples verified on their source are kept). " +
            "The paper compares them with Gaussian noise of stddev 0.1 and 0.3, which on [0,1] pixels is larger than the examples " +
            "(after clipping to [0,1] its RMS is smaller than its stddev; the tables give the RMS reached). We add the comparison the paper " +
            "only implies: noise of exactly the examples' size on the same images, the examples magnified to one RMS against noise of that RMS, " +
            "and the full curve of error against RMS distortion. Every rate has a 95% Wilson interval and the number of examples it rests on.\n\n" +
            $"- {TransferStudy.ClaimOne(main)}\n" +
            $"- {ClaimTwo(main)}\n" +
            $"- {AttackComparison(matrices)}\n\n" +
            $"{AgainstPaper(main)}\n\n" +
            (context.Quick ? "\n\n**Quick run**: fewer images and epochs, so the numbers are rougher." : "");

        return new ReportSection(Key, "Table 2: adversarial examples transfer across models", prose)
        {
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
                methods = matrices.Select(matrix => new { method = matrix.Method, rows = matrix.Result.Rows, magnified = matrix.Result.Magnified, equalDistortion = matrix.Result.EqualDistortion }),
                paper = PaperTransfer.Table2Models.ToDictionary(source => source, source => PaperTransfer.Table2Models.ToDictionary(target => target, target => PaperTransfer.Table2(source, target))),
                seconds = matrices.Sum(matrix => matrix.Result.Seconds),
            },
        };
    }

    /// <summary>Claim (2): examples from weakly regularised models transfer more (the softmax family, lambda 1e-4 < 1e-2 < 1).</summary>
    private static string ClaimTwo(TransferMatrix matrix)
    {
        string[] family = ["fc10-1e-4", "fc10-1e-2", "fc10-1"];
        var plain = family.Select(source => TransferStudy.MeanOffDiagonal(matrix.Rows.First(row => row.Source == source).Errors, source)).ToArray();
        var magnified = family.Select(source => TransferStudy.MeanOffDiagonal(matrix.Magnified.First(row => row.Source == source).Errors, source)).ToArray();
        var paper = family.Select(source => PaperTransfer.Table2Models.Where(target => target != source)
            .Average(target => PaperTransfer.Table2(source, target) ?? 0)).ToArray();
        bool plainDecreasing = plain[0] > plain[1] && plain[1] > plain[2];
        bool magnifiedDecreasing = magnified[0] > magnified[1] && magnified[1] > magnified[2];
        string Triple(double[] values) => string.Join(" / ", values.Select(TransferStudy.Percent));
        return $"**(2) {(plainDecreasing && magnifiedDecreasing ? "Agrees" : plainDecreasing || magnifiedDecreasing ? "Partly agrees" : "Disagrees")}.** " +
            "Examples from weakly regularised models transfer more? Mean error of the other five models on the examples of FC10 with lambda 1e-4 / 1e-2 / 1: " +
            $"{Triple(plain)} at each source's own distortion ({string.Join(" / ", family.Select(source => TransferStudy.Number(matrix.Rows.First(row => row.Source == source).Distortion)))}), " +
            $"{Triple(magnified)} magnified to RMS {TransferStudy.Number(matrix.EqualDistortion.Rms, 2)}. " +
            $"The paper's own Table 2 gives {Triple(paper)}: there the most regularised softmax transfers most, at the largest distortion (0.14).";
    }

    /// <summary>Our off-diagonal cells against the paper's, with the distortions that explain part of the difference.</summary>
    private static string AgainstPaper(TransferMatrix matrix)
    {
        var cells = matrix.Rows.SelectMany(row => matrix.Targets.Where(target => target != row.Source)
            .Select(target => (row.Source, Target: target, Ours: row.Errors[target], Paper: PaperTransfer.Table2(row.Source, target))))
            .Where(cell => cell.Paper is not null)
            .Select(cell => (cell.Source, cell.Target, cell.Ours, Paper: cell.Paper!.Value))
            .ToList();
        if (cells.Count == 0)
        {
            return "No cell of ours has a counterpart in the paper's Table 2.";
        }
        int higher = cells.Count(cell => cell.Ours > cell.Paper);
        double meanDifference = cells.Average(cell => Math.Abs(cell.Ours - cell.Paper));
        var largest = cells.OrderByDescending(cell => Math.Abs(cell.Ours - cell.Paper)).Take(3)
            .Select(cell => $"{cell.Source} -> {cell.Target} {TransferStudy.Percent(cell.Ours)} against {TransferStudy.Percent(cell.Paper)}");
        var distortions = matrix.Rows.Select(row => $"{row.Source} {TransferStudy.Number(row.Distortion)}" +
            (PaperTransfer.Table2Distortion.TryGetValue(row.Source, out double paper) ? $" ({TransferStudy.Number(paper)})" : ""));
        return $"Against the paper's {cells.Count} off-diagonal cells, ours are higher in {higher} and lower in {cells.Count - higher}, " +
            $"{ReportFormat.Number(meanDifference * 100, 1)} points apart on average; the largest differences: {string.Join("; ", largest)}. " +
            $"Mean distortion of each row, ours (paper's): {string.Join(", ", distortions)}. Our L-BFGS stops at the smallest distortion that succeeds, " +
            "so its examples sit just past the source's boundary; a row with less distortion than the paper's transfers less, and the curves show every " +
            "cell rising with the distortion. Noise rows: our models are not the paper's, and AE400-10 in particular is far more sensitive to noise " +
            "(compare its column in the noise rows), which is why its cells are compared with noise of the same RMS on the same images.";
    }

    /// <summary>Does transfer depend on the attack? Mean off-diagonal error per method at its own size.</summary>
    private static string AttackComparison(IReadOnlyList<TransferStudy.Matrix> matrices) =>
        "Does transfer depend on the attack? Mean off-diagonal error (mean RMS distortion of the examples): " +
        string.Join("; ", matrices.Select(matrix =>
        {
            var rows = matrix.Result.Rows;
            double mean = rows.Average(row => TransferStudy.MeanOffDiagonal(row.Errors, row.Source));
            double distortion = rows.Where(row => row.Examples > 0).Select(row => row.Distortion).DefaultIfEmpty(0).Average();
            return $"{matrix.Method} {TransferStudy.Percent(mean)} ({TransferStudy.Number(distortion)})";
        })) + ".";
}
