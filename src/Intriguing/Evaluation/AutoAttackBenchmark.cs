using Intriguing.Attacks;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// The cascade's throughput against the floors it cannot beat, measured in one run on one model and batch: its
/// gradient stages (APGD-CE, APGD-T, FAB-T) as image gradients per second against a plain TorchSharp forward+backward
/// loop over the whole batch, and its Square stage as forward queries per second against a plain forward loop. Both
/// raw loops run before and after the cascade and are averaged, so drift on a shared machine affects both sides alike.
/// The cascade's stages run on the images still robust, smaller batches than the raw loops', and everything they do
/// (projections, step-size control, bookkeeping, verification) is inside their time.
/// </summary>
public static class AutoAttackBenchmark
{
    /// <summary>
    /// The measurement: images, eps, the cascade's robust accuracy and seconds; its gradient stages' image gradients
    /// per second and the raw loop's, their ratio; Square's queries per second and the raw forward loop's, their ratio
    /// (null when Square ran on no image); and every stage as the cascade reported it.
    /// </summary>
    public sealed record Result(
        int Images,
        double Epsilon,
        double RobustAccuracy,
        double Seconds,
        double GradientsPerSecond,
        double RawGradientsPerSecond,
        double GradientRatio,
        double? QueriesPerSecond,
        double RawForwardsPerSecond,
        double? QueryRatio,
        IReadOnlyList<StageResult> Stages);

    /// <summary>
    /// Runs the raw loops, the <paramref name="version"/> cascade at <paramref name="epsilon"/> (L-inf) on
    /// <paramref name="images"/> [N, D] with <paramref name="labels"/>, and the raw loops again.
    /// </summary>
    /// <exception cref="BadInputException">eps outside (0, inf) or not finite.</exception>
    public static Result Run(Classifier model, Tensor images, Tensor labels, double epsilon, AutoAttackVersion version = AutoAttackVersion.Standard,
        int rawIterations = 20, int seed = 0, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var stages = AutoAttack.Stages(version, ThreatNorm.Linf, epsilon, seed);
        using var scope = NewDisposeScope();
        // Warm-up: first calls pay for allocation and kernel selection.
        AttackBenchmark.RawLoop(model, images, labels, 2);
        AttackBenchmark.RawForwardLoop(model, images, 2);
        double gradientsBefore = AttackBenchmark.RawLoop(model, images, labels, rawIterations);
        double forwardsBefore = AttackBenchmark.RawForwardLoop(model, images, rawIterations * 3);
        using var result = AutoAttack.RunStages(model, images, labels, epsilon, ThreatNorm.Linf, version, stages, batchSize: (int)images.shape[0], progress: progress);
        double gradientsAfter = AttackBenchmark.RawLoop(model, images, labels, rawIterations);
        double forwardsAfter = AttackBenchmark.RawForwardLoop(model, images, rawIterations * 3);

        var gradientStages = result.Stages.Where(stage => stage.Gradients).ToList();
        var queryStages = result.Stages.Where(stage => !stage.Gradients && stage.Passes > 0).ToList();
        double gradientSeconds = gradientStages.Sum(stage => stage.Seconds);
        double gradientRate = gradientSeconds > 0 ? gradientStages.Sum(stage => stage.Passes) / gradientSeconds : 0;
        double rawGradients = (gradientsBefore + gradientsAfter) / 2, rawForwards = (forwardsBefore + forwardsAfter) / 2;
        double? queryRate = queryStages.Count == 0 ? null : queryStages.Sum(stage => stage.Passes) / queryStages.Sum(stage => stage.Seconds);
        return new Result((int)images.shape[0], epsilon, result.RobustAccuracy, result.Seconds, gradientRate, rawGradients, gradientRate / rawGradients,
            queryRate, rawForwards, queryRate / rawForwards, result.Stages);
    }
}
