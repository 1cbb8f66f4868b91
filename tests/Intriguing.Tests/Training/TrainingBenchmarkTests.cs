using Intriguing.Models;
using Intriguing.Tests.Models;
using Intriguing.Training;
using Intriguing.Training.Adversarial;

namespace Intriguing.Tests.Training;

/// <summary>
/// The adversarial-training bench (issue 12) on a tiny model: what it measured, per thread count, adds up (no timing
/// target here: speed targets live in <c>intriguing bench</c>).
/// </summary>
public class TrainingBenchmarkTests
{
    private static readonly TrainingRecipe Recipe = new(Epochs: 2, BatchSize: 20, OptimizerKind.Sgd, LearningRate: 0.5, FinalLearningRate: 0.05);

    private static readonly ModelSpec Tiny = new("tiny", "24-16 sigmoid net for the bench test",
        () => new SigmoidMlp("tiny", 24, 16, 1e-4, 1e-4, 1e-5), Recipe, Recipe, []);

    public TrainingBenchmarkTests() => Intriguing.Tests.Attacks.TorchThreads.UseOne();

    [Theory]
    [InlineData(AdversarialMethod.Pgd, 3)]
    [InlineData(AdversarialMethod.Fgsm, 1)]
    public void The_bench_scales_a_measured_part_to_an_epoch_and_reports_each_thread_count(AdversarialMethod method, int passes)
    {
        using var train = SyntheticDigits.Make(200, seed: 5);

        var result = TrainingBenchmark.Run(Tiny, train, method, steps: 3, epsilon: 0.2, batches: 4, repetitions: 1, threadCounts: [1, 2]);

        Assert.Equal(passes, result.InputGradientPasses);
        Assert.Equal(20, result.BatchSize);
        Assert.Equal(4, result.Batches);
        Assert.Equal(10, result.BatchesPerEpoch);
        Assert.Equal([1, 2], result.ByThreads.Select(entry => entry.Threads));
        foreach (var entry in result.ByThreads)
        {
            Assert.True(entry.SecondsPerBatch > 0 && entry.PlainSecondsPerBatch > 0 && entry.CheckpointSeconds >= 0);
            Assert.Equal(entry.SecondsPerBatch * 10 + entry.CheckpointSeconds, entry.EpochSeconds, 9);
            Assert.Equal(entry.EpochSeconds / (entry.PlainSecondsPerBatch * 10) - 1, entry.Overhead, 9);
        }
        Assert.Contains(result.FastestThreads, new[] { 1, 2 });
    }

    [Fact]
    public void Methods_without_input_gradients_and_empty_runs_are_refused()
    {
        using var train = SyntheticDigits.Make(40, seed: 5);
        Assert.Throws<BadInputException>(() => TrainingBenchmark.Run(Tiny, train, AdversarialMethod.Pool));
        Assert.Throws<BadInputException>(() => TrainingBenchmark.Run(Tiny, train, AdversarialMethod.Pgd, batches: 0));
    }
}
