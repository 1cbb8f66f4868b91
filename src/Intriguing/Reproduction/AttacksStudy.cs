using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Reporting;
using static TorchSharp.torch;

namespace Intriguing.Reproduction;

/// <summary>
/// The attacks beside the papers that introduced them: FGSM (Goodfellow et al. 2015) on the softmax and sigmoid
/// models, PGD (Madry et al. 2018) on the naturally trained convnet, the Gaussian-noise baseline of Table 2, a
/// Figure-5-style picture of L-BFGS examples, and how many adversarial examples survive rounding to 8-bit pixels.
/// </summary>
public sealed class AttacksStudy(int count) : IStudy
{
    /// <summary>Goodfellow et al.: FGSM eps 0.25 gives 99.9% error on a shallow softmax model of MNIST.</summary>
    public const double GoodfellowSoftmaxError = 0.999;

    /// <summary>Madry et al.: a naturally trained MNIST convnet has about 0% accuracy under PGD eps 0.3.</summary>
    public const double MadryNaturalAccuracy = 0.0;

    /// <summary>The models FGSM attacks (the softmax and sigmoid models of Table 1, and the convnet); also the noise rows' models.</summary>
    public static readonly IReadOnlyList<string> FgsmModels = ["fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10", "conv"];

    /// <summary>The models PGD attacks.</summary>
    public static readonly IReadOnlyList<string> PgdModels = ["conv", "fc100-100-10"];

    /// <summary>The noise baseline's standard deviations, in pixel units.</summary>
    public static readonly IReadOnlyList<double> NoiseDeviations = [0.1, 0.3];

    /// <summary>The paper's Table 2, Gaussian-noise rows: error of each model on test images with noise of that stddev.</summary>
    public static readonly IReadOnlyDictionary<(string Model, double Stddev), double> PaperNoiseErrors = new Dictionary<(string, double), double>
    {
        [("fc10-1e-4", 0.1)] = 0.050,
        [("fc10-1e-2", 0.1)] = 0.101,
        [("fc10-1", 0.1)] = 0.183,
        [("fc100-100-10", 0.1)] = 0.0,
        [("fc200-200-10", 0.1)] = 0.0,
        [("ae400-10", 0.1)] = 0.008,
        [("fc10-1e-4", 0.3)] = 0.156,
        [("fc10-1e-2", 0.3)] = 0.113,
        [("fc10-1", 0.3)] = 0.227,
        [("fc100-100-10", 0.3)] = 0.05,
        [("fc200-200-10", 0.3)] = 0.043,
        [("ae400-10", 0.3)] = 0.031,
    };

    /// <summary>The minimal-perturbation attacks whose examples are checked for 8-bit survival.</summary>
    public static readonly IReadOnlyList<(Attack Attack, bool Targeted)> SurvivalAttacks =
        [(new BoxConstrainedLbfgs(), true), (new BoxConstrainedLbfgs(), false), (new CarliniWagnerL2(), false), (new DeepFool(), false)];

    /// <summary>The model whose minimal-perturbation examples are checked for 8-bit survival and drawn as Figure 5.</summary>
    public const string SurvivalModel = "fc100-100-10";

    /// <summary>One model under one fixed-size attack (FGSM, PGD or noise), in report.json; rates are fractions in [0,1].</summary>
    /// <param name="Model">The zoo model.</param>
    /// <param name="Method">"fgsm", "pgd" or "noise 0.1", ...</param>
    /// <param name="Epsilon">The attack's eps, or the noise's stddev.</param>
    /// <param name="ErrorRate">The model's error on the attacked images.</param>
    /// <param name="Accuracy">1 - <paramref name="ErrorRate"/>.</param>
    /// <param name="MeanLinf">Mean L-inf distance of the successes.</param>
    /// <param name="Seconds">The attack's wall time.</param>
    /// <param name="Paper">The paper's error rate for this row, or null where it gives none.</param>
    public sealed record RateRow(string Model, string Method, double Epsilon, double ErrorRate, double Accuracy, double MeanLinf, double Seconds, double? Paper);

    /// <summary>How many of one attack's examples stay adversarial after rounding to 8 bits, in report.json.</summary>
    /// <param name="Model">The zoo model.</param>
    /// <param name="Method">The attack's name.</param>
    /// <param name="Targeted">True for the targeted run.</param>
    /// <param name="Checked">Successful examples rounded and re-classified.</param>
    /// <param name="Survived">Of those, the ones still adversarial.</param>
    /// <param name="Rate"><paramref name="Survived"/> / <paramref name="Checked"/>, 0 when none was checked.</param>
    public sealed record SurvivalRow(string Model, string Method, bool Targeted, int Checked, int Survived, double Rate);

    /// <inheritdoc/>
    public string Key => "attacks";

    /// <summary>The attacks this study runs, as values: FGSM eps 0.25, PGD's Madry setting, noise at each stddev.</summary>
    public static readonly Fgsm FgsmAttack = new() { Epsilon = 0.25 };

    /// <summary>PGD in Madry's MNIST setting: eps 0.3, 40 steps of 0.01, a random start.</summary>
    public static readonly PgdLinf PgdAttack = new();

    /// <summary>Every attack value the study runs, for its fingerprint.</summary>
    public static IEnumerable<Attack> AllAttacks =>
        new Attack[] { FgsmAttack, PgdAttack }
            .Concat(NoiseDeviations.Select(stddev => new GaussianNoise { StandardDeviation = stddev }))
            .Concat(SurvivalAttacks.Select(attack => attack.Attack));

    /// <inheritdoc/>
    public string Fingerprint => $"count={count}|{string.Join(";", AllAttacks.Select(attack => attack.Describe()))}";

    /// <inheritdoc/>
    public ReportSection Run(StudyContext context)
    {
        var fgsm = FgsmModels.Select(model =>
        {
            var summary = context.Attack(model, Split.Train, FgsmAttack, targeted: false, count).Summary;
            return new RateRow(model, "fgsm", FgsmAttack.Epsilon, summary.ErrorRate, 1 - summary.ErrorRate, summary.MeanLinf, summary.Seconds,
                model == "fc10-1e-4" ? GoodfellowSoftmaxError : null);
        }).ToList();
        var pgd = PgdModels.Select(model =>
        {
            var summary = context.Attack(model, Split.Train, PgdAttack, targeted: false, count).Summary;
            return new RateRow(model, "pgd", PgdAttack.Epsilon, summary.ErrorRate, 1 - summary.ErrorRate, summary.MeanLinf, summary.Seconds,
                model == "conv" ? 1 - MadryNaturalAccuracy : null);
        }).ToList();
        var noise = NoiseDeviations.SelectMany(stddev => FgsmModels.Select(model =>
        {
            var summary = context.Attack(model, Split.Train, new GaussianNoise { StandardDeviation = stddev }, targeted: false, count).Summary;
            return new RateRow(model, FormattableString.Invariant($"noise {stddev:0.0}"), stddev, summary.ErrorRate, 1 - summary.ErrorRate, summary.MeanLinf, summary.Seconds,
                PaperNoiseErrors.TryGetValue((model, stddev), out double paper) ? paper : null);
        })).ToList();

        var trained = context.Model(SurvivalModel);
        var survival = SurvivalAttacks.Select(attack =>
        {
            var result = context.Attack(SurvivalModel, Split.Train, attack.Attack, attack.Targeted, count);
            var measured = EightBitSurvival.Measure(trained.Model, result);
            return new SurvivalRow(SurvivalModel, attack.Attack.Name, attack.Targeted, measured.Checked, measured.Survived,
                measured.Checked == 0 ? 0 : (double)measured.Survived / measured.Checked);
        }).ToList();

        var lbfgs = context.Attack(SurvivalModel, Split.Train, SurvivalAttacks[0].Attack, targeted: true, count);
        byte[] figure;
        using (var scope = NewDisposeScope())
        {
            using var originals = context.Data.Test.Slice(0, count);
            float[][] rows = [.. ImageGrid.SplitRows(originals.Images.contiguous().data<float>().ToArray())];
            figure = Attacks.Figures.AdversarialFigure.Render(lbfgs, rows);
        }

        ReportTable RateTable(string caption, IEnumerable<RateRow> rows, string paperLabel) => new(
            caption,
            ["model", "attack", "eps / stddev", "error on attacked images (ours)", $"{paperLabel} (paper)", "mean L-inf", "seconds"],
            rows.Select(row => (IReadOnlyList<ReportCell>)
            [
                row.Model,
                row.Method,
                ReportFormat.Number(row.Epsilon),
                ReportCell.Ours(RateWithInterval(row.ErrorRate, count)),
                ReportCell.Paper(row.Paper is double paper ? ReportFormat.Percent(paper) : ReportFormat.NotAvailable),
                ReportFormat.Distortion(row.MeanLinf),
                ReportFormat.Number(row.Seconds, 1),
            ]).ToList());

        var survivalTable = new ReportTable(
            $"Adversarial examples that stay adversarial after rounding to 8-bit pixels (saved and re-read as PNG), {SurvivalModel}.",
            ["attack", "targeted", "successful examples", "still adversarial after 8-bit rounding"],
            survival.Select(row => (IReadOnlyList<ReportCell>)
            [
                row.Method,
                row.Targeted ? "yes" : "no",
                row.Checked.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ReportCell.Ours($"{ReportFormat.Percent(row.Rate)} ({row.Survived})"),
            ]).ToList());

        string prose =
            $"The first {count} test images, seed {context.Seed}. FGSM (Goodfellow et al., arXiv:1412.6572) takes one step of size eps " +
            "along the sign of the loss gradient; on MNIST with eps = 0.25 it gave a shallow softmax model 99.9% error. " +
            "PGD (Madry et al., arXiv:1706.06083) iterates that step with projection: eps = 0.3, 40 steps of 0.01 from a random start; " +
            "a naturally trained convnet has about 0% accuracy under it (so ~100% error). Gaussian noise of the same or larger size " +
            "is the baseline of the paper's Table 2. " + NoiseSentence(fgsm, noise) + "\n\n" +
            "The paper's adversarial examples live in continuous pixel space. Saved as an ordinary 8-bit image, each pixel moves by up " +
            "to 1/510; the last table says how many examples survive that (each one is written as a real PNG and read back).";

        return new ReportSection(Key, "Attacks: FGSM, PGD, noise, and what survives 8-bit images", prose)
        {
            Tables =
            [
                RateTable("FGSM, eps = 0.25 (L-inf), untargeted.", fgsm, "Goodfellow et al."),
                RateTable("PGD, eps = 0.3, 40 steps of 0.01, random start (L-inf), untargeted.", pgd, "Madry et al."),
                RateTable("Gaussian noise baseline (clipped to [0,1]); the paper's numbers are Table 2's noise rows. Mean L-inf is over the images it fooled.", noise, "Table 2"),
                survivalTable,
            ],
            Figures = [new ReportFigure("figure5-lbfgs.png", $"In the style of the paper's Figure 5: box-constrained L-BFGS on {SurvivalModel} (targeted). Rows: original, perturbation (magnified), adversarial; true and predicted labels.", figure)],
            Data = new { count, fgsm, pgd, noise, eightBitSurvival = survival },
        };
    }

    /// <summary>The error rate of <paramref name="count"/> images with its 95% Wilson interval.</summary>
    private static string RateWithInterval(double rate, int count)
    {
        var interval = Statistics.WilsonInterval.Of((int)Math.Round(rate * count), count);
        return $"{ReportFormat.Percent(rate)} [{ReportFormat.Percent(interval[0])}, {ReportFormat.Percent(interval[1])}]";
    }

    /// <summary>How the noise rows compare with FGSM on the same models and images, computed from both.</summary>
    internal static string NoiseSentence(IReadOnlyList<RateRow> fgsm, IReadOnlyList<RateRow> noise)
    {
        if (fgsm.Count == 0 || noise.Count == 0)
        {
            return "";
        }
        var largest = noise.MaxBy(row => row.ErrorRate)!;
        var smallestFgsm = fgsm.MinBy(row => row.ErrorRate)!;
        string comparison = largest.ErrorRate < smallestFgsm.ErrorRate
            ? $"Every noise cell stays below every FGSM cell: the largest noise error is {ReportFormat.Percent(largest.ErrorRate)} ({largest.Model}, {largest.Method}), the smallest FGSM error {ReportFormat.Percent(smallestFgsm.ErrorRate)} ({smallestFgsm.Model})."
            : $"Noise is not always weaker here: {largest.Model} under {largest.Method} errs on {ReportFormat.Percent(largest.ErrorRate)}, at or above FGSM's {ReportFormat.Percent(smallestFgsm.ErrorRate)} on {smallestFgsm.Model}.";
        return comparison;
    }
}
