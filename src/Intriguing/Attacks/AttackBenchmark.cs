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
/// per-image gradient evaluations divided by wall time, everything the attack does included.</item>
/// </list>
/// Shared machines drift, so the parts are interleaved: raw, PGD, raw, L-BFGS, raw, repeated
/// <c>repetitions</c> times. Each attack's rate is divided by the mean of the raw rates measured just before and
/// just after it, and the repetition with the median combined ratio is reported whole. The combined ratio is (PGD's and
/// L-BFGS's gradient evaluations / their seconds) over the raw rate around them. Each part is warmed up first (the
/// L-BFGS warm-up also maps its pooled state for the whole batch).
/// </summary>
public static class AttackBenchmark
{
    /// <summary>One repetition's measurements; rates are per-image gradient evaluations per second.</summary>
    /// <param name="Batch">Images in the batch, N.</param>
    /// <param name="RawGradientsPerSecond">The plain TorchSharp loop, mean of the raw runs around the attacks.</param>
    /// <param name="PgdGradientsPerSecond">PGD (L-inf, no random start), everything it does included.</param>
    /// <param name="LbfgsGradientsPerSecond">Targeted box-constrained L-BFGS with its c search.</param>
    /// <param name="AttackGradientsPerSecond">PGD and L-BFGS together: their gradient evaluations over their seconds.</param>
    /// <param name="Ratio"><paramref name="AttackGradientsPerSecond"/> over <paramref name="RawGradientsPerSecond"/>.</param>
    /// <param name="PgdRatio">PGD's rate over the raw rates measured just before and after it.</param>
    /// <param name="LbfgsRatio">L-BFGS's rate over the raw rates measured just before and after it.</param>
    /// <param name="LbfgsImagesPerSecond">Images L-BFGS attacked per second.</param>
    /// <param name="LbfgsGradientsPerImage">Gradient evaluations L-BFGS spent per image, c search included.</param>
    /// <param name="LbfgsSuccessRate">L-BFGS's success rate, a fraction in [0,1].</param>
    /// <param name="LbfgsMeanDistortion">L-BFGS's mean distortion over successes (the paper's RMS measure).</param>
    /// <param name="Threads">TorchSharp's intra-op threads during the run.</param>
    /// <param name="Repetitions">How many interleaved repetitions were measured (the median one is reported).</param>
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
        int Threads,
        int Repetitions);

    /// <summary>
    /// Measures <paramref name="model"/> on <paramref name="images"/> (float [N, D] in its box) with true
    /// <paramref name="labels"/> (int64 [N]), the whole batch at once: <paramref name="rawIterations"/> passes per raw loop
    /// (default 100), PGD with <paramref name="pgdSteps"/> steps (default 100), <paramref name="repetitions"/> interleaved
    /// repetitions (default 3, at least 1), L-BFGS targets drawn with seed 0. Reports progress once per part.
    /// </summary>
    /// <returns>The repetition with the median combined ratio, whole.</returns>
    public static Result Run(Classifier model, Tensor images, Tensor labels, int rawIterations = 100, int pgdSteps = 100,
        int repetitions = 3, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        using var scope = NewDisposeScope();
        int batch = (int)images.shape[0];
        var targets = AttackTargets.RandomWrong(labels, seed: 0);
        var pgd = new PgdLinf { Steps = pgdSteps, RandomStart = false };
        var lbfgs = new BoxConstrainedLbfgs();
        int parts = 1 + 4 * repetitions, done = 0;
        void Report(string what) => progress?.Report(new ProgressUpdate("bench", ++done, parts, what));

        // Warm-up: first calls pay for allocation and kernel selection.
        RawLoop(model, images, labels, 3);
        new PgdLinf { Steps = 2, RandomStart = false }.Run(model, images, labels, batchSize: batch);
        new BoxConstrainedLbfgs { SearchSteps = 1, MaxIterations = 3, History = lbfgs.History }
            .Run(model, images, labels, targets, batchSize: batch);
        double rawBefore = RawLoop(model, images, labels, rawIterations);
        Report("warm-up and raw loop");

        var measured = new List<Result>();
        for (int repetition = 0; repetition < repetitions; repetition++)
        {
            var pgdSummary = pgd.Run(model, images, labels, batchSize: batch).Summary;
            Report("pgd");
            double rawMiddle = RawLoop(model, images, labels, rawIterations);
            Report("raw loop");
            var lbfgsSummary = lbfgs.Run(model, images, labels, targets, batchSize: batch).Summary;
            Report("lbfgs");
            double rawAfter = RawLoop(model, images, labels, rawIterations);
            Report("raw loop");

            double raw = (rawBefore + rawMiddle + rawAfter) / 3;
            double pgdRate = pgdSummary.GradientEvaluations / pgdSummary.Seconds;
            double lbfgsRate = lbfgsSummary.GradientEvaluations / lbfgsSummary.Seconds;
            double attackRate = (pgdSummary.GradientEvaluations + lbfgsSummary.GradientEvaluations)
                / (pgdSummary.Seconds + lbfgsSummary.Seconds);
            measured.Add(new Result(
                batch, raw, pgdRate, lbfgsRate, attackRate, attackRate / raw,
                pgdRate / ((rawBefore + rawMiddle) / 2), lbfgsRate / ((rawMiddle + rawAfter) / 2),
                lbfgsSummary.ImagesPerSecond, lbfgsSummary.GradientEvaluationsPerImage, lbfgsSummary.SuccessRate,
                lbfgsSummary.MeanDistortion, torch.get_num_threads(), repetitions));
            rawBefore = rawAfter;
        }
        // The repetition with the median combined ratio, whole, so that its numbers agree with each other.
        return measured.OrderBy(result => result.Ratio).ElementAt(measured.Count / 2);
    }

    /// <summary>
    /// Image gradients per second of the plain loop: <paramref name="iterations"/> times forward, cross-entropy and
    /// torch.autograd.grad with respect to <paramref name="images"/>, nothing else, <see cref="Classifier.RowsPerPass"/> rows
    /// at a time as the attacks take them.
    /// </summary>
    internal static double RawLoop(Classifier model, Tensor images, Tensor labels, int iterations)
    {
        var stopwatch = Stopwatch.StartNew();
        // The attacks' own split (Classifier.RowsPerPass): the ratio measures their overhead, not the batch size.
        long rows = images.shape[0], perPass = Math.Min(rows, model.RowsPerPass);
        for (int i = 0; i < iterations; i++)
        {
            for (long start = 0; start < rows; start += perPass)
            {
                using var iterationScope = NewDisposeScope();
                using var gradientOn = torch.enable_grad();
                long count = Math.Min(perPass, rows - start);
                var input = images.narrow(0, start, count).detach().requires_grad_(true);
                var loss = nn.functional.cross_entropy(model.forward(input), labels.narrow(0, start, count));
                _ = torch.autograd.grad([loss], [input])[0];
            }
        }
        if (images.device_type == DeviceType.CUDA)
        {
            // CUDA queues work; the attacks read their results back, so the raw loop must wait for its own too.
            torch.cuda.synchronize();
        }
        return (double)iterations * images.shape[0] / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>Images per second of a plain loop of <paramref name="iterations"/> forward passes without a graph.</summary>
    internal static double RawForwardLoop(Classifier model, Tensor images, int iterations)
    {
        var stopwatch = Stopwatch.StartNew();
        long rows = images.shape[0], perPass = Math.Min(rows, model.RowsPerPass);
        for (int i = 0; i < iterations; i++)
        {
            for (long start = 0; start < rows; start += perPass)
            {
                using var iterationScope = NewDisposeScope();
                using var noGrad = torch.no_grad();
                _ = model.forward(images.narrow(0, start, Math.Min(perPass, rows - start)));
            }
        }
        if (images.device_type == DeviceType.CUDA)
        {
            torch.cuda.synchronize();
        }
        return (double)iterations * images.shape[0] / stopwatch.Elapsed.TotalSeconds;
    }
}
