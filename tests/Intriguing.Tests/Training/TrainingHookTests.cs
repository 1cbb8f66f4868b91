using Intriguing.Models;
using Intriguing.Tests.Models;
using Intriguing.Training;
using static TorchSharp.torch;

namespace Intriguing.Tests.Training;

/// <summary>The open training loop: a hook's loss term and batches change training exactly as they should.</summary>
public class TrainingHookTests
{
    private static readonly TrainingRecipe Recipe = new(Epochs: 8, BatchSize: 20, OptimizerKind.Sgd, LearningRate: 0.1, FinalLearningRate: 0.01);

    /// <summary>
    /// Pulls the sum of the output biases to a target. Cross-entropy is blind to that sum (adding the same number to
    /// every logit changes no probability), so the term alone decides it: with the hook it reaches the target, without
    /// it the sum stays where initialisation put it.
    /// </summary>
    private sealed class BiasSumHook(double target) : TrainingHook
    {
        public int Batches { get; private set; }

        public int Epochs { get; private set; }

        public override Tensor? ExtraLoss(Classifier model, TrainingBatch batch)
        {
            Batches++;
            var bias = model.named_parameters().Single(entry => entry.name == "output.bias").parameter;
            return (bias.sum() - target).square() * 0.2;
        }

        public override void EpochEnded(Classifier model, int epoch, double meanLoss) => Epochs++;
    }

    private static double BiasSum(Classifier model) =>
        model.named_parameters().Single(entry => entry.name == "output.bias").parameter.sum().item<float>();

    [Fact]
    public void A_hooks_loss_term_has_its_known_effect_and_nothing_else_moves_that_direction()
    {
        using var scope = NewDisposeScope();
        using var data = SyntheticDigits.Make(100, seed: 3);

        random.manual_seed(0);
        using var plain = new SoftmaxRegression("plain", 1e-4);
        double initialSum = BiasSum(plain);
        TrainingLoop.Train(plain, data, Recipe, seed: 0, "plain");

        random.manual_seed(0);
        using var hooked = new SoftmaxRegression("hooked", 1e-4);
        var hook = new BiasSumHook(target: 3.0);
        TrainingLoop.Train(hooked, data, Recipe, seed: 0, "hooked", hook: hook);

        Assert.Equal(initialSum, BiasSum(plain), 4);
        Assert.Equal(3.0, BiasSum(hooked), 2);
        Assert.Equal(8 * 5, hook.Batches);
        Assert.Equal(8, hook.Epochs);
        Assert.Equal(0, Intriguing.Models.Evaluation.ErrorRate(hooked, data));
    }

    /// <summary>Replaces every batch's labels by class 0: the model must learn to say 0 whatever it sees.</summary>
    private sealed class RelabelHook : TrainingHook
    {
        public override TrainingBatch Prepare(Classifier model, TrainingBatch batch) =>
            batch with { Labels = zeros_like(batch.Labels) };
    }

    [Fact]
    public void A_hook_that_replaces_the_batch_is_what_the_model_learns_from()
    {
        using var scope = NewDisposeScope();
        using var data = SyntheticDigits.Make(100, seed: 4);
        random.manual_seed(0);
        using var model = new SoftmaxRegression("relabelled", 1e-4);

        TrainingLoop.Train(model, data, Recipe, seed: 0, "relabelled", hook: new RelabelHook());

        Assert.True(model.Predict(data.Images).eq(0).all().item<bool>());
    }
}
