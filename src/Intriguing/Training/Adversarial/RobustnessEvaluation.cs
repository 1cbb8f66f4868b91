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
        const double z = 1.959963984540054;
        double p = (double)hits / count;
        double denominator = 1 + z * z / count;
        double centre = (p + z * z / (2 * count)) / denominator;
        double half = z * Math.Sqrt(p * (1 - p) / count + z * z / (4.0 * count * count)) / denominator;
        return new Rate(p, count, Math.Max(0, centre - half), Math.Min(1, centre + half));
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

/// <summary>Which images each measurement uses (the first n of the test set) and the seed of PGD's random starts and L-BFGS's targets.</summary>
public sealed record EvaluationSettings(int RobustCount = 10_000, int LbfgsCount = 1000, int Seed = 0, int BatchSize = 500);

public static class RobustnessEvaluation
{
    public static readonly IReadOnlyList<double> FgsmEpsilons = [0.1, 0.25];

    public static readonly IReadOnlyList<double> PgdEpsilons = [0.1, 0.3];

    /// <summary>The key of an eps in the JSON maps: a plain invariant decimal ("0.1", "0.25").</summary>
    public static string Key(double epsilon) => epsilon.ToString("0.###", CultureInfo.InvariantCulture);

    public static PgdLinf Pgd40(double epsilon, int seed) => new() { Epsilon = epsilon, StepSize = 0.01, Steps = 40, RandomStart = true, Seed = seed };

    public static readonly BoxConstrainedLbfgs Lbfgs = new();

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
