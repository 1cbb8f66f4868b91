using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Statistics;
using static TorchSharp.torch;

namespace Intriguing.Training.Adversarial;

/// <summary>A rate k/n with its 95% Wilson interval.</summary>
public sealed record Rate(double Value, int Count, double Lower, double Upper)
{
    /// <summary><paramref name="hits"/> of <paramref name="count"/> with its 95% Wilson interval; NaN with count 0 when <paramref name="count"/> is 0.</summary>
    public static Rate Of(int hits, int count)
    {
        if (count == 0)
        {
            return new Rate(double.NaN, 0, double.NaN, double.NaN);
        }
        double[] interval = Statistics.WilsonInterval.Of(hits, count);
        return new Rate((double)hits / count, count, interval[0], interval[1]);
    }
}

/// <summary>
/// How one model stands up to attacks, measured the same way for a trained model and its baseline: clean test error
/// on the whole test set; FGSM error at each of <see cref="RobustnessEvaluation.FgsmEpsilons"/>; PGD-40 L-inf error
/// (random start, step 0.01) at each of <see cref="RobustnessEvaluation.PgdEpsilons"/>; the mean L-BFGS minimal
/// distortion (targeted at a random wrong class, the paper's setting) over its successes, with its sample size and
/// standard deviation. The per-image outcomes (<see cref="PairedComparison.Encode"/>: which test images the model gets
/// wrong, which ones each attack fools) are kept so that two models measured on the same images are compared with a
/// paired test; null in results made by hand.
/// </summary>
public sealed record Robustness(
    Rate TestError,
    IReadOnlyDictionary<string, Rate> FgsmErrorByEps,
    IReadOnlyDictionary<string, Rate> PgdErrorByEps,
    double LbfgsMeanDistortion,
    double LbfgsMedianDistortion,
    int LbfgsSuccesses,
    int LbfgsAttempted,
    double Seconds)
{
    /// <summary>The test images the model gets wrong, in order ('1' wrong).</summary>
    public string? CleanWrong { get; init; }

    /// <summary>Per eps, the attacked images FGSM fools, in order ('1' fooled or wrong).</summary>
    public IReadOnlyDictionary<string, string>? FgsmFooled { get; init; }

    /// <summary>Per eps, the attacked images PGD-40 fools, in order.</summary>
    public IReadOnlyDictionary<string, string>? PgdFooled { get; init; }

    /// <summary>The standard deviation of the L-BFGS minimal distortions over the successes (NaN when unknown).</summary>
    public double LbfgsDistortionStdDev { get; init; } = double.NaN;
}

/// <summary>
/// Which images each measurement uses (the first n of the test set) and the seed of PGD's random starts and L-BFGS's
/// targets. <see cref="MaskingCount"/> images (0: none) get the gradient-masking checks (<see cref="MaskingCheck"/>)
/// with <see cref="MaskingRestarts"/> PGD restarts.
/// </summary>
public sealed record EvaluationSettings(int RobustCount = 10_000, int LbfgsCount = 1000, int Seed = 0, int BatchSize = 500,
    int MaskingCount = 1000, int MaskingRestarts = 10)
{
    /// <summary>The AutoAttack cascade the masking checks run beside PGD-40 (the fast one by default: see docs/evaluation.md).</summary>
    public AutoAttackVersion Cascade { get; init; } = AutoAttackVersion.Fast;
}

/// <summary>
/// The gradient-masking checks of an adversarially trained model (Athalye et al. 2018's warning signs), on the first
/// <see cref="Count"/> test images at each of <see cref="RobustnessEvaluation.PgdEpsilons"/>: the error under plain
/// PGD-40, under PGD-40 with <see cref="Restarts"/> random restarts (an image counts if any restart fools it), and
/// under PGD-40 examples made on the naturally trained model of the same architecture (a transfer attack, which never
/// sees the trained model's gradients), and under single-step FGSM at the same eps. Each is compared with plain PGD-40
/// on the same images by a paired test (<see cref="PairedComparison"/>). Three signs of masking
/// (<see cref="MaskingSigns"/>): restarts fool more than plain PGD by more than <see cref="RobustnessEvaluation.MaskingMargin"/>
/// (the excess's whole 95% interval above it); a transfer attack fools more than the white-box one; one FGSM step fools
/// more than 40 PGD steps (the classic sign of an FGSM-trained model). The last two are shown by the test at 5%. A
/// check that cannot tell at this many images (the interval reaches across the margin, say) says so in
/// <see cref="Undecided"/>; none of this proves the absence of masking.
/// </summary>
public sealed record MaskingCheck(
    int Count,
    int Restarts,
    IReadOnlyDictionary<string, Rate> PgdError,
    IReadOnlyDictionary<string, Rate> RestartsError,
    IReadOnlyDictionary<string, Rate> TransferError,
    bool Suspect,
    double Seconds)
{
    /// <summary>Per eps, FGSM's error on the same images.</summary>
    public IReadOnlyDictionary<string, Rate> FgsmError { get; init; } = new Dictionary<string, Rate>();

    /// <summary>Per eps, restarts minus plain PGD-40, paired.</summary>
    public IReadOnlyDictionary<string, PairedComparison> RestartsExcess { get; init; } = new Dictionary<string, PairedComparison>();

    /// <summary>Per eps, transfer minus plain PGD-40, paired.</summary>
    public IReadOnlyDictionary<string, PairedComparison> TransferExcess { get; init; } = new Dictionary<string, PairedComparison>();

    /// <summary>Per eps, FGSM minus plain PGD-40, paired.</summary>
    public IReadOnlyDictionary<string, PairedComparison> FgsmExcess { get; init; } = new Dictionary<string, PairedComparison>();

    /// <summary>Per eps, the error under the AutoAttack cascade (<see cref="CascadeVersion"/>) on the same images: clean errors plus every image some attack broke.</summary>
    public IReadOnlyDictionary<string, Rate> AutoAttackError { get; init; } = new Dictionary<string, Rate>();

    /// <summary>Per eps, the cascade minus plain PGD-40, paired: what PGD-40 misses.</summary>
    public IReadOnlyDictionary<string, PairedComparison> AutoAttackExcess { get; init; } = new Dictionary<string, PairedComparison>();

    /// <summary>Per eps, how many images each stage of the cascade broke (the first to break an image gets it).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> AutoAttackBrokeBy { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, int>>();

    /// <summary>"fast" or "standard"; null in results from before the cascade was run.</summary>
    public string? CascadeVersion { get; init; }

    /// <summary>The cascade's own checks (randomness, probabilities, zero gradients, Square beyond the gradient attacks).</summary>
    public IReadOnlyList<string> AutoAttackWarnings { get; init; } = [];

    /// <summary>The signs found, one sentence each (empty: no sign in these checks).</summary>
    public IReadOnlyList<string> Signs { get; init; } = [];

    /// <summary>Checks that could not decide at this many images, one sentence each.</summary>
    public IReadOnlyList<string> Undecided { get; init; } = [];
}

/// <summary>The rule that reads a <see cref="MaskingCheck"/>'s paired comparisons (see there), kept apart so it is tested on made-up counts.</summary>
public static class MaskingSigns
{
    /// <summary>The signs and the undecided checks at one eps.</summary>
    public static (IReadOnlyList<string> Signs, IReadOnlyList<string> Undecided) Read(string eps, PairedComparison restarts, PairedComparison transfer, PairedComparison fgsm,
        double margin = RobustnessEvaluation.MaskingMargin)
    {
        var signs = new List<string>();
        var undecided = new List<string>();
        string points = FormattableString.Invariant($"{margin * 100:0.#}");
        if (restarts.Lower > margin)
        {
            signs.Add($"eps {eps}: restarts fool more than plain PGD-40 by over {points} points ({restarts.Describe("by restarts only", "by plain only")})");
        }
        else if (restarts.Upper > margin)
        {
            undecided.Add($"eps {eps}: the restarts' excess over plain PGD-40 may exceed {points} points at this sample size ({restarts.Describe("by restarts only", "by plain only")})");
        }
        if (transfer.FirstHigher)
        {
            signs.Add($"eps {eps}: examples transferred from the natural model fool more than white-box PGD-40 ({transfer.Describe("by transfer only", "by white-box only")})");
        }
        if (fgsm.FirstHigher)
        {
            signs.Add($"eps {eps}: one FGSM step fools more than 40 PGD steps ({fgsm.Describe("by FGSM only", "by PGD only")})");
        }
        return (signs, undecided);
    }
}

/// <summary>
/// The one evaluation every adversarially trained model and its baseline get (<see cref="Robustness"/>), and the
/// gradient-masking checks (<see cref="MaskingCheck"/>).
/// </summary>
public static class RobustnessEvaluation
{
    /// <summary>The FGSM eps evaluated, pixel units: 0.1 and Goodfellow et al.'s 0.25.</summary>
    public static readonly IReadOnlyList<double> FgsmEpsilons = [0.1, 0.25];

    /// <summary>The PGD-40 eps evaluated, pixel units: 0.1 and Madry et al.'s 0.3.</summary>
    public static readonly IReadOnlyList<double> PgdEpsilons = [0.1, 0.3];

    /// <summary>The key of an eps in the JSON maps: a plain invariant decimal ("0.1", "0.25").</summary>
    public static string Key(double epsilon) => epsilon.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>PGD-40 L-inf at <paramref name="epsilon"/>: steps of 0.01 from a random start seeded with <paramref name="seed"/>.</summary>
    public static PgdLinf Pgd40(double epsilon, int seed) => new() { Epsilon = epsilon, StepSize = 0.01, Steps = 40, RandomStart = true, Seed = seed };

    /// <summary>L-BFGS with its defaults, for the minimal distortion.</summary>
    public static readonly BoxConstrainedLbfgs Lbfgs = new();

    /// <summary>How much more (as a fraction of the images) restarts or transfer may fool than plain PGD before masking is suspected.</summary>
    public const double MaskingMargin = 0.05;

    /// <summary>The masking checks' settings, for the key of their cached result.</summary>
    public static string DescribeMasking(EvaluationSettings settings) =>
        string.Join(";", PgdEpsilons.Select(eps => (Pgd40(eps, settings.Seed) with { Restarts = settings.MaskingRestarts }).Describe())
            .Append(new Fgsm().Describe())
            .Concat(PgdEpsilons.SelectMany(eps => AutoAttack.Stages(settings.Cascade, ThreatNorm.Linf, eps, settings.Seed).Select(stage => stage.Attack.Describe())))
            .Append(string.Create(CultureInfo.InvariantCulture, $"maskingCount={settings.MaskingCount},margin={MaskingMargin},paired,cascade starts keyed on image index")));

    /// <summary>
    /// Runs the gradient-masking checks of <paramref name="model"/> (see <see cref="MaskingCheck"/>), the transfer
    /// examples made on <paramref name="natural"/>. <paramref name="measured"/>, the model's own <see cref="Evaluate"/>
    /// with the same settings, lends its plain PGD-40 outcomes on the first images instead of running that attack again
    /// (same attack, seed and images, each image's start keyed on its index: the same outcomes).
    /// </summary>
    public static MaskingCheck CheckMasking(Classifier model, Classifier natural, LabeledImages testSet, EvaluationSettings settings,
        IProgress<ProgressUpdate>? progress = null, string name = "", Robustness? measured = null)
    {
        if (settings.MaskingCount < 1 || settings.MaskingRestarts < 1)
        {
            throw new BadInputException($"masking checks need at least one image and one restart; got {settings.MaskingCount} and {settings.MaskingRestarts}");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        using var set = testSet.Slice(0, Math.Min(settings.MaskingCount, testSet.Count));
        var plain = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        var restarts = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        var transfer = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        var fgsm = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        var restartsExcess = new SortedDictionary<string, PairedComparison>(StringComparer.Ordinal);
        var transferExcess = new SortedDictionary<string, PairedComparison>(StringComparer.Ordinal);
        var fgsmExcess = new SortedDictionary<string, PairedComparison>(StringComparer.Ordinal);
        var cascadeError = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        var cascadeExcess = new SortedDictionary<string, PairedComparison>(StringComparer.Ordinal);
        var cascadeBrokeBy = new SortedDictionary<string, IReadOnlyDictionary<string, int>>(StringComparer.Ordinal);
        var cascadeWarnings = new List<string>();
        var signs = new List<string>();
        var undecided = new List<string>();
        foreach (double eps in PgdEpsilons)
        {
            string key = Key(eps);
            var pgd = Pgd40(eps, settings.Seed);
            var plainFooled = measured?.PgdFooled is { } lent && lent.TryGetValue(key, out var encoded) && encoded.Length >= set.Count
                ? PairedComparison.Decode(encoded)[..set.Count]
                : FooledBy(pgd, model, set, null, settings, progress, $"{name} masking: pgd-40 eps {key}");
            var restartsFooled = FooledBy(pgd with { Restarts = settings.MaskingRestarts }, model, set, null, settings, progress,
                $"{name} masking: pgd-40 x {settings.MaskingRestarts} restarts eps {key}");
            var transferFooled = TransferFooled(pgd, natural, model, set, settings, progress, $"{name} masking: pgd-40 eps {key} from the natural model");
            var fgsmFooled = FooledBy(new Fgsm { Epsilon = eps }, model, set, null, settings, progress, $"{name} masking: fgsm eps {key}");
            using (var cascade = AutoAttack.Run(model, set.Images.to(model.Device), set.Labels.to(model.Device), eps, ThreatNorm.Linf, settings.Cascade, settings.Seed, settings.BatchSize,
                progress.Renamed($"{name} masking: autoattack eps {key}")))
            {
                var cascadeFooled = cascade.Images.Select(image => !image.Robust).ToArray();
                cascadeError[key] = RateOf(cascadeFooled);
                cascadeExcess[key] = PairedComparison.Of(cascadeFooled, plainFooled);
                cascadeBrokeBy[key] = cascade.Stages.ToDictionary(stage => stage.Name, stage => stage.BrokeImages);
                cascadeWarnings.AddRange(cascade.Warnings.Select(warning => $"eps {key}: {warning}"));
                if (cascadeExcess[key].Lower > MaskingMargin)
                {
                    signs.Add($"eps {key}: AutoAttack ({settings.Cascade.ToString().ToLowerInvariant()}) fools more than plain PGD-40 by over " +
                        FormattableString.Invariant($"{MaskingMargin * 100:0.#}") + $" points ({cascadeExcess[key].Describe("by AutoAttack only", "by PGD-40 only")}): PGD-40 overstates this model's robustness");
                }
            }
            plain[key] = RateOf(plainFooled);
            restarts[key] = RateOf(restartsFooled);
            transfer[key] = RateOf(transferFooled);
            fgsm[key] = RateOf(fgsmFooled);
            restartsExcess[key] = PairedComparison.Of(restartsFooled, plainFooled);
            transferExcess[key] = PairedComparison.Of(transferFooled, plainFooled);
            fgsmExcess[key] = PairedComparison.Of(fgsmFooled, plainFooled);
            var read = MaskingSigns.Read(key, restartsExcess[key], transferExcess[key], fgsmExcess[key]);
            signs.AddRange(read.Signs);
            undecided.AddRange(read.Undecided);
        }
        return new MaskingCheck(set.Count, settings.MaskingRestarts, plain, restarts, transfer, signs.Count > 0, clock.Elapsed.TotalSeconds)
        {
            FgsmError = fgsm,
            RestartsExcess = restartsExcess,
            TransferExcess = transferExcess,
            FgsmExcess = fgsmExcess,
            Signs = signs,
            Undecided = undecided,
            AutoAttackError = cascadeError,
            AutoAttackExcess = cascadeExcess,
            AutoAttackBrokeBy = cascadeBrokeBy,
            CascadeVersion = settings.Cascade.ToString().ToLowerInvariant(),
            AutoAttackWarnings = cascadeWarnings,
        };
    }

    private static Rate RateOf(IReadOnlyList<bool> fooled) => Rate.Of(fooled.Count(wrong => wrong), fooled.Count);

    /// <summary>Which images <paramref name="target"/> gets wrong among the examples <paramref name="attack"/> made on <paramref name="source"/>.</summary>
    private static bool[] TransferFooled(Attack attack, Classifier source, Classifier target, LabeledImages set, EvaluationSettings settings,
        IProgress<ProgressUpdate>? progress, string task)
    {
        using var scope = NewDisposeScope();
        var adversarials = attack.Run(source, set.Images.to(source.Device), set.Labels.to(source.Device), null, settings.BatchSize, Forward(progress, task)).Adversarials;
        // The examples with the set's own labels; both tensors belong to this scope and the caller, so the set is not disposed.
        return ClassificationErrors.Wrong(target, new LabeledImages(adversarials, set.Labels), settings.BatchSize);
    }

    /// <summary>Every attack's settings, for fingerprints.</summary>
    public static string Describe(EvaluationSettings settings) =>
        string.Join(";", FgsmEpsilons.Select(eps => new Fgsm { Epsilon = eps }.Describe())
            .Concat(PgdEpsilons.Select(eps => Pgd40(eps, settings.Seed).Describe()))
            .Append(Lbfgs.Describe())
            .Append(string.Create(CultureInfo.InvariantCulture, $"robustCount={settings.RobustCount},lbfgsCount={settings.LbfgsCount},per-image outcomes")));

    /// <summary>
    /// Measures <paramref name="model"/> on <paramref name="testSet"/>: clean error on all of it, the attacks on the first
    /// <see cref="EvaluationSettings.RobustCount"/> and <see cref="EvaluationSettings.LbfgsCount"/> images, with progress
    /// named after <paramref name="name"/>.
    /// </summary>
    public static Robustness Evaluate(Classifier model, LabeledImages testSet, EvaluationSettings settings, IProgress<ProgressUpdate>? progress = null, string name = "")
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var cleanWrong = ClassificationErrors.Wrong(model, testSet);
        var testError = RateOf(cleanWrong);
        using var robust = testSet.Slice(0, Math.Min(settings.RobustCount, testSet.Count));
        var fgsm = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        var fgsmFooled = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (double eps in FgsmEpsilons)
        {
            var fooled = FooledBy(new Fgsm { Epsilon = eps }, model, robust, null, settings, progress, $"{name} fgsm eps {Key(eps)}");
            fgsm[Key(eps)] = RateOf(fooled);
            fgsmFooled[Key(eps)] = PairedComparison.Encode(fooled);
        }
        var pgd = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        var pgdFooled = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (double eps in PgdEpsilons)
        {
            var fooled = FooledBy(Pgd40(eps, settings.Seed), model, robust, null, settings, progress, $"{name} pgd-40 eps {Key(eps)}");
            pgd[Key(eps)] = RateOf(fooled);
            pgdFooled[Key(eps)] = PairedComparison.Encode(fooled);
        }
        using var lbfgsSet = testSet.Slice(0, Math.Min(settings.LbfgsCount, testSet.Count));
        var targets = AttackTargets.RandomWrong(lbfgsSet.Labels, settings.Seed, model.ClassCount);
        var lbfgsRun = Lbfgs.Run(model, lbfgsSet.Images.to(model.Device), lbfgsSet.Labels.to(model.Device), targets.to(model.Device), settings.BatchSize,
            Forward(progress, $"{name} lbfgs"));
        var lbfgs = lbfgsRun.Summary;
        var distortions = lbfgsRun.Examples.Where(example => example.OriginallyCorrect && example.Success).Select(example => example.Distortion).ToList();
        double spread = distortions.Count > 1
            ? Math.Sqrt(distortions.Sum(value => (value - distortions.Average()) * (value - distortions.Average())) / (distortions.Count - 1))
            : double.NaN;
        return new Robustness(testError, fgsm, pgd, lbfgs.MeanDistortion, lbfgs.MedianDistortion, lbfgs.Successes, lbfgs.Attempted, clock.Elapsed.TotalSeconds)
        {
            CleanWrong = PairedComparison.Encode(cleanWrong),
            FgsmFooled = fgsmFooled,
            PgdFooled = pgdFooled,
            LbfgsDistortionStdDev = spread,
        };
    }

    /// <summary>Which images the model gets wrong after <paramref name="attack"/> (checked by the attack's fresh forward pass), in order.</summary>
    private static bool[] FooledBy(Attack attack, Classifier model, LabeledImages set, Tensor? targets, EvaluationSettings settings,
        IProgress<ProgressUpdate>? progress, string task)
    {
        using var scope = NewDisposeScope();
        var examples = attack.Run(model, set.Images.to(model.Device), set.Labels.to(model.Device), targets?.to(model.Device), settings.BatchSize, Forward(progress, task)).Examples;
        // The examples come in the set's order, one per image.
        return examples.Select(example => example.FinalPrediction != example.Label).ToArray();
    }

    private static IProgress<ProgressUpdate>? Forward(IProgress<ProgressUpdate>? progress, string task) =>
        progress is null ? null : new Progress(update => progress.Report(update with { Task = task }));

    private sealed class Progress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
