using System.Diagnostics;
using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.DistortionBounds;
using Intriguing.Models;
using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>
/// Table 1: the paper's MNIST models trained on all 60,000 training images, their training and test errors and the
/// average minimal distortion that makes them misclassify, each beside the paper's. Beside them: L-BFGS from several
/// starts per image on a softmax model and two networks (<see cref="MultiStartLbfgs"/>: a convex problem's starts agree,
/// a network's spread), and per image the tightest upper bound over every attack run (<see cref="TightestBound"/>).
/// </summary>
/// <param name="attackCount">The first this many test images are attacked per model.</param>
/// <param name="lbfgs">L-BFGS's settings (its defaults when null).</param>
/// <param name="restarts">The multi-start check's images and starts (<see cref="DefaultRestarts"/> when null).</param>
public sealed class Table1Study(int attackCount, BoxConstrainedLbfgs? lbfgs = null, MultiStartSettings? restarts = null) : IStudy
{
    private readonly IReadOnlyList<MinimalDistortion.Column> columns = MinimalDistortion.Columns(lbfgs);
    private readonly MultiStartSettings restarts = restarts ?? DefaultRestarts;

    /// <summary>The multi-start check of a full run: 5 starts (the paper's and 4 random) on the first 50 test images.</summary>
    public static readonly MultiStartSettings DefaultRestarts = new(50, 5);

    /// <summary>The models L-BFGS runs on from several starts: a softmax (convex problem) and two networks.</summary>
    public static readonly IReadOnlyList<string> RestartModels = ["fc10-1e-4", "fc100-100-10", ConvModel];

    /// <summary>The model of <see cref="RestartModels"/> whose targeted problem is convex (a softmax regression).</summary>
    public const string ConvexModel = "fc10-1e-4";

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
    public string Fingerprint => $"{string.Join(",", PaperModels)},{ConvModel}|attackCount={attackCount}|{MinimalDistortion.Describe(columns)}|restarts={restarts}";

    /// <inheritdoc/>
    public string Title => "Table 1: the models, their errors, and the distortion that fools them";

    /// <inheritdoc/>
    public IReadOnlyList<ReportClaim> PlannedClaims => [ConvexityVerdicts.Planned(ConvexityClaimId)];

    private const string ConvexityClaimId = "convexity";

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

        var clock = Stopwatch.StartNew();
        var starts = RestartModels.Select(name => MeasureStarts(context, name)).ToList();
        double restartSeconds = clock.Elapsed.TotalSeconds;
        var spreads = starts.Select(model => new ModelStarts(model.Model, model.Model == ConvexModel, StartSpread.From(model.Images))).ToList();
        var bounds = rows.Where(row => row.MinDistortion.Count > 0).Select(row => (row.Model, Bound: TightestBound.Compute(BoundInputs(context, row.Model, starts)))).ToList();

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

        var restartTable = new ReportTable(
            $"Non-convexity: targeted L-BFGS from {restarts.Starts} starts per image (the image itself, as the paper, and {restarts.Starts - 1} " +
            $"random starts: uniform noise of half-width {ReportFormat.Number(restarts.Radius, 1)} around it), first {restarts.Images} test images. " +
            $"Spread = (max - min) / min of the minimal distortion over the starts that succeeded, per image. The best over starts is still an upper bound on the minimum.",
            ["model", "problem", "images compared", "starts", "median spread", "max spread", $"images with starts > {ReportFormat.Percent(StartSpread.DefaultTolerance, 0)} apart",
                "distortion from the image (paper's start)", "best over starts (upper bound)", "verdict"],
            spreads.Select(model => (IReadOnlyList<ReportCell>)
            [
                model.Model,
                model.Convex ? "convex (softmax)" : "not convex",
                model.Spread.Compared.ToString(CultureInfo.InvariantCulture),
                model.Spread.Starts.ToString(CultureInfo.InvariantCulture),
                ReportCell.Ours(ReportFormat.Percent(model.Spread.MedianSpread)),
                ReportCell.Ours(ReportFormat.Percent(model.Spread.MaxSpread)),
                ReportCell.Ours(ReportFormat.Percent(model.Spread.ShareDisagreeing, 0)),
                ReportCell.Ours(ReportFormat.Number(model.Spread.MeanFromImage, 4)),
                ReportCell.Ours(ReportFormat.Number(model.Spread.MeanBest, 4)),
                ConvexityVerdicts.Words(model.Agreement) + (model.AsExpected ? " (as expected)" : " (not as expected)"),
            ]).ToList());

        var boundKeys = BoundColumns.Select(column => column.Key).ToList();
        var boundTable = new ReportTable(
            $"The tightest upper bound per image: the smallest verified distortion any attack reached on the image (any wrong class; first {attackCount} " +
            $"test images, random starts on the first {restarts.Images}), its mean over images, and each attack's own mean distortion with, in brackets, " +
            "its mean and median ratio to the bound on the images it fooled (x1.00 = always the tightest).",
            ["model", "tightest bound (mean)", .. BoundColumns.Select(column => (ReportCell)column.Label)],
            bounds.Select(bound => (IReadOnlyList<ReportCell>)
            [
                bound.Model,
                ReportCell.Ours(ReportFormat.Number(bound.Bound.MeanBound, 4)),
                .. boundKeys.Select(key => bound.Bound.Attacks.FirstOrDefault(attack => attack.Key == key) is { } attack
                    ? ReportCell.Ours($"{ReportFormat.Number(attack.MeanDistortion, 4)} (x{ReportFormat.Number(attack.MeanRatio, 2)}, median x{ReportFormat.Number(attack.MedianRatio, 2)})")
                    : new ReportCell(ReportFormat.NotAvailable)),
            ]).ToList());

        byte[] spreadChart = DistortionFigures.SpreadPerImage([.. starts.Select(model => (model.Model, model.Images))]);

        string prose =
            "The paper trains six MNIST models (Table 1): softmax regressions with weight decay lambda = 1e-4, 1e-2 and 1, " +
            "two sigmoid networks with two hidden layers, and a frozen sparse autoencoder layer under a softmax. Weight decay is the " +
            "paper's lambda * sum(w^2) / k per layer (k units); recipes and what we tried are in docs/training.md. No augmentation, no dropout.\n\n" +
            "The distortion column is what box-constrained L-BFGS needs to push each test image to a random wrong class (the paper's " +
            "attack): minimise c|r|^2 + loss(x+r, target) with x+r in [0,1]^784 (the paper writes c|r|; we weight the squared L2 norm, " +
            "which has the same minimisers along the search over c and a smooth gradient at r = 0), searching c per image. The problem is not convex, " +
            "so every number is an upper bound on the true minimum; a stronger optimiser finds smaller perturbations. C&W and DeepFool " +
            "(untargeted, which is easier than a chosen target) are shown beside it on the same images. Every example is re-checked by a " +
            "fresh forward pass of the clipped image.\n\n" +
            RestartText(spreads, restartSeconds) + "\n\n" + BoundText(bounds) +
            (context.Quick ? "\n\n**Quick run**: fewer epochs and images than a full run, so the numbers are rougher." : "");

        return new ReportSection(Key, Title, prose)
        {
            Tables = [errors, distortion, restartTable, boundTable],
            Figures =
            [
                new ReportFigure("table1-test-error.png", "Test error of each model, ours beside the paper's Table 1.", errorChart),
                new ReportFigure("table1-distortion.png", "Mean minimal distortion found by box-constrained L-BFGS (targeted), ours beside the paper's.", distortionChart),
                new ReportFigure("table1-start-spread.png",
                    $"Spread of the minimal distortion over {restarts.Starts} L-BFGS starts, per image, sorted (log scale; spreads below " +
                    $"{ReportFormat.Percent(DistortionFigures.Floor, 3)} drawn at it). The dashed line is the {ReportFormat.Percent(StartSpread.DefaultTolerance, 0)} tolerance.", spreadChart),
            ],
            Data = new
            {
                attackCount,
                models = rows,
                nonConvexity = NonConvexityData(restarts, restartSeconds, [.. starts.Select(model => model.Images)], spreads),
                tightestBound = TightestBoundData(bounds),
            },
            Claims = [ConvexityVerdicts.Claim(ConvexityClaimId, spreads)],
        };
    }

    /// <summary>report.json's <c>table1.nonConvexity</c>: the settings, the seconds, and per model its spread and per-image distortions.</summary>
    internal static object NonConvexityData(MultiStartSettings restarts, double seconds, IReadOnlyList<IReadOnlyList<ImageStarts>> images, IReadOnlyList<ModelStarts> spreads) => new
    {
        images = restarts.Images,
        starts = restarts.Starts,
        radius = restarts.Radius,
        tolerance = StartSpread.DefaultTolerance,
        seconds,
        models = images.Zip(spreads, (perImage, model) => new
        {
            model = model.Model,
            convex = model.Convex,
            agreement = ConvexityVerdicts.Words(model.Agreement),
            asExpected = model.AsExpected,
            spread = model.Spread,
            perImage,
        }).ToList(),
    };

    /// <summary>report.json's <c>table1.tightestBound</c>: per model, the bound and each attack beside it.</summary>
    internal static object TightestBoundData(IReadOnlyList<(string Model, TightestBoundResult Bound)> bounds) =>
        bounds.Select(bound => new { model = bound.Model, bound = bound.Bound }).ToList();

    /// <summary>The attacks the tightest bound takes, in the table's order: the minimal-distortion columns, then L-BFGS's random starts.</summary>
    private IReadOnlyList<(string Key, string Label)> BoundColumns =>
        [.. columns.Select(column => (column.Key, column.Label)), (RandomStartsKey, "L-BFGS targeted, random starts")];

    private const string RandomStartsKey = "lbfgsRandomStarts";

    private sealed record StartsOfModel(string Model, IReadOnlyList<ImageStarts> Images);

    /// <summary>
    /// L-BFGS from every start on one model, through the context's shared runs: the paper's start reuses the Table 1 run
    /// on the models it attacks (a row's result does not depend on how many images run with it).
    /// </summary>
    private StartsOfModel MeasureStarts(StudyContext context, string model)
    {
        var attacks = MultiStartLbfgs.Starts((BoxConstrainedLbfgs)columns[0].Attack, restarts.Starts, restarts.Radius);
        int images = Math.Min(restarts.Images, context.Data.Test.Count);
        var results = attacks.Select((attack, start) => context.Attack(model, Split.Train, attack, targeted: true,
            start == 0 && PaperModels.Contains(model) ? Math.Max(attackCount, images) : images)).ToList();
        return new StartsOfModel(model, MultiStartLbfgs.Collect(results, images));
    }

    /// <summary>Each attack's successes on <paramref name="model"/> (runs already made: nothing runs again), and the best random start where there is one.</summary>
    private List<AttackDistortions> BoundInputs(StudyContext context, string model, IReadOnlyList<StartsOfModel> starts)
    {
        var inputs = columns.Select(column => AttackDistortions.FromExamples(column.Key, column.Label,
            context.Attack(model, Split.Train, column.Attack, column.Targeted, attackCount).Examples)).ToList();
        if (starts.FirstOrDefault(entry => entry.Model == model) is { } restarted)
        {
            var best = restarted.Images
                .Select(image => (image.Index, Best: image.Distortions.Skip(1).OfType<double>().DefaultIfEmpty(double.NaN).Min()))
                .Where(image => !double.IsNaN(image.Best))
                .ToDictionary(image => image.Index, image => image.Best);
            inputs.Add(new AttackDistortions(RandomStartsKey, "L-BFGS targeted, random starts", best, restarted.Images.Count));
        }
        return inputs;
    }

    private static string RestartText(IReadOnlyList<ModelStarts> spreads, double seconds)
    {
        var expected = spreads.Where(model => model.AsExpected).Select(model => model.Model).ToList();
        var unexpected = spreads.Where(model => !model.AsExpected).Select(model => model.Model).ToList();
        string gain = string.Join(", ", spreads.Select(model => string.Create(CultureInfo.InvariantCulture,
            $"{model.Model} {ReportFormat.Number(model.Spread.MeanBest, 4)} vs {ReportFormat.Number(model.Spread.MeanFromImage, 4)} " +
            $"({ReportFormat.Percent(model.Spread.MeanBest / model.Spread.MeanFromImage - 1, 1)})")));
        return "**Non-convexity, measured.** The same L-BFGS started from several points per image: " +
            string.Join("; ", spreads.Select(ConvexityVerdicts.Describe)) + ". " +
            (expected.Count > 0 ? $"As convexity predicts: {string.Join(", ", expected)}. " : "") +
            (unexpected.Count > 0 ? $"Not as predicted (a convex problem's starts should agree, a network's spread): {string.Join(", ", unexpected)}. " : "") +
            $"Mean distortion, best over starts vs the paper's start alone: {gain}. " +
            string.Create(CultureInfo.InvariantCulture, $"The check took {ReportFormat.Duration(TimeSpan.FromSeconds(seconds))}.");
    }

    private static string BoundText(IReadOnlyList<(string Model, TightestBoundResult Bound)> bounds)
    {
        if (bounds.Count == 0)
        {
            return "";
        }
        var worst = bounds.SelectMany(bound => bound.Bound.Attacks.Where(attack => double.IsFinite(attack.MeanRatio)).Select(attack => (bound.Model, attack)))
            .MaxBy(entry => entry.attack.MeanRatio);
        var bestUntargeted = bounds.Select(bound => (bound.Model, Best: bound.Bound.Attacks.Where(attack => attack.Key != "lbfgsTargeted" && attack.Key != RandomStartsKey
            && double.IsFinite(attack.MeanRatio)).MinBy(attack => attack.MeanRatio))).Where(entry => entry.Best is not null).ToList();
        return "**The tightest upper bound.** Every verified example bounds the image's minimal distortion from above, so the smallest over the attacks " +
            "is the tightest bound we have. " +
            string.Join(". ", bestUntargeted.Select(entry => string.Create(CultureInfo.InvariantCulture,
                $"On {entry.Model} the closest untargeted attack is {entry.Best!.Label} (x{ReportFormat.Number(entry.Best.MeanRatio, 2)}, the tightest on {ReportFormat.Percent(entry.Best.ShareTightest, 0)} of its images)"))) + ". " +
            (worst.attack is null ? "" :
                $"The farthest is {worst.attack.Label} on {worst.Model} (x{ReportFormat.Number(worst.attack.MeanRatio, 2)})" +
                (worst.attack.Key is "lbfgsTargeted" or RandomStartsKey ? ": a targeted attack must reach its chosen class, not the nearest wrong one." : "."));
    }

    internal static ReportCell PaperPercent(double? value) =>
        ReportCell.Paper(value is double v ? ReportFormat.Percent(v) : ReportFormat.NotAvailable);

    internal static ReportCell DistortionCell(MinimalDistortion.Measured measured) =>
        ReportCell.Ours($"{ReportFormat.Distortion(measured.MeanDistortion)} ({ReportFormat.Percent(measured.SuccessRate, 0)})");
}
