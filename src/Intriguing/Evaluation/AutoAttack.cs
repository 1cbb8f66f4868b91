using System.Diagnostics;
using Intriguing.Attacks;
using Intriguing.Models;
using Intriguing.Statistics;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>The norm of a robustness evaluation's threat model.</summary>
public enum ThreatNorm
{
    /// <summary>The L-inf ball: every value within eps of the clean one.</summary>
    Linf,
    /// <summary>The L2 ball: the perturbation's Euclidean norm at most eps.</summary>
    L2,
}

/// <summary>Which attacks the cascade runs.</summary>
public enum AutoAttackVersion
{
    /// <summary>AutoAttack's standard cascade: APGD-CE, APGD-T (9 targets), FAB-T (9 targets), Square (5,000 queries), one run each.</summary>
    Standard,

    /// <summary>The two APGD attacks only: most of the standard version's strength at a fraction of its time.</summary>
    Fast,
}

/// <summary>One attack of the cascade: its name and the attack value it runs.</summary>
public sealed record CascadeStage(string Name, Attack Attack);

/// <summary>
/// What one stage did: how many images it was given (the ones still robust), how many it broke, its time, its settings,
/// and the model passes it made summed over its images (<paramref name="Passes"/>: input-gradient evaluations for a
/// gradient attack, forward queries for Square; <paramref name="Gradients"/> says which).
/// </summary>
public sealed record StageResult(string Name, int Attacked, int BrokeImages, double Seconds, string Settings, long Passes = 0, bool Gradients = true);

/// <summary>One image's outcome: whether the model got it right, and which stage (if any) broke it, with the distance.</summary>
public sealed record ImageOutcome(int Index, bool CleanCorrect, string? BrokenBy, double Linf, double L2)
{
    /// <summary>Classified correctly and not broken by any stage.</summary>
    public bool Robust => CleanCorrect && BrokenBy is null;
}

/// <summary>
/// The cascade's result: per-image worst case (<see cref="Images"/>), the clean and robust accuracies with their 95%
/// Wilson intervals, what each stage did, the checks' warnings, and the adversarial points (the clean image where
/// nothing was found; float [N, D], detached from every dispose scope: the caller disposes it).
/// </summary>
public sealed record AutoAttackResult(
    double Epsilon,
    ThreatNorm Norm,
    AutoAttackVersion Version,
    int Count,
    double CleanAccuracy,
    double RobustAccuracy,
    double[] RobustInterval,
    IReadOnlyList<StageResult> Stages,
    IReadOnlyList<ImageOutcome> Images,
    IReadOnlyList<string> Warnings,
    double Seconds,
    Tensor Adversarials) : IDisposable
{
    /// <summary>Frees <see cref="Adversarials"/>.</summary>
    public void Dispose() => Adversarials.Dispose();
}

/// <summary>
/// AutoAttack (Croce and Hein, ICML 2020, https://arxiv.org/abs/2003.01690): a fixed cascade of diverse attacks in which
/// an image counts as robust only if it is classified correctly and every attack fails on it. Each stage runs only on
/// the images still robust and keeps the first adversarial point found for each; every point is re-verified by a fresh
/// forward pass (<see cref="Attack.Run"/>) and lies in the eps-ball and the model's box. The checks of the reference
/// implementation (<see cref="AutoAttackChecks"/>) add warnings and never change a number.
/// </summary>
public static class AutoAttack
{
    /// <summary>The stages of <paramref name="version"/> at <paramref name="epsilon"/>, every random choice from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<CascadeStage> Stages(AutoAttackVersion version, ThreatNorm norm, double epsilon, int seed = 0)
    {
        if (!(epsilon > 0) || !double.IsFinite(epsilon))
        {
            throw new BadInputException($"--eps must be a finite number > 0; got {epsilon}");
        }
        Apgd Apgd(ApgdLoss loss) => norm == ThreatNorm.Linf
            ? new ApgdLinf { Epsilon = epsilon, Loss = loss, Seed = seed }
            : new ApgdL2 { Epsilon = epsilon, Loss = loss, Seed = seed };
        var stages = new List<CascadeStage>
        {
            new("apgd-ce", Apgd(ApgdLoss.CrossEntropy)),
            new("apgd-t", Apgd(ApgdLoss.TargetedDlr)),
        };
        if (version == AutoAttackVersion.Standard)
        {
            stages.AddRange(StandardTail(norm, epsilon, seed));
        }
        return stages;
    }

    /// <summary>FAB-T and Square, the standard version's last two stages.</summary>
    private static IEnumerable<CascadeStage> StandardTail(ThreatNorm norm, double epsilon, int seed)
    {
        yield return new CascadeStage(norm == ThreatNorm.Linf ? "fab-t" : "fab-t-l2", new FabTargeted { Epsilon = epsilon, Norm = norm, Seed = seed });
        // The reference's Square in the cascade: 5,000 queries with the 10,000-query schedule (not rescaled).
        yield return norm == ThreatNorm.Linf
            ? new CascadeStage("square", new SquareLinf { Epsilon = epsilon, Queries = 5000, Seed = seed, RescaleSchedule = false })
            : new CascadeStage("square-l2", new SquareL2 { Epsilon = epsilon, Queries = 5000, Seed = seed, RescaleSchedule = false });
    }

    /// <summary>
    /// The stages that need no gradient, for a score-only model (an ONNX file): Square with the cascade's settings, in
    /// either version (the fast version has no score-based stage of its own).
    /// </summary>
    public static IReadOnlyList<CascadeStage> ScoreOnlyStages(ThreatNorm norm, double epsilon, int seed = 0) =>
        [.. Stages(AutoAttackVersion.Standard, norm, epsilon, seed).Where(stage => !stage.Attack.NeedsGradients)];

    /// <summary>
    /// Runs the cascade on <paramref name="images"/> (float32 [N, D] or [N, ...shape], in the model's box) with
    /// <paramref name="labels"/>, <paramref name="batchSize"/> images at a time per stage, with progress per stage.
    /// A score-only model (<see cref="Classifier.ProvidesInputGradients"/> false) gets only the score-based stage
    /// (<see cref="ScoreOnlyStages"/>), and a warning says so. Every stage keys each image's random numbers on its index
    /// in the whole evaluation (<paramref name="firstImage"/> + its position here), never on its place among the images
    /// still robust: an image's outcome is the same whichever images are evaluated with it, in one run or split. A shard
    /// of a split run passes <paramref name="checksBefore"/>, the warnings of <see cref="AutoAttackChecks.Before"/> on
    /// the whole run's first images, so that every shard reports what the unsplit run would.
    /// </summary>
    public static AutoAttackResult Run(
        Classifier model,
        Tensor images,
        Tensor labels,
        double epsilon,
        ThreatNorm norm = ThreatNorm.Linf,
        AutoAttackVersion version = AutoAttackVersion.Standard,
        int seed = 0,
        int batchSize = 500,
        IProgress<ProgressUpdate>? progress = null,
        long firstImage = 0,
        IReadOnlyList<string>? checksBefore = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var stages = model.ProvidesInputGradients ? Stages(version, norm, epsilon, seed) : ScoreOnlyStages(norm, epsilon, seed);
        return RunStages(model, images, labels, epsilon, norm, version, stages, batchSize, progress, firstImage, checksBefore);
    }

    /// <summary><see cref="Run"/> with stages of the caller's choosing (a custom cascade, or tests).</summary>
    public static AutoAttackResult RunStages(
        Classifier model,
        Tensor images,
        Tensor labels,
        double epsilon,
        ThreatNorm norm,
        AutoAttackVersion version,
        IReadOnlyList<CascadeStage> stages,
        int batchSize = 500,
        IProgress<ProgressUpdate>? progress = null,
        long firstImage = 0,
        IReadOnlyList<string>? checksBefore = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (firstImage < 0)
        {
            throw new BadInputException($"the first image's index must be >= 0; got {firstImage}");
        }
        using var scope = NewDisposeScope();
        var stopwatch = Stopwatch.StartNew();
        var checkedInputs = AttackInputs.Check(model.Input, images, labels, null);
        var flat = checkedInputs.Inputs;
        var truth = checkedInputs.Labels;
        int count = (int)flat.shape[0];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var warnings = new List<string>();
            warnings.AddRange(checksBefore ?? AutoAttackChecks.Before(model, flat, truth));
            var adversarials = flat.clone();
            bool[] correct = model.Predict(flat).eq(truth).cpu().data<bool>().ToArray();
            string?[] brokenBy = new string?[count];
            var stageResults = new List<StageResult>();
            foreach (var stage in stages)
            {
                using var stageScope = NewDisposeScope();
                int[] robust = [.. Enumerable.Range(0, count).Where(i => correct[i] && brokenBy[i] is null)];
                var stageWatch = Stopwatch.StartNew();
                int broke = 0;
                long passes = 0;
                if (robust.Length > 0)
                {
                    var rows = tensor(robust.Select(i => (long)i).ToArray(), device: flat.device);
                    var stageProgress = progress.Renamed($"autoattack {stage.Name}");
                    var result = stage.Attack.Run(model, flat.index_select(0, rows), truth.index_select(0, rows), batchSize: batchSize, progress: stageProgress,
                        keys: [.. robust.Select(i => firstImage + i)]);
                    var found = new List<long>();
                    foreach (var example in result.Examples.Where(example => example.Success))
                    {
                        int image = robust[example.Index];
                        brokenBy[image] = stage.Name;
                        found.Add(example.Index);
                    }
                    broke = found.Count;
                    passes = result.Examples.Sum(example => (long)example.GradientEvaluations);
                    if (found.Count > 0)
                    {
                        var foundRows = tensor(found.ToArray(), device: flat.device);
                        adversarials.index_copy_(0, rows.index_select(0, foundRows), result.Adversarials.index_select(0, foundRows));
                    }
                    result.Adversarials.Dispose();
                }
                stageResults.Add(new StageResult(stage.Name, robust.Length, broke, stageWatch.Elapsed.TotalSeconds, stage.Attack.Describe(),
                    passes, stage.Attack.NeedsGradients));
            }
            warnings.AddRange(AutoAttackChecks.After(stageResults, count));

            var distances = Attacks.Distances.Distance.MeasureAll(flat, adversarials);
            float[] linf = distances.Linf.cpu().data<float>().ToArray();
            float[] l2 = distances.L2.cpu().data<float>().ToArray();
            var outcomes = Enumerable.Range(0, count)
                .Select(i => new ImageOutcome(i, correct[i], brokenBy[i], linf[i], l2[i]))
                .ToList();
            int robustCount = outcomes.Count(outcome => outcome.Robust);
            return new AutoAttackResult(
                epsilon, norm, version, count,
                (double)correct.Count(value => value) / count,
                (double)robustCount / count,
                WilsonInterval.Of(robustCount, count),
                stageResults, outcomes, warnings, stopwatch.Elapsed.TotalSeconds,
                adversarials.DetachFromDisposeScope());
        }
        finally
        {
            if (wasTraining)
            {
                model.train();
            }
        }
    }
}
