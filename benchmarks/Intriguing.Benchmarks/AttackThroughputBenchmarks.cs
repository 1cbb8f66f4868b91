using BenchmarkDotNet.Attributes;
using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Benchmarks;

/// <summary>
/// The same measurements as <c>./intriguing bench</c>, under BenchmarkDotNet: one raw forward+backward of
/// fc100-100-10 over a batch of test images (the floor), ten PGD steps on that batch, and targeted L-BFGS with its
/// c search. Divide the batch (times steps) by the mean time for gradients per second; the L-BFGS benchmark's
/// gradient evaluations per image are printed once in the global setup. Data: $INTRIGUING_DATA_DIR or the cache;
/// the model comes from the cache (trained there first if missing; INTRIGUING_BENCH_QUICK=1 takes the quick-recipe model).
/// </summary>
[MemoryDiagnoser]
public class AttackThroughputBenchmarks
{
    private TrainedModel? trained;
    private Tensor images = null!;
    private Tensor labels = null!;
    private Tensor targets = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [Params(500)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        using var data = ImageDataset.Load("mnist", Environment.GetEnvironmentVariable("INTRIGUING_DATA_DIR"));
        bool quick = Environment.GetEnvironmentVariable("INTRIGUING_BENCH_QUICK") == "1";
        trained = ModelStore.GetOrTrain("fc100-100-10", data, quick: quick);
        images = data.Test.Images.narrow(0, 0, Batch).clone().DetachFromDisposeScope();
        labels = data.Test.Labels.narrow(0, 0, Batch).clone().DetachFromDisposeScope();
        targets = AttackTargets.RandomWrong(labels, seed: 0).DetachFromDisposeScope();
        var summary = new BoxConstrainedLbfgs().Run(trained.Model, images, labels, targets, Batch).Summary;
        Console.WriteLine($"// L-BFGS: {summary.GradientEvaluationsPerImage:F1} gradient evaluations per image, " +
            $"success {summary.SuccessRate:P1}, mean distortion {summary.MeanDistortion:F4}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        trained?.Dispose();
        images.Dispose();
        labels.Dispose();
        targets.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw forward+backward (1 gradient per image)")]
    public void RawForwardBackward()
    {
        using var scope = NewDisposeScope();
        using var gradientOn = torch.enable_grad();
        var input = images.detach().requires_grad_(true);
        var loss = nn.functional.cross_entropy(trained!.Model.forward(input), labels);
        _ = torch.autograd.grad([loss], [input])[0];
    }

    [Benchmark(Description = "PGD L-inf, 10 steps (10 gradients per image)")]
    public void Pgd10Steps()
    {
        using var scope = NewDisposeScope();
        new PgdLinf { Steps = 10, RandomStart = false }.Run(trained!.Model, images, labels, batchSize: Batch);
    }

    [Benchmark(Description = "box-constrained L-BFGS with c search, targeted")]
    public void Lbfgs()
    {
        using var scope = NewDisposeScope();
        new BoxConstrainedLbfgs().Run(trained!.Model, images, labels, targets, Batch);
    }
}
