using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>
/// Table 1: the paper's MNIST models trained on all 60,000 training images, their training and test errors and the
/// average minimal distortion that makes them misclassify, each beside the paper's.
/// </summary>
public sealed class Table1Study(int attackCount, BoxConstrainedLbfgs? lbfgs = null) : IStudy
{
    private readonly IReadOnlyList<MinimalDistortion.Column> columns = MinimalDistortion.Columns(lbfgs);

    /// <summary>The rows of Table 1, in the paper's order.</summary>
    public static readonly IReadOnlyList<string> PaperModels = ["fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10"];

    /// <summary>Also trained and listed: the convnet the unit and PGD studies use (not in the paper's Table 1).</summary>
    public const string ConvModel = "conv";

    /// <summary>Table 1's numbers for one model; errors are fractions, null where the paper gives none.</summary>
    /// <param name="TrainError">Training error.</param>
    /// <param name="TestError">Test error.</param>
    /// <param name="MinDistortion">Mean minimal distortion of L-BFGS (the paper's RMS measure).</param>
    public sealed record PaperNumbers(double? TrainError, double? TestError, double? MinDistortion);

    /// <summary>One row of Table 1, in report.json; errors are fractions in [0,1].</summary>
    /// <param name="Model">The zoo model.</param>
    /// <param name="TrainError">Our training error.</param>
    /// <param name="TestError">Our test error.</param>
    /// <param name="Epochs">Epochs trained.</param>
    /// <param name="Seconds">Training seconds.</param>
    /// <param name="Paper">The paper's numbers, or null for a model not in Table 1 (the convnet).</param>
    /// <param name="MinDistortion">The minimal-perturbation attacks' measurements, by column key ("lbfgsTargeted", ...).</param>
    public sealed record Row(string Model, double TrainError, double TestError, int Epochs, double Seconds, PaperNumbers? Paper,
        IReadOnlyDictionary<string, MinimalDistortion.Measured> MinDistortion);

    /// <inheritdoc/>
    public string Key => "table1";

    /// <inheritdoc/>
    public string Fingerprint => $"{string.Join(",", PaperModels)},{ConvModel}|attackCount={attackCount}|{MinimalDistortion.Describe(columns)}";

    /// <inheritdoc/>
    public ReportSection Run(StudyContext context)
    {
        var rows = new List<Row>();
        foreach (string name in PaperModels.Append(ConvModel))
        {
            var model = context.Model(name);
            var paper = ModelZoo.Get(name).PaperFor(Split.Train);
            var distortions = name == ConvModel
                ? new Dictionary<string, MinimalDistortion.Measured>()
                : MinimalDistortion.Measure(context, name, Split.Train, attackCount, columns: columns);
            rows.Add(new Row(name, model.Report.TrainError, model.Report.TestError, model.Report.Epochs, model.Report.Seconds,
                paper is null ? null : new PaperNumbers(paper.TrainError, paper.TestError, paper.MinDistortion), distortions));
        }

        var errors = new ReportTable(
            "Table 1, error columns: training error and error on the 10,000 test images.",
            ["model", "train error (ours)", "train error (paper)", "test error (ours)", "test error (paper)", "epochs"],
            rows.Select(row => (IReadOnlyList<ReportCell>)
            [
                row.Model,
                ReportCell.Ours(ReportFormat.Percent(row.TrainError)),
                PaperPercent(row.Paper?.TrainError),
                ReportCell.Ours(ReportFormat.Percent(row.TestError)),
                PaperPercent(row.Paper?.TestError),
                row.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ]).ToList());

        var attacked = rows.Where(row => row.MinDistortion.Count > 0).ToList();
        var distortion = new ReportTable(
            $"Table 1, minimal-distortion column: mean distortion sqrt(sum((x'-x)^2)/784) over successful examples, first {attackCount} test images " +
            "(success rate over the images the model got right in brackets). The paper's numbers are L-BFGS towards a wrong class.",
            ["model", "L-BFGS targeted (ours)", "L-BFGS (paper)", .. MinimalDistortion.Attacks.Skip(1).Select(attack => (ReportCell)attack.Label)],
            attacked.Select(row => (IReadOnlyList<ReportCell>)
            [
                row.Model,
                DistortionCell(row.MinDistortion["lbfgsTargeted"]),
                ReportCell.Paper(row.Paper?.MinDistortion is double paper ? ReportFormat.Distortion(paper) : ReportFormat.NotAvailable),
                .. MinimalDistortion.Attacks.Skip(1).Select(attack => DistortionCell(row.MinDistortion[attack.Key])),
            ]).ToList());

        byte[] errorChart = BarCharts.OursVsPaper(
            "Test error: ours vs the paper's Table 1",
            "test error (%)",
            rows.Select(row => new ComparisonBar(row.Model, row.TestError * 100, row.Paper?.TestError * 100)).ToList());
        byte[] distortionChart = BarCharts.OursVsPaper(
            "Mean minimal distortion (L-BFGS, targeted): ours vs the paper's Table 1",
            "distortion",
            attacked.Select(row => new ComparisonBar(row.Model, row.MinDistortion["lbfgsTargeted"].MeanDistortion, row.Paper?.MinDistortion)).ToList());

        string prose =
            "The paper trains six MNIST models (Table 1): softmax regressions with weight decay lambda = 1e-4, 1e-2 and 1, " +
            "two sigmoid networks with two hidden layers, and a frozen sparse autoencoder layer under a softmax. Weight decay is the " +
            "paper's lambda * sum(w^2) / k per layer (k units); recipes and what we tried are in docs/training.md. No augmentation, no dropout.\n\n" +
            "The distortion column is what box-constrained L-BFGS needs to push each test image to a random wrong class (the paper's " +
            "attack): minimise c|r|^2 + loss(x+r, target) with x+r in [0,1]^784 (the paper writes c|r|; we weight the squared L2 norm, " +
            "which has the same minimisers along the search over c and a smooth gradient at r = 0), searching c per image. The problem is not convex, " +
            "so every number is an upper bound on the true minimum; a stronger optimiser finds smaller perturbations. C&W and DeepFool " +
            "(untargeted, which is easier than a chosen target) are shown beside it on the same images. Every example is re-checked by a " +
            "fresh forward pass of the clipped image." +
            (context.Quick ? "\n\n**Quick run**: fewer epochs and images than a full run, so the numbers are rougher." : "");

        return new ReportSection(Key, "Table 1: the models, their errors, and the distortion that fools them", prose)
        {
            Tables = [errors, distortion],
            Figures =
            [
                new ReportFigure("table1-test-error.png", "Test error of each model, ours beside the paper's Table 1.", errorChart),
                new ReportFigure("table1-distortion.png", "Mean minimal distortion found by box-constrained L-BFGS (targeted), ours beside the paper's.", distortionChart),
            ],
            Data = new { attackCount, models = rows },
        };
    }

    internal static ReportCell PaperPercent(double? value) =>
        ReportCell.Paper(value is double v ? ReportFormat.Percent(v) : ReportFormat.NotAvailable);

    internal static ReportCell DistortionCell(MinimalDistortion.Measured measured) =>
        ReportCell.Ours($"{ReportFormat.Distortion(measured.MeanDistortion)} ({ReportFormat.Percent(measured.SuccessRate, 0)})");
}
