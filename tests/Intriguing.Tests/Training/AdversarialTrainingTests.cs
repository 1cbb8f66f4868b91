using Intriguing.Attacks;
using Intriguing.Models;
using Intriguing.Tests.Models;
using Intriguing.Training;
using Intriguing.Training.Adversarial;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Training;

/// <summary>
/// Adversarial training (issue 12): the pools stay bounded, replace what their option says and admit only verified
/// adversarial examples; adversarial training raises the distortion an attack needs on a tiny problem; a run
/// interrupted and resumed from its checkpoint ends with the same weights as one that ran through.
/// </summary>
public class AdversarialTrainingTests
{
    private static readonly TrainingRecipe Recipe = new(Epochs: 3, BatchSize: 20, OptimizerKind.Sgd, LearningRate: 0.5, FinalLearningRate: 0.05);

    private static SigmoidMlp SmallMlp(int seed)
    {
        torch.random.manual_seed(seed);
        return new SigmoidMlp("small", 24, 16, 1e-4, 1e-4, 1e-5);
    }

    private static SigmoidMlp TrainedMlp(LabeledImagesHolder data, int seed)
    {
        var model = SmallMlp(seed);
        TrainingLoop.Train(model, data.Set, Recipe with { Epochs = 6 }, seed, "plain");
        return model;
    }

    private sealed class LabeledImagesHolder(Intriguing.Data.LabeledImages set) : IDisposable
    {
        public Intriguing.Data.LabeledImages Set { get; } = set;

        public void Dispose() => Set.Dispose();
    }

    [Fact]
    public void Pgd_training_ramps_eps_over_its_first_epochs_and_then_keeps_it()
    {
        var ramped = new PgdTraining(0.3, steps: 10, seed: 0, rampEpochs: 2);
        Assert.Equal([0.1, 0.2, 0.3, 0.3], Enumerable.Range(0, 4).Select(epoch => Math.Round(ramped.EpsilonAt(epoch), 12)));
        Assert.Equal(0.3, new PgdTraining(0.3, steps: 10, seed: 0).EpsilonAt(0));
        Assert.NotEqual(ramped.Describe(), new PgdTraining(0.3, steps: 10, seed: 0).Describe());

        // The first epoch's points stay within its own eps (0.1), not the final 0.3.
        using var scope = NewDisposeScope();
        using var data = new LabeledImagesHolder(SyntheticDigits.Make(40, seed: 5));
        using var model = SmallMlp(1);
        var batch = new TrainingBatch(data.Set.Images, data.Set.Labels, Epoch: 0, Step: 0, FirstIndex: 0);
        var prepared = ramped.Prepare(model, batch);
        double moved = (prepared.Inputs - data.Set.Images).abs().max().item<float>();
        Assert.InRange(moved, 0.05, 0.1 + 1e-6);
    }

    [Fact]
    public void A_pool_never_grows_past_its_capacity_and_a_full_pool_replaces_exactly_what_enters()
    {
        using var scope = NewDisposeScope();
        using var pool = new AdversarialPool(layer: 1, capacity: 50, units: 4);
        var random = new Random(0);
        pool.Insert(ones(30, 4), zeros(30, dtype: ScalarType.Int64), random);
        Assert.Equal(30, pool.Count);
        pool.Insert(ones(30, 4) * 2, ones(30, dtype: ScalarType.Int64), random);
        Assert.Equal(50, pool.Count);
        Assert.Equal(10, pool.Replaced);
        for (int round = 0; round < 20; round++)
        {
            var before = pool.Values.clone();
            int entered = pool.Insert(full(5, 4, 100f + round), full(5, 7L, dtype: ScalarType.Int64), random);
            Assert.Equal(50, pool.Count);
            Assert.Equal(5, entered);
            // Exactly the entering rows changed: 5 of 50, the replacement fraction 0.1.
            long changed = pool.Values.ne(before).any(1).sum().item<long>();
            Assert.Equal(5, changed);
        }
        Assert.Equal(50 * 4, pool.Values.numel());
    }

    [Fact]
    public void Pool_training_keeps_its_pools_bounded_and_refreshes_the_fraction_its_options_give()
    {
        using var scope = NewDisposeScope();
        using var data = new LabeledImagesHolder(SyntheticDigits.Make(200, seed: 5));
        using var model = SmallMlp(1);
        var options = new PoolTrainingOptions
        {
            Layers = [0, 1, 2],
            Capacity = 40,
            ReplaceFraction = 0.25,
            RefreshInterval = 2,
            MixRatio = 0.5,
            Attack = new BoxConstrainedLbfgs { SearchSteps = 3, MaxIterations = 10 },
        };
        using var hook = new PoolTraining(options, seed: 3);
        TrainingLoop.Train(model, data.Set, Recipe, seed: 0, "pool", hook: hook);

        Assert.Equal(3, hook.Pools.Count);
        Assert.All(hook.Pools, pool => Assert.InRange(pool.Count, 1, 40));
        Assert.Equal([784, 24, 16], hook.Pools.Select(pool => pool.Units));
        // 3 epochs of 10 batches, a refresh every 2nd batch: 15 refreshes per pool.
        Assert.Equal(15 * 3, hook.Refreshes.Count);
        foreach (var pool in hook.Pools)
        {
            var refreshes = hook.Refreshes.Where(refresh => refresh.Layer == pool.Layer).ToList();
            Assert.Equal(refreshes.Sum(refresh => (long)refresh.Entered), pool.Entered);
            // Once the pool is full, each refresh attacks exactly fraction x capacity = 10 examples, and at most they enter.
            var whenFull = refreshes.SkipWhile(refresh => refresh.PoolCount < 40).Skip(1).ToList();
            Assert.NotEmpty(whenFull);
            Assert.All(whenFull, refresh => Assert.Equal(10, refresh.Attacked));
            Assert.All(whenFull, refresh => Assert.InRange(refresh.Entered, 0, 10));
            Assert.All(refreshes, refresh => Assert.InRange(refresh.PoolCount, 0, 40));
        }
    }

    [Fact]
    public void An_example_enters_a_layers_pool_only_when_the_sub_network_above_the_layer_misclassifies_it()
    {
        using var scope = NewDisposeScope();
        using var data = new LabeledImagesHolder(SyntheticDigits.Make(200, seed: 6));
        using var model = TrainedMlp(data, 2);
        // A weak attack (a small eps-ball) fails on part of the images: those must be rejected, the rest verified.
        var options = new PoolTrainingOptions
        {
            Layers = [0, 1, 2],
            Capacity = 100,
            RefreshInterval = 1,
            Attack = new PgdLinf { Epsilon = 0.15, StepSize = 0.03, Steps = 10, RandomStart = false },
            Targeted = false,
        };
        using var hook = new PoolTraining(options, seed: 1);
        hook.Starting(model);
        var batch = new TrainingBatch(data.Set.Images.narrow(0, 0, 100), data.Set.Labels.narrow(0, 0, 100), Epoch: 0, Step: 0, FirstIndex: 0);
        hook.Prepare(model, batch);
        var refreshes = hook.Refreshes;
        Assert.Equal(3, refreshes.Count);
        Assert.Contains(refreshes, refresh => refresh.Rejected > 0);
        Assert.Contains(refreshes, refresh => refresh.Entered > 0);
        foreach (var pool in hook.Pools)
        {
            Assert.Equal(refreshes.Single(refresh => refresh.Layer == pool.Layer).Entered, pool.Count);
            if (pool.Count == 0)
            {
                continue;
            }
            using var noGrad = no_grad();
            var logits = pool.Layer == 0 ? model.forward(pool.Values) : model.ForwardFromHidden(pool.Layer - 1, pool.Values);
            Assert.True(logits.argmax(1).ne(pool.Labels).all().item<bool>(), $"layer {pool.Layer}: every pooled example is misclassified by the network above it");
            // And it lies in the layer's box: (0, 1) for these sigmoid layers, [0, 1] for the input.
            Assert.True(pool.Values.ge(0).all().item<bool>() && pool.Values.le(1).all().item<bool>());
        }
    }

    [Fact]
    public void Adversarial_training_raises_the_distortion_the_same_attack_needs_on_a_tiny_problem()
    {
        using var scope = NewDisposeScope();
        using var train = new LabeledImagesHolder(SyntheticDigits.Make(200, seed: 7));
        using var test = new LabeledImagesHolder(SyntheticDigits.Make(60, seed: 8));
        var recipe = Recipe with { Epochs = 10 };
        var attack = new BoxConstrainedLbfgs { SearchSteps = 5, MaxIterations = 20 };
        var poolAttack = new BoxConstrainedLbfgs { SearchSteps = 3, MaxIterations = 15 };

        using var plain = SmallMlp(4);
        TrainingLoop.Train(plain, train.Set, recipe, seed: 0, "plain");
        using var pooled = SmallMlp(4);
        using var hook = new PoolTraining(new PoolTrainingOptions { Layers = [0], Capacity = 200, ReplaceFraction = 0.25, RefreshInterval = 1, MixRatio = 1.5, Attack = poolAttack }, seed: 0);
        TrainingLoop.Train(pooled, train.Set, recipe, seed: 0, "pool", hook: hook);

        var targets = AttackTargets.RandomWrong(test.Set.Labels, 0);
        var plainSummary = attack.Run(plain, test.Set.Images, test.Set.Labels, targets, 60).Summary;
        var pooledSummary = attack.Run(pooled, test.Set.Images, test.Set.Labels, targets, 60).Summary;
        Assert.True(Intriguing.Models.Evaluation.ErrorRate(pooled, test.Set) <= 0.05, "the pooled model still classifies the clean test set");
        Assert.True(pooledSummary.Attempted >= 50 && plainSummary.Attempted >= 50);
        Assert.True(pooledSummary.MeanDistortion > 1.15 * plainSummary.MeanDistortion,
            $"mean L-BFGS distortion {pooledSummary.MeanDistortion:F4} after pool training vs {plainSummary.MeanDistortion:F4} without");
    }

    [Theory]
    [InlineData("pool")]
    [InlineData("pgd")]
    public void A_run_interrupted_after_an_epoch_and_resumed_ends_with_the_weights_of_an_uninterrupted_run(string method)
    {
        using var scope = NewDisposeScope();
        using var data = new LabeledImagesHolder(SyntheticDigits.Make(200, seed: 9));
        string folder = Path.Combine(Path.GetTempPath(), "intriguing-resume-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            TrainingHook MakeHook() => method == "pool"
                ? new PoolTraining(new PoolTrainingOptions { Layers = [0, 2], Capacity = 30, ReplaceFraction = 0.2, RefreshInterval = 3, Attack = new BoxConstrainedLbfgs { SearchSteps = 2, MaxIterations = 8 } }, seed: 2)
                : new PgdTraining(0.2, 3, seed: 2);

            using var straight = SmallMlp(5);
            var straightHook = MakeHook();
            var straightRun = TrainingLoop.Train(straight, data.Set, Recipe, seed: 1, "straight", straightHook, new TrainingCheckpoint(Path.Combine(folder, "a.checkpoint"), "run"));
            (straightHook as IDisposable)?.Dispose();

            string checkpoint = Path.Combine(folder, "b.checkpoint");
            using (var interrupted = SmallMlp(5))
            {
                var hook = MakeHook();
                var first = TrainingLoop.Train(interrupted, data.Set, Recipe, seed: 1, "first", hook, new TrainingCheckpoint(checkpoint, "run"), stopAfterEpochs: 1);
                (hook as IDisposable)?.Dispose();
                Assert.Equal(1, first.Epochs);
            }
            // A new process: a fresh model (other initial weights) and hook; everything comes from the checkpoint.
            using var resumed = SmallMlp(99);
            var resumedHook = MakeHook();
            var resumedRun = TrainingLoop.Train(resumed, data.Set, Recipe, seed: 1, "resumed", resumedHook, new TrainingCheckpoint(checkpoint, "run"));
            (resumedHook as IDisposable)?.Dispose();

            Assert.Equal(1, resumedRun.ResumedFromEpoch);
            Assert.Equal(3, resumedRun.History.Count);
            // Both resume bit for bit. (The pool run was held to 1e-6 while L-BFGS fed the network from a pooled managed
            // array whose alignment changed libtorch's kernels; its candidates now live in libtorch tensors, docs/engine.md.)
            double tolerance = 0;
            Assert.Equal(straightRun.FinalMeanLoss, resumedRun.FinalMeanLoss, tolerance);
            var expected = straight.state_dict();
            foreach (var (name, value) in resumed.state_dict())
            {
                double difference = (value - expected[name]).abs().max().item<float>();
                Assert.True(difference <= tolerance, $"{name} differs by {difference} after resuming ({method})");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Checkpointing only reads the state. (The runs agree to float rounding, not bit for bit: a run that allocates
    /// more memory between steps can see last-bit differences in libtorch's matrix products; resuming, above, is exact.)
    /// </summary>
    [Fact]
    public void Writing_checkpoints_does_not_change_the_run()
    {
        using var scope = NewDisposeScope();
        using var data = new LabeledImagesHolder(SyntheticDigits.Make(200, seed: 11));
        string checkpoint = Path.Combine(Path.GetTempPath(), "intriguing-same-" + Guid.NewGuid().ToString("N") + ".checkpoint");
        try
        {
            PoolTraining Hook() => new(new PoolTrainingOptions { Layers = [0, 2], Capacity = 30, ReplaceFraction = 0.2, RefreshInterval = 3, Attack = new BoxConstrainedLbfgs { SearchSteps = 2, MaxIterations = 8 } }, seed: 2);
            using var with = SmallMlp(5);
            using var withHook = Hook();
            var checkpointed = TrainingLoop.Train(with, data.Set, Recipe, seed: 1, "with", withHook, new TrainingCheckpoint(checkpoint, "run"));
            using var without = SmallMlp(5);
            using var withoutHook = Hook();
            var plain = TrainingLoop.Train(without, data.Set, Recipe, seed: 1, "without", hook: withoutHook);
            Assert.Equal(plain.History.Count, checkpointed.History.Count);
            foreach (var (expected, actual) in plain.History.Zip(checkpointed.History))
            {
                Assert.Equal(expected.MeanLoss, actual.MeanLoss, 1e-6);
            }
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }

    [Fact]
    public void A_checkpoint_of_other_settings_is_not_resumed()
    {
        using var scope = NewDisposeScope();
        using var data = new LabeledImagesHolder(SyntheticDigits.Make(100, seed: 10));
        string checkpoint = Path.Combine(Path.GetTempPath(), "intriguing-other-" + Guid.NewGuid().ToString("N") + ".checkpoint");
        try
        {
            using var first = SmallMlp(1);
            TrainingLoop.Train(first, data.Set, Recipe, seed: 1, "first", checkpoint: new TrainingCheckpoint(checkpoint, "settings A"), stopAfterEpochs: 2);
            using var second = SmallMlp(1);
            var run = TrainingLoop.Train(second, data.Set, Recipe, seed: 1, "second", checkpoint: new TrainingCheckpoint(checkpoint, "settings B"));
            Assert.Equal(0, run.ResumedFromEpoch);
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }
}
