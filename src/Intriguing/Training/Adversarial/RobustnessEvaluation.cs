using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Training.Adversarial;

/// <summary>A rate k/n with its 95% Wilson interval.</summary>
public sealed record Rate(double Value, int Count, double Lower, double Upper)
{
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
/// distortion (targeted at a random wrong class, the paper's setting) over its successes, with its sample size.
/// </summary>
public sealed record Robustness(
    Rate TestError,
    IReadOnlyDictionary<string, Rate> FgsmErrorByEps,
    IReadOnlyDictionary<string, Rate> PgdErrorByEps,
    double LbfgsMeanDistortion,
    double LbfgsMedianDistortion,
    int LbfgsSuccesses,
    int LbfgsAttempted,
    double Seconds);

/// <summary>
/// Which images each measurement uses (the first n of the test set) and the seed of PGD's random starts and L-BFGS's
/// targets. <see cref="MaskingCount"/> images (0: none) get the gradient-masking checks (<see cref="MaskingCheck"/>)
/// with <see cref="MaskingRestarts"/> PGD restarts.
/// </summary>
public sealed record EvaluationSettings(int RobustCount = 10_000, int LbfgsCount = 1000, int Seed = 0, int BatchSize = 500,
    int MaskingCount = 1000, int MaskingRestarts = 10);

/// <summary>
/// The gradient-masking checks of an adversarially trained model (Athalye et al. 2018's warning signs), on the first
/// <see cref="Count"/> test images at each of <see cref="RobustnessEvaluation.PgdEpsilons"/>: the error under plain
/// PGD-40, under PGD-40 with <see cref="Restarts"/> random restarts (an image counts if any restart fools it), and
/// under PGD-40 examples made on the naturally trained model of the same architecture (a transfer attack, which never
/// sees the trained model's gradients). A model whose gradients are informative loses little to restarts and more to
/// its own gradients than to another model's: <see cref="Suspect"/> is true when, at some eps, restarts or transfer
/// beat plain PGD by more than <see cref="RobustnessEvaluation.MaskingMargin"/>.
/// </summary>
public sealed record MaskingCheck(
    int Count,
    int Restarts,
    IReadOnlyDictionary<string, Rate> PgdError,
    IReadOnlyDictionary<string, Rate> RestartsError,
    IReadOnlyDictionary<string, Rate> TransferError,
    bool Suspect,
    double Seconds);

public static class RobustnessEvaluation
{
    public static readonly IReadOnlyList<double> FgsmEpsilons = [0.1, 0.25];

    public static readonly IReadOnlyList<double> PgdEpsilons = [0.1, 0.3];

    /// <summary>The key of an eps in the JSON maps: a plain invariant decimal ("0.1", "0.25").</summary>
    public static string Key(double epsilon) => epsilon.ToString("0.###", CultureInfo.InvariantCulture);

    public static PgdLinf Pgd40(double epsilon, int seed) => new() { Epsilon = epsilon, StepSize = 0.01, Steps = 40, RandomStart = true, Seed = seed };

    public static readonly BoxConstrainedLbfgs Lbfgs = new();

    /// <summary>How much more (as a fraction of the images) restarts or transfer may fool than plain PGD before masking is suspected.</summary>
    public const double MaskingMargin = 0.05;

    /// <summary>The masking checks' settings, for the key of their cached result.</summary>
    public static string DescribeMasking(EvaluationSettings settings) =>
        string.Join(";", PgdEpsilons.Select(eps => (Pgd40(eps, settings.Seed) with { Restarts = settings.MaskingRestarts }).Describe())
            .Append(string.Create(CultureInfo.InvariantCulture, $"maskingCount={settings.MaskingCount},margin={MaskingMargin}")));

    /// <summary>
    /// Runs the gradient-masking checks of <paramref name="model"/> (see <see cref="MaskingCheck"/>), the transfer
    /// examples made on <paramref name="natural"/>.
    /// </summary>
    public static MaskingCheck CheckMasking(Classifier model, Classifier natural, LabeledImages testSet, EvaluationSettings settings,
        IProgress<ProgressUpdate>? progress = null, string name = "")
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
        bool suspect = false;
        foreach (double eps in PgdEpsilons)
        {
            string key = Key(eps);
            var pgd = Pgd40(eps, settings.Seed);
            plain[key] = ErrorOf(pgd, model, set, null, settings, progress, $"{name} masking: pgd-40 eps {key}");
            restarts[key] = ErrorOf(pgd with { Restarts = settings.MaskingRestarts }, model, set, null, settings, progress,
                $"{name} masking: pgd-40 x {settings.MaskingRestarts} restarts eps {key}");
            transfer[key] = TransferError(pgd, natural, model, set, settings, progress, $"{name} masking: pgd-40 eps {key} from the natural model");
            suspect |= restarts[key].Value - plain[key].Value > MaskingMargin || transfer[key].Value - plain[key].Value > MaskingMargin;
        }
        return new MaskingCheck(set.Count, settings.MaskingRestarts, plain, restarts, transfer, suspect, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The error of <paramref name="target"/> on examples <paramref name="attack"/> made on <paramref name="source"/>.</summary>
    private static Rate TransferError(Attack attack, Classifier source, Classifier target, LabeledImages set, EvaluationSettings settings,
        IProgress<ProgressUpdate>? progress, string task)
    {
        using var scope = NewDisposeScope();
        var adversarials = attack.Run(source, set.Images, set.Labels, null, settings.BatchSize, Forward(progress, task)).Adversarials;
        // The examples with the set's own labels; both tensors belong to this scope and the caller, so the set is not disposed.
        double error = Evaluation.ErrorRate(target, new LabeledImages(adversarials, set.Labels), settings.BatchSize);
        return Rate.Of((int)Math.Round(error * set.Count), set.Count);
    }

    /// <summary>Every attack's settings, for fingerprints.</summary>
    public static string Describe(EvaluationSettings settings) =>
        string.Join(";", FgsmEpsilons.Select(eps => new Fgsm { Epsilon = eps }.Describe())
            .Concat(PgdEpsilons.Select(eps => Pgd40(eps, settings.Seed).Describe()))
            .Append(Lbfgs.Describe())
            .Append(string.Create(CultureInfo.InvariantCulture, $"robustCount={settings.RobustCount},lbfgsCount={settings.LbfgsCount}")));

    public static Robustness Evaluate(Classifier model, LabeledImages testSet, EvaluationSettings settings, IProgress<ProgressUpdate>? progress = null, string name = "")
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        int wrong = (int)Math.Round(Evaluation.ErrorRate(model, testSet) * testSet.Count);
        var testError = Rate.Of(wrong, testSet.Count);
        using var robust = testSet.Slice(0, Math.Min(settings.RobustCount, testSet.Count));
        var fgsm = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        foreach (double eps in FgsmEpsilons)
        {
            fgsm[Key(eps)] = ErrorOf(new Fgsm { Epsilon = eps }, model, robust, null, settings, progress, $"{name} fgsm eps {Key(eps)}");
        }
        var pgd = new SortedDictionary<string, Rate>(StringComparer.Ordinal);
        foreach (double eps in PgdEpsilons)
        {
            pgd[Key(eps)] = ErrorOf(Pgd40(eps, settings.Seed), model, robust, null, settings, progress, $"{name} pgd-40 eps {Key(eps)}");
        }
        using var lbfgsSet = testSet.Slice(0, Math.Min(settings.LbfgsCount, testSet.Count));
        var targets = AttackTargets.RandomWrong(lbfgsSet.Labels, settings.Seed, model.ClassCount);
        var lbfgs = Lbfgs.Run(model, lbfgsSet.Images, lbfgsSet.Labels, targets, settings.BatchSize, Forward(progress, $"{name} lbfgs")).Summary;
        return new Robustness(testError, fgsm, pgd, lbfgs.MeanDistortion, lbfgs.MedianDistortion, lbfgs.Successes, lbfgs.Attempted, clock.Elapsed.TotalSeconds);
    }

    private static Rate ErrorOf(Attack attack, Classifier model, LabeledImages set, Tensor? targets, EvaluationSettings settings,
        IProgress<ProgressUpdate>? progress, string task)
    {
        using var scope = NewDisposeScope();
        var summary = attack.Run(model, set.Images, set.Labels, targets, settings.BatchSize, Forward(progress, task)).Summary;
        int errors = (int)Math.Round(summary.ErrorRate * summary.Count);
        return Rate.Of(errors, summary.Count);
    }

    private static IProgress<ProgressUpdate>? Forward(IProgress<ProgressUpdate>? progress, string task) =>
        progress is null ? null : new Progress(update => progress.Report(update with { Task = task }));

    private sealed class Progress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
