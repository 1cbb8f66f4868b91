using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>
/// Table 3: the cross-training-set models, trained on one half of the training set (P1 or P2), with their error on
/// P1, on P2 and on the test set, and the minimal distortion L-BFGS needs, beside the paper's.
/// </summary>
public sealed class Table3Study(int attackCount, Attacks.BoxConstrainedLbfgs? lbfgs = null) : IStudy
{
    private readonly IReadOnlyList<MinimalDistortion.Column> columns = MinimalDistortion.Columns(lbfgs);

    /// <summary>Table 3's models: the zoo model, the half it is trained on, and the table's label.</summary>
    public static readonly IReadOnlyList<(string Model, Split Split, string Label)> Models =
    [
        ("fc100-100-10", Split.P1, "FC100-100-10 (P1)"),
        ("fc123-456-10", Split.P1, "FC123-456-10 (P1)"),
        ("fc100-100-10", Split.P2, "FC100-100-10' (P2)"),
    ];

    /// <summary>One row of Table 3, in report.json; errors are fractions in [0,1], the paper's null where it gives none.</summary>
    /// <param name="Model">The zoo model.</param>
    /// <param name="TrainedOn">The half it was trained on, "p1" or "p2".</param>
    /// <param name="P1Error">Our error on P1.</param>
    /// <param name="P2Error">Our error on P2.</param>
    /// <param name="TestError">Our test error.</param>
    /// <param name="PaperP1Error">The paper's error on P1.</param>
    /// <param name="PaperP2Error">The paper's error on P2.</param>
    /// <param name="PaperTestError">The paper's test error.</param>
    /// <param name="PaperMinDistortion">The paper's mean minimal distortion.</param>
    /// <param name="LbfgsTargeted">Targeted L-BFGS on the model: distortion, success rate and cost.</param>
    public sealed record Row(string Model, string TrainedOn, double P1Error, double P2Error, double TestError,
        double? PaperP1Error, double? PaperP2Error, double? PaperTestError, double? PaperMinDistortion, MinimalDistortion.Measured LbfgsTargeted);

    /// <inheritdoc/>
    public string Key => "table3";

    /// <inheritdoc/>
    public string Fingerprint => $"{string.Join(",", Models.Select(model => $"{model.Model}@{model.Split.Name()}"))}|attackCount={attackCount}|{MinimalDistortion.Describe(columns.Take(1).ToList())}";

    /// <inheritdoc/>
    public ReportSection Run(StudyContext context)
    {
        var rows = new List<Row>();
        foreach (var (name, split, _) in Models)
        {
            var model = context.Model(name, split);
            var paper = ModelZoo.Get(name).PaperFor(split);
            var measured = MinimalDistortion.Measure(context, name, split, attackCount, targetedLbfgsOnly: true, columns: columns)["lbfgsTargeted"];
            rows.Add(new Row(name, split.Name(), model.Report.P1Error, model.Report.P2Error, model.Report.TestError,
                paper?.P1Error, paper?.P2Error, paper?.TestError, paper?.MinDistortion, measured));
        }

        var table = new ReportTable(
            $"Table 3: models trained on P1 (first 30,000 training images) or P2 (the other 30,000); distortion of L-BFGS towards a random wrong class on the first {attackCount} test images.",
            ["model", "trained on", "P1 error (ours)", "P1 error (paper)", "P2 error (ours)", "P2 error (paper)", "test error (ours)", "test error (paper)", "min. distortion (ours)", "min. distortion (paper)"],
            rows.Select((row, index) => (IReadOnlyList<ReportCell>)
            [
                Models[index].Label,
                row.TrainedOn.ToUpperInvariant(),
                ReportCell.Ours(ReportFormat.Percent(row.P1Error)),
                Table1Study.PaperPercent(row.PaperP1Error),
                ReportCell.Ours(ReportFormat.Percent(row.P2Error)),
                Table1Study.PaperPercent(row.PaperP2Error),
                ReportCell.Ours(ReportFormat.Percent(row.TestError)),
                Table1Study.PaperPercent(row.PaperTestError),
                Table1Study.DistortionCell(row.LbfgsTargeted),
                ReportCell.Paper(row.PaperMinDistortion is double paper ? ReportFormat.Distortion(paper) : ReportFormat.NotAvailable),
            ]).ToList());

        string prose =
            "To test whether adversarial examples transfer between models trained on *disjoint* data, the paper splits the " +
            "MNIST training set into P1 and P2 of 30,000 images each and trains three sigmoid networks (Table 3). A model's " +
            "error on its own half is its training error; on the other half it is a held-out error.";

        return new ReportSection(Key, "Table 3: models trained on disjoint halves of the training set", prose)
        {
            Tables = [table],
            Data = new { attackCount, models = rows },
        };
    }
}
