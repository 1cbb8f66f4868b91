using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Reporting;
using Intriguing.Statistics;
using Intriguing.Transfer;
using static TorchSharp.torch;

namespace Intriguing.Reproduction;

/// <summary>
/// Tables 2 and 4 of the paper: do adversarial examples made for one model fool others? A report section is one study,
/// so the cross-model table (<c>table2</c>) and the cross-training-set table (<c>table4</c>) are two thin studies over
/// <see cref="TransferMeasurement"/>; their examples are the shared L-BFGS runs of Tables 1 and 3 (same attack value,
/// same count), and each states whether the paper's claims hold on our models (<see cref="TransferVerdicts"/>).
/// </summary>
public static class TransferStudy
{
    /// <summary>The models of a matrix as the study names them: "name" (full training split), "name@p1", or a model file's path (taken whole).</summary>
    public static (string Model, Split Split) Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Models.ModelStore.IsPath(name))
        {
            return (name, Split.Train);
        }
        int at = name.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? (name, Split.Train) : (name[..at], SplitNames.Parse(name[(at + 1)..]));
    }

    /// <summary>One matrix of the study: its examples' method and the measurement.</summary>
    public sealed record Matrix(string Method, TransferMatrix Result);

    /// <summary>Runs <paramref name="methods"/> with <paramref name="names"/> as both sources and targets, through the context's shared attack runs.</summary>
    public static IReadOnlyList<Matrix> Measure(StudyContext context, IReadOnlyList<string> names, IReadOnlyList<string> methods, int count,
        BoxConstrainedLbfgs lbfgs, TransferOptions options) => Measure(context, names, names, methods, count, lbfgs, options);

    /// <summary>
    /// Runs <paramref name="methods"/>: examples for every source ("name" or "name@p1") on the first <paramref name="count"/>
    /// test images through the context's shared attack runs, every target measured on them. The first method's matrix
    /// gets the curves; the others only the matrices.
    /// </summary>
    /// <exception cref="BadInputException">An unknown model or split name.</exception>
    public static IReadOnlyList<Matrix> Measure(StudyContext context, IReadOnlyList<string> sources, IReadOnlyList<string> targets,
        IReadOnlyList<string> methods, int count, BoxConstrainedLbfgs lbfgs, TransferOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        TransferModel Load(string name)
        {
            var (model, split) = Parse(name);
            return new TransferModel(name, context.Model(model, split).Model);
        }
        var sourceModels = sources.Select(Load).ToList();
        var targetModels = targets.Select(Load).ToList();
        int used = Math.Min(count, context.Data.Test.Count);
        using var images = context.Data.Test.Slice(0, used);
        var inputs = images.Images.to(context.Device);
        var labels = images.Labels.to(context.Device);
        AttackResult Run(TransferModel source, Attack attack, bool targeted)
        {
            var (model, split) = Parse(source.Name);
            return context.Attack(model, split, attack, targeted, used);
        }
        var matrices = new List<Matrix>();
        foreach (string method in methods)
        {
            var examples = sourceModels.Select(source => TransferAttacks.Make(method, source, Run, inputs, labels, lbfgs, context.Seed)).ToList();
            // The curves belong to the paper's examples (the first method); the other methods get the matrices only.
            var methodOptions = matrices.Count == 0 ? options : options with { CurveRms = [] };
            matrices.Add(new Matrix(method, TransferMeasurement.Measure(examples, targetModels, inputs, labels, methodOptions, context.Progress)));
        }
        return matrices;
    }

    /// <summary>The words for a transfer method ("lbfgs", "lbfgs-untargeted", "fgsm", otherwise PGD-L2) in captions.</summary>
    public static string MethodLabel(string method) => method switch
    {
        "lbfgs" => "L-BFGS towards a random wrong class (the paper's examples)",
        "lbfgs-untargeted" => "L-BFGS towards any wrong class",
        "fgsm" => "FGSM sized to each source's L-BFGS mean L2",
        _ => "PGD-L2 in the ball of each source's L-BFGS mean L2",
    };

    /// <summary><paramref name="rate"/>, a fraction, as a percentage with one decimal.</summary>
    public static string Percent(double rate) => ReportFormat.Percent(rate, 1);

    /// <summary><paramref name="rate"/> with its 95% <paramref name="interval"/>: "12.3% [10.1%, 14.8%]".</summary>
    public static string Rate(double rate, double[] interval) =>
        $"{Percent(rate)} [{Percent(interval[0])}, {Percent(interval[1])}]";

    internal static string Paper(double? paper) => paper is double value ? Percent(value) : ReportFormat.NotAvailable;

    internal static string Number(double value, int decimals = 3) => ReportFormat.Number(value, decimals);

    /// <summary>A matrix with the paper's value in each cell: its rows, then its noise rows (a stddev, or scaled to an RMS).</summary>
    internal static ReportTable MatrixTable(string caption, TransferMatrix matrix, Func<string, string, double?> paper,
        Func<double, string, double?>? paperNoise, Func<string, double?>? paperDistortion)
    {
        var rows = new List<IReadOnlyList<ReportCell>>();
        foreach (var row in matrix.Rows)
        {
            rows.Add(
            [
                row.Source,
                .. matrix.Targets.Select(target => Cell(row.Errors[target], row.Intervals[target], paper(row.Source, target))),
                ReportCell.Ours(Number(row.Distortion)),
                ReportCell.Paper(paperDistortion?.Invoke(row.Source) is double distortion ? Number(distortion) : ReportFormat.NotAvailable),
                row.Examples.ToString(CultureInfo.InvariantCulture),
            ]);
        }
        foreach (var noise in matrix.Noise)
        {
            string label = noise.Kind == "stddev"
                ? FormattableString.Invariant($"Gaussian noise, stddev {noise.Stddev}")
                : FormattableString.Invariant($"Gaussian noise scaled to RMS {noise.Stddev}");
            rows.Add(
            [
                label,
                .. matrix.Targets.Select(target => Cell(noise.Errors[target], noise.Intervals[target],
                    noise.Kind == "stddev" ? paperNoise?.Invoke(noise.Stddev, target) : null)),
                ReportCell.Ours(Number(noise.Rms)),
                ReportCell.Paper(noise.Kind == "stddev" ? Number(noise.Stddev, 2) + " (stddev)" : ReportFormat.NotAvailable),
                noise.Examples.ToString(CultureInfo.InvariantCulture),
            ]);
        }
        return new ReportTable(caption,
            ["examples made for", .. matrix.Targets.Select(target => (ReportCell)target), "distortion (ours)", "distortion (paper)", "examples"],
            rows);
    }

    private static ReportCell Cell(double rate, double[] interval, double? paper) =>
        ReportCell.Ours(ReportFormat.OursVsPaper(Rate(rate, interval), paper is double value ? Percent(value) : null));

    /// <summary>Each target's error on the clean images under each row's examples, and on all the images.</summary>
    internal static ReportTable CleanTable(string caption, TransferMatrix matrix) => new(caption,
        ["images of the examples for", .. matrix.Targets.Select(target => (ReportCell)target)],
        [
            .. matrix.Rows.Select(row => (IReadOnlyList<ReportCell>)
                [row.Source, .. matrix.Targets.Select(target => ReportCell.Ours(Rate(row.CleanErrors[target], row.CleanIntervals[target])))]),
            ["all images", .. matrix.Targets.Select(target => ReportCell.Ours(Percent(matrix.CleanErrors[target])))],
        ]);

    /// <summary>What the p in a noise cell is, for the captions.</summary>
    internal const string PairedNote =
        "p: McNemar's exact test of the examples against this noise on the same images (two-sided, on the images only one of them fooled; " +
        "uncorrected, the claims correct with Holm over the comparisons they rest on).";

    /// <summary>Noise scaled to each row's own mean distortion, on the row's images, with each cell's paired test against the examples.</summary>
    internal static ReportTable MatchedNoiseTable(string caption, TransferMatrix matrix) => new(caption + " " + PairedNote,
        ["noise on the images of", .. matrix.Targets.Select(target => (ReportCell)target), "RMS reached"],
        [
            .. matrix.Rows.Select(row => (IReadOnlyList<ReportCell>)
            [
                row.Source,
                .. matrix.Targets.Select(target => ReportCell.Ours(WithP(Rate(row.MatchedNoise.Errors[target], row.MatchedNoise.Intervals[target]), row.PValues, target))),
                Number(row.MatchedNoise.Rms),
            ]),
        ]);

    private static string WithP(string cell, IReadOnlyDictionary<string, double> pValues, string target) =>
        pValues.TryGetValue(target, out double p) ? $"{cell}, p {PValues.Format(p)}" : cell;

    /// <summary>The magnified rows beside noise of the same RMS on the same images, each noise cell with its paired test against the examples.</summary>
    internal static ReportTable MagnifiedTable(string caption, TransferMatrix matrix, Func<string, string, double?>? paper) => new(caption + " " + PairedNote,
        ["examples made for", .. matrix.Targets.Select(target => (ReportCell)target), "RMS reached", "values clipped"],
        [
            .. matrix.Magnified.SelectMany(row => new IReadOnlyList<ReportCell>[]
            {
                [
                    row.Source,
                    .. matrix.Targets.Select(target => paper?.Invoke(row.Source, target) is double value
                        ? ReportCell.Ours(ReportFormat.OursVsPaper(Rate(row.Errors[target], row.Intervals[target]), Percent(value)))
                        : ReportCell.Ours(Rate(row.Errors[target], row.Intervals[target]))),
                    Number(row.Distortion),
                    ReportFormat.Percent(row.ClippedFraction, 1),
                ],
                [
                    "  noise, same RMS, same images",
                    .. matrix.Targets.Select(target => ReportCell.Ours(WithP(Rate(row.Noise.Errors[target], row.Noise.Intervals[target]), row.PValues, target))),
                    Number(row.Noise.Rms),
                    "",
                ],
            }),
        ]);

    /// <summary>The heat maps of a matrix: plain rows with the noise rows under them, and the magnified rows with their noise.</summary>
    public static ReportFigure PlainHeatMap(string fileName, string title, string caption, TransferMatrix matrix) =>
        new(fileName, caption, TransferFigures.HeatMap(title, matrix.Targets, TransferFigures.Rows(matrix.Targets,
            matrix.Rows.Select(row => (row.Source, row.Errors))
                .Concat(matrix.Noise.Select(noise => (NoiseLabel(noise), noise.Errors))))));

    /// <summary>The heat map of the magnified rows, each followed by its noise of the same RMS.</summary>
    public static ReportFigure MagnifiedHeatMap(string fileName, string title, string caption, TransferMatrix matrix) =>
        new(fileName, caption, TransferFigures.HeatMap(title, matrix.Targets, TransferFigures.Rows(matrix.Targets,
            matrix.Magnified.SelectMany(row => new[] { (row.Source, row.Errors), ($"  noise RMS {Number(row.Noise.Rms, 2)}", row.Noise.Errors) }))));

    /// <summary>A noise row's label: "noise stddev 0.1", or "noise RMS 0.05" for noise sized to an RMS.</summary>
    public static string NoiseLabel(NoiseRow noise) => noise.Kind == "stddev"
        ? FormattableString.Invariant($"noise stddev {noise.Stddev}")
        : FormattableString.Invariant($"noise RMS {noise.Stddev}");
}
