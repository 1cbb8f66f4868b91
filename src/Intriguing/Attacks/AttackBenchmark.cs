using System.Diagnostics;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// Throughput of the attacks against the floor they cannot beat, measured in one run on one model and batch:
/// <list type="bullet">
/// <item>raw: a plain TorchSharp loop of forward + cross-entropy + torch.autograd.grad with respect to the images
/// (the cheapest way to get input gradients; the attacks use the same call);</item>
/// <item>PGD (L-inf, no random start) and targeted box-constrained L-BFGS with its c search on the same batch:
/// per-image gradient evaluations divided by wall time.</item>
/// </list>
/// The ratio is (all attack gradient evaluations / all attack seconds) over the raw rate; per-attack ratios are
/// reported too. Each part is warmed up first, and the raw loop runs before and after the attacks (averaged), so a
/// change in machine load during the run affects both sides.
/// </summary>
public static class AttackBenchmark
{
    public sealed record Result(
        int Batch,
        double RawGradientsPerSecond,
        double PgdGradientsPerSecond,
        double LbfgsGradientsPerSecond,
        double AttackGradientsPerSecond,
        double Ratio,
        double PgdRatio,
        double LbfgsRatio,
        double LbfgsImagesPerSecond,
        double LbfgsGradientsPerImage,
        double LbfgsSuccessRate,
        double LbfgsMeanDistortion,
        int Threads);

    public static Result Run(Classifier model, Tensor images, Tensor labels, int rawIterations = 100, int pgdSteps = 100,
        IProgress<ProgressUpdate>? progress = null)
    {
        using var scope = NewDisposeScope();
        int batch = (int)images.shape[0];
        var targets = AttackTargets.RandomWrong(labels, seed: 0);
        var pgd = new PgdLinf { Steps = pgdSteps, RandomStart = false };
        var lbfgs = new BoxConstrainedLbfgs();

        // Warm-up: first calls pay for allocation and kernel selection.
        RawLoop(model, images, labels, 3);
        new PgdLinf { Steps = 2, RandomStart = false }.Run(model, images, labels, batchSize: batch);
        // A short L-BFGS run on the whole batch also maps the optimiser's pooled state into memory.
        new BoxConstrainedLbfgs { SearchSteps = 1, MaxIterations = 3, History = lbfgs.History }
            .Run(model, images, labels, targets, batchSize: batch);
        progress?.Report(new ProgressUpdate("bench", 1, 5, "warm-up done"));

        double rawBefore = RawLoop(model, images, labels, rawIterations);
        progress?.Report(new ProgressUpdate("bench", 2, 5, "raw loop"));
        var pgdSummary = pgd.Run(model, images, labels, batchSize: batch).Summary;
        progress?.Report(new ProgressUpdate("bench", 3, 5, "pgd"));
        var lbfgsSummary = lbfgs.Run(model, images, labels, targets, batchSize: batch).Summary;
        progress?.Report(new ProgressUpdate("bench", 4, 5, "lbfgs"));
        double rawAfter = RawLoop(model, images, labels, rawIterations);
        progress?.Report(new ProgressUpdate("bench", 5, 5, "raw loop"));

        double raw = (rawBefore + rawAfter) / 2;
        double pgdRate = pgdSummary.GradientEvaluations / pgdSummary.Seconds;
        double lbfgsRate = lbfgsSummary.GradientEvaluations / lbfgsSummary.Seconds;
        double attackRate = (pgdSummary.GradientEvaluations + lbfgsSummary.GradientEvaluations)
            / (pgdSummary.Seconds + lbfgsSummary.Seconds);
        return new Result(
            batch, raw, pgdRate, lbfgsRate, attackRate, attackRate / raw, pgdRate / raw, lbfgsRate / raw,
            lbfgsSummary.ImagesPerSecond, lbfgsSummary.GradientEvaluationsPerImage, lbfgsSummary.SuccessRate,
            lbfgsSummary.MeanDistortion, torch.get_num_threads());
    }

    /// <summary>Per-image gradients per second of the plain loop.</summary>
    private static double RawLoop(Classifier model, Tensor images, Tensor labels, int iterations)
    {
        var stopwatch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            using var iterationScope = NewDisposeScope();
            using var gradientOn = torch.enable_grad();
            var input = images.detach().requires_grad_(true);
            var loss = nn.functional.cross_entropy(model.forward(input), labels);
            _ = torch.autograd.grad([loss], [input])[0];
        }
        return (double)iterations * images.shape[0] / stopwatch.Elapsed.TotalSeconds;
    }
}
