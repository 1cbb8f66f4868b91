using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>
/// Table 1's error columns: the paper's MNIST models trained on all 60,000 training images, their training and
/// test error beside the paper's. (The minimal-distortion column comes from the attacks.)
/// </summary>
public sealed class Table1ErrorsStudy : IStudy
{
    /// <summary>The rows of Table 1, in the paper's order, plus the convnet that later studies use.</summary>
    public static readonly IReadOnlyList<string> Models = ["fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10", "conv"];

    public sealed record Row(string Model, double TrainError, double TestError, int Epochs, double Seconds, PaperNumbers? Paper);

    public sealed record PaperNumbers(double? TrainError, double? TestError, double? MinDistortion);

    public string Key => "table1";

    public string Fingerprint => string.Join(",", Models);

    public ReportSection Run(StudyContext context)
    {
        var rows = new List<Row>();
        foreach (string name in Models)
        {
            var model = context.Model(name);
            var paper = ModelZoo.Get(name).PaperFor(Split.Train);
            rows.Add(new Row(name, model.Report.TrainError, model.Report.TestError, model.Report.Epochs, model.Report.Seconds,
                paper is null ? null : new PaperNumbers(paper.TrainError, paper.TestError, paper.MinDistortion)));
        }

        var table = new ReportTable(
            "Table 1 (error columns): MNIST models trained on the 60,000 training images; error on the training set and on the 10,000 test images.",
            ["model", "train error (ours)", "train error (paper)", "test error (ours)", "test error (paper)", "epochs"],
            rows.Select(row => (IReadOnlyList<ReportCell>)
            [
                row.Model,
                ReportCell.Ours(ReportFormat.Percent(row.TrainError)),
                ReportCell.Paper(row.Paper?.TrainError is double train ? ReportFormat.Percent(train) : ReportFormat.NotAvailable),
                ReportCell.Ours(ReportFormat.Percent(row.TestError)),
                ReportCell.Paper(row.Paper?.TestError is double test ? ReportFormat.Percent(test) : ReportFormat.NotAvailable),
                row.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ]).ToList());

        byte[] chart = BarCharts.OursVsPaper(
            "Test error: ours vs the paper's Table 1",
            "test error (%)",
            rows.Select(row => new ComparisonBar(row.Model, row.TestError * 100, row.Paper?.TestError * 100)).ToList());

        string prose =
            "The paper trains six MNIST models (Table 1): softmax regressions with weight decay lambda = 1e-4, 1e-2 and 1, " +
            "two sigmoid networks with two hidden layers, and a frozen sparse autoencoder layer under a softmax. The weight decay " +
            "is the paper's lambda * sum(w^2) / k per layer, k the number of units. We train each model with the recipe in " +
            "docs/training.md, seeded, with no augmentation and no dropout." +
            (context.Quick ? "\n\n**Quick run**: fewer epochs than the full recipe, so errors are higher than a full run's." : "");

        return new ReportSection(Key, "Table 1: the models and their errors", prose)
        {
            Tables = [table],
            Figures = [new ReportFigure("table1-test-error.png", "Test error of each model, ours beside the paper's Table 1.", chart)],
            Data = new { models = rows },
        };
    }
}

/// <summary>
/// Table 3's error columns: the cross-training-set models, trained on one half of the training set (P1 or P2),
/// with their error on P1, on P2 and on the test set beside the paper's.
/// </summary>
public sealed class Table3ErrorsStudy : IStudy
{
    public static readonly IReadOnlyList<(string Model, Split Split, string Label)> Models =
    [
        ("fc100-100-10", Split.P1, "FC100-100-10 (P1)"),
        ("fc123-456-10", Split.P1, "FC123-456-10 (P1)"),
        ("fc100-100-10", Split.P2, "FC100-100-10' (P2)"),
    ];

    public sealed record Row(string Model, string TrainedOn, double P1Error, double P2Error, double TestError, Table1ErrorsStudy.PaperNumbers? Paper, double? PaperP1Error, double? PaperP2Error);

    public string Key => "table3";

    public string Fingerprint => string.Join(",", Models.Select(model => $"{model.Model}@{model.Split.Name()}"));

    public ReportSection Run(StudyContext context)
    {
        var rows = new List<Row>();
        foreach (var (name, split, _) in Models)
        {
            var model = context.Model(name, split);
            var paper = ModelZoo.Get(name).PaperFor(split);
            rows.Add(new Row(name, split.Name(), model.Report.P1Error, model.Report.P2Error, model.Report.TestError,
                paper is null ? null : new Table1ErrorsStudy.PaperNumbers(paper.TrainError, paper.TestError, paper.MinDistortion),
                paper?.P1Error, paper?.P2Error));
        }

        static ReportCell Paper(double? value) => ReportCell.Paper(value is double v ? ReportFormat.Percent(v) : ReportFormat.NotAvailable);
        var table = new ReportTable(
            "Table 3 (error columns): models trained on P1 (first 30,000 training images) or P2 (the other 30,000).",
            ["model", "trained on", "P1 error (ours)", "P1 error (paper)", "P2 error (ours)", "P2 error (paper)", "test error (ours)", "test error (paper)"],
            rows.Select((row, index) => (IReadOnlyList<ReportCell>)
            [
                Models[index].Label,
                row.TrainedOn.ToUpperInvariant(),
                ReportCell.Ours(ReportFormat.Percent(row.P1Error)),
                Paper(row.PaperP1Error),
                ReportCell.Ours(ReportFormat.Percent(row.P2Error)),
                Paper(row.PaperP2Error),
                ReportCell.Ours(ReportFormat.Percent(row.TestError)),
                Paper(row.Paper?.TestError),
            ]).ToList());

        string prose =
            "To test whether adversarial examples transfer between models trained on *disjoint* data, the paper splits the " +
            "MNIST training set into P1 and P2 of 30,000 images each and trains three sigmoid networks (Table 3). A model's " +
            "error on its own half is its training error; on the other half it is a held-out error.";

        return new ReportSection(Key, "Table 3: models trained on disjoint halves of the training set", prose)
        {
            Tables = [table],
            Data = new { models = rows },
        };
    }
}
