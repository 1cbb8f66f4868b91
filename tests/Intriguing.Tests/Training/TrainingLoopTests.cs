using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Tests.Models;
using Intriguing.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Training;

public class TrainingLoopTests
{
    private static readonly TrainingRecipe TinyRecipe = new(Epochs: 3, BatchSize: 20, OptimizerKind.Sgd, LearningRate: 0.1, FinalLearningRate: 0.01);

    [Fact]
    public void Same_seed_gives_identical_weights_and_errors_and_another_seed_does_not()
    {
        using var data = SyntheticDigits.Make(120, seed: 3);
        var (weightsA, errorA) = TrainSmallMlp(data, seed: 7);
        var (weightsB, errorB) = TrainSmallMlp(data, seed: 7);
        var (weightsC, _) = TrainSmallMlp(data, seed: 8);

        Assert.Equal(weightsA, weightsB);
        Assert.Equal(errorA, errorB);
        Assert.NotEqual(weightsA, weightsC);
    }

    [Fact]
    public void Training_learns_a_separable_synthetic_task()
    {
        using var train = SyntheticDigits.Make(200, seed: 1);
        using var test = SyntheticDigits.Make(100, seed: 2);
        random.manual_seed(0);
        using var model = new SoftmaxRegression("fc10-test", 1e-4);
        double before = Intriguing.Models.Evaluation.ErrorRate(model, test);
        TrainingLoop.Train(model, train, TinyRecipe, seed: 0, "train");
        Assert.True(before > 0.5, $"untrained error {before}");
        Assert.Equal(0, Intriguing.Models.Evaluation.ErrorRate(model, test));
        Assert.False(model.training);
    }

    [Fact]
    public void A_training_run_and_an_evaluation_leave_no_live_tensors_behind()
    {
        using var data = SyntheticDigits.Make(60, seed: 5);
        random.manual_seed(0);
        using var model = new SigmoidMlp("fc8-8-10", 8, 8, 1e-5, 1e-5, 1e-6);
        // One run first, so lazily created state (gradients of the parameters) exists before we count.
        TrainingLoop.Train(model, data, TinyRecipe with { Epochs = 1 }, seed: 0, "warm-up");
        Intriguing.Models.Evaluation.ErrorRate(model, data);

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        TrainingLoop.Train(model, data, TinyRecipe with { Epochs = 2 }, seed: 0, "train");
        Intriguing.Models.Evaluation.ErrorRate(model, data, batchSize: 7);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(before, after);
    }

    [Fact]
    public void Autoencoder_pretraining_freezes_the_encoder_and_the_softmax_still_learns()
    {
        using var train = SyntheticDigits.Make(200, seed: 1);
        random.manual_seed(0);
        using var model = new SparseAutoencoderClassifier("ae-test", 1e-6);
        var recipe = TinyRecipe with { Epochs = 5, Pretraining = new AutoencoderRecipe(2, 20, 1e-3, 0.05, 0.1, 3e-5) };
        TrainingLoop.Train(model, train, recipe, seed: 0, "train");
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToArray();
        Assert.Equal(new[] { "output.weight", "output.bias" }, trainable);
        Assert.True(Intriguing.Models.Evaluation.ErrorRate(model, train) < 0.2);
    }

    [Fact]
    public void An_autoencoder_run_interrupted_after_its_pretraining_or_an_epoch_resumes_to_the_uninterrupted_weights()
    {
        using var train = SyntheticDigits.Make(120, seed: 1);
        var recipe = TinyRecipe with { Epochs = 3, Pretraining = new AutoencoderRecipe(2, 20, 1e-3, 0.05, 0.1, 3e-5) };
        string folder = Path.Combine(Path.GetTempPath(), "intriguing-loop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var straight = TrainAutoencoder(train, recipe, new TrainingCheckpoint(Path.Combine(folder, "straight"), "ae"), stopAfter: null);
            foreach (int stopAfter in new[] { 0, 1 })
            {
                var checkpoint = new TrainingCheckpoint(Path.Combine(folder, $"interrupted-{stopAfter}"), "ae");
                TrainAutoencoder(train, recipe, checkpoint, stopAfter);
                Assert.True(File.Exists(checkpoint.Path));
                var resumed = TrainAutoencoder(train, recipe, checkpoint, stopAfter: null);
                Assert.Equal(stopAfter, resumed.Run.ResumedFromEpoch);
                Assert.Equal(straight.Weights, resumed.Weights);
                Assert.Equal(straight.Run.History.Select(record => record.MeanLoss), resumed.Run.History.Select(record => record.MeanLoss));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_checkpoint_of_another_run_is_set_aside_with_a_warning()
    {
        using var data = SyntheticDigits.Make(60, seed: 5);
        string path = Path.Combine(Path.GetTempPath(), "intriguing-loop-" + Guid.NewGuid().ToString("N"));
        try
        {
            random.manual_seed(0);
            using (var first = new SoftmaxRegression("fc10-test", 1e-4))
            {
                TrainingLoop.Train(first, data, TinyRecipe, seed: 0, "first", checkpoint: new TrainingCheckpoint(path, "settings A"));
            }
            random.manual_seed(0);
            using var second = new SoftmaxRegression("fc10-test", 1e-4);
            var warnings = new List<string>();
            var run = TrainingLoop.Train(second, data, TinyRecipe, seed: 0, "second", checkpoint: new TrainingCheckpoint(path, "settings B"),
                progress: new Collect(update => { if (update.IsWarning) { warnings.Add(update.Detail ?? ""); } }));
            Assert.Equal(0, run.ResumedFromEpoch);
            Assert.Contains(warnings, warning => warning.Contains(path) && warning.Contains("another run"));

            File.WriteAllBytes(path, [1, 2, 3]);
            random.manual_seed(0);
            using var third = new SoftmaxRegression("fc10-test", 1e-4);
            warnings.Clear();
            run = TrainingLoop.Train(third, data, TinyRecipe, seed: 0, "third", checkpoint: new TrainingCheckpoint(path, "settings B"),
                progress: new Collect(update => { if (update.IsWarning) { warnings.Add(update.Detail ?? ""); } }));
            Assert.Equal(0, run.ResumedFromEpoch);
            Assert.Contains(warnings, warning => warning.Contains(path) && warning.Contains("not a readable checkpoint"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class Collect(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }

    private static (float[] Weights, TrainingRun Run) TrainAutoencoder(LabeledImages data, TrainingRecipe recipe, TrainingCheckpoint checkpoint, int? stopAfter)
    {
        random.manual_seed(3);
        using var model = new SparseAutoencoderClassifier("ae-test", 1e-6);
        var run = TrainingLoop.Train(model, data, recipe, seed: 3, "ae", checkpoint: checkpoint, stopAfterEpochs: stopAfter);
        Assert.Equal(new[] { "output.weight", "output.bias" }, model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name));
        using var scope = NewDisposeScope();
        var weights = cat(model.parameters().Select(p => p.detach().flatten()).ToArray()).data<float>().ToArray();
        return (weights, run);
    }

    [Fact]
    public void Cosine_schedule_runs_from_the_first_to_the_final_learning_rate()
    {
        var recipe = new TrainingRecipe(10, 10, OptimizerKind.Sgd, LearningRate: 0.2, FinalLearningRate: 0.002);
        Assert.Equal(0.2, recipe.LearningRateAt(0, 100), 12);
        Assert.Equal(0.101, recipe.LearningRateAt(99, 199), 12);
        Assert.Equal(0.002, recipe.LearningRateAt(99, 100), 12);
        // A warm-up ramps linearly up to the first rate, then the cosine runs over the remaining steps.
        Assert.Equal(0.02, recipe.LearningRateAt(0, 100, warmupSteps: 10), 12);
        Assert.Equal(0.2, recipe.LearningRateAt(9, 100, warmupSteps: 10), 12);
        Assert.Equal(0.2, recipe.LearningRateAt(10, 100, warmupSteps: 10), 12);
        Assert.Equal(0.002, recipe.LearningRateAt(99, 100, warmupSteps: 10), 12);
        Assert.Throws<BadInputException>(() => recipe.WithEpochs(0));
    }

    [Fact]
    public void Training_runs_on_one_thread_and_gives_the_previous_thread_count_back()
    {
        int before = get_num_threads();
        using (TorchThreads.Limit(1))
        {
            Assert.Equal(1, get_num_threads());
        }
        Assert.Equal(before, get_num_threads());
    }

    [Fact]
    public void Training_refuses_an_empty_set()
    {
        using var empty = SyntheticDigits.Make(0, seed: 1);
        using var model = new SoftmaxRegression("fc10-test", 0);
        var error = Assert.Throws<BadInputException>(() => TrainingLoop.Train(model, empty, TinyRecipe, seed: 0, "train fc10-test"));
        Assert.Contains("0 training images", error.Message);
    }

    [Fact]
    public void Halves_of_the_training_set_train_twice_the_epochs_unless_told_otherwise()
    {
        var spec = ModelZoo.Get("fc100-100-10");
        Assert.Equal(spec.Recipe.Epochs, spec.RecipeFor(Split.Train, quick: false, epochs: null).Epochs);
        Assert.Equal(spec.Recipe.Epochs * 2, spec.RecipeFor(Split.P1, quick: false, epochs: null).Epochs);
        Assert.Equal(spec.QuickRecipe.Epochs * 2, spec.RecipeFor(Split.P2, quick: true, epochs: null).Epochs);
        Assert.Equal(5, spec.RecipeFor(Split.P2, quick: false, epochs: 5).Epochs);
    }

    private static (float[] Weights, double Error) TrainSmallMlp(LabeledImages data, int seed)
    {
        random.manual_seed(seed);
        using var model = new SigmoidMlp("fc16-16-10", 16, 16, 1e-5, 1e-5, 1e-6);
        TrainingLoop.Train(model, data, TinyRecipe, seed, "train");
        using var scope = NewDisposeScope();
        var weights = cat(model.parameters().Select(p => p.detach().flatten()).ToArray()).data<float>().ToArray();
        return (weights, Intriguing.Models.Evaluation.ErrorRate(model, data));
    }
}
