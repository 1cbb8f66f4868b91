using Intriguing.Models;
using Intriguing.Tests.Models;
using Intriguing.Training;
using Intriguing.Training.Adversarial;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Training;

/// <summary>
/// The gradient-masking checks of adversarial training (issue 12): restarts never find fewer errors than one run,
/// the transfer error is the trained model's error on the natural model's examples, and a model whose input gradient
/// is zero (masked, yet as fragile as the model it wraps) is flagged.
/// </summary>
public class MaskingCheckTests
{
    private static readonly TrainingRecipe Recipe = new(Epochs: 6, BatchSize: 20, OptimizerKind.Sgd, LearningRate: 0.5, FinalLearningRate: 0.05);

    public MaskingCheckTests() => Intriguing.Tests.Attacks.TorchThreads.UseOne();

    private static SigmoidMlp Trained(Intriguing.Data.LabeledImages data, int seed)
    {
        torch.random.manual_seed(seed);
        var model = new SigmoidMlp("small", 24, 16, 1e-4, 1e-4, 1e-5);
        TrainingLoop.Train(model, data, Recipe, seed, "plain");
        return model;
    }

    /// <summary>The wrapped model's logits with no gradient reaching the input: masked, not robust.</summary>
    private sealed class ZeroGradient : Classifier
    {
        private readonly Classifier inner;

        public ZeroGradient(Classifier inner) : base("zero-gradient")
        {
            this.inner = inner;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var flat = Flatten(input);
            return inner.forward(flat.detach()) + 0 * flat.sum(1, keepdim: true);
        }

        public override Tensor WeightPenalty() => zeros(1);
    }

    [Fact]
    public void Restarts_find_at_least_what_one_run_finds_and_transfer_is_the_error_on_the_natural_models_examples()
    {
        using var scope = NewDisposeScope();
        using var train = SyntheticDigits.Make(200, seed: 5);
        using var test = SyntheticDigits.Make(60, seed: 6);
        using var model = Trained(train, 1);
        using var natural = Trained(train, 2);
        var settings = new EvaluationSettings(MaskingCount: 40, MaskingRestarts: 3, BatchSize: 16);

        var check = RobustnessEvaluation.CheckMasking(model, natural, test, settings);

        Assert.Equal(40, check.Count);
        Assert.Equal(3, check.Restarts);
        Assert.Equal(RobustnessEvaluation.PgdEpsilons.Select(RobustnessEvaluation.Key), check.PgdError.Keys);
        foreach (var (key, plain) in check.PgdError)
        {
            Assert.Equal(40, plain.Count);
            Assert.True(check.RestartsError[key].Value >= plain.Value, $"eps {key}: restarts {check.RestartsError[key].Value} < one run {plain.Value}");
            double eps = double.Parse(key, System.Globalization.CultureInfo.InvariantCulture);
            using var set = test.Slice(0, 40);
            var made = RobustnessEvaluation.Pgd40(eps, settings.Seed).Run(natural, set.Images, set.Labels, null, 40).Adversarials;
            double expected = model.forward(made).argmax(1).ne(set.Labels).to_type(ScalarType.Float64).mean().item<double>();
            Assert.Equal(expected, check.TransferError[key].Value, 10);
        }
    }

    [Fact]
    public void A_model_whose_input_gradient_is_zero_is_flagged_by_the_transfer_check()
    {
        using var scope = NewDisposeScope();
        using var train = SyntheticDigits.Make(200, seed: 5);
        using var test = SyntheticDigits.Make(60, seed: 6);
        using var natural = Trained(train, 2);
        using var masked = new ZeroGradient(natural);
        var settings = new EvaluationSettings(MaskingCount: 60, MaskingRestarts: 2, BatchSize: 30);

        var check = RobustnessEvaluation.CheckMasking(masked, natural, test, settings);

        // White-box PGD gets no gradient and stays near its random start; the same network's own examples fool it.
        Assert.True(check.TransferError["0.3"].Value > check.PgdError["0.3"].Value + RobustnessEvaluation.MaskingMargin,
            $"transfer {check.TransferError["0.3"].Value} vs white-box {check.PgdError["0.3"].Value}");
        Assert.True(check.Suspect);
    }

    [Fact]
    public void The_evaluations_own_pgd_outcomes_are_reused_and_give_the_check_it_would_measure()
    {
        using var scope = NewDisposeScope();
        using var train = SyntheticDigits.Make(200, seed: 5);
        using var test = SyntheticDigits.Make(60, seed: 6);
        using var model = Trained(train, 1);
        using var natural = Trained(train, 2);
        var settings = new EvaluationSettings(RobustCount: 60, LbfgsCount: 2, MaskingCount: 40, MaskingRestarts: 2, BatchSize: 20);
        var measured = RobustnessEvaluation.Evaluate(model, test, settings);

        var alone = RobustnessEvaluation.CheckMasking(model, natural, test, settings);
        var lent = RobustnessEvaluation.CheckMasking(model, natural, test, settings, measured: measured);

        foreach (var key in alone.PgdError.Keys)
        {
            Assert.Equal(alone.PgdError[key], lent.PgdError[key]);
            Assert.Equal(alone.RestartsExcess[key], lent.RestartsExcess[key]);
            Assert.Equal(alone.AutoAttackExcess[key], lent.AutoAttackExcess[key]);
        }
        // The lent outcomes are what the check reads (here made up: every image fooled).
        var madeUp = measured with { PgdFooled = measured.PgdFooled!.ToDictionary(pair => pair.Key, pair => new string('1', pair.Value.Length)) };
        var read = RobustnessEvaluation.CheckMasking(model, natural, test, settings, measured: madeUp);
        Assert.All(read.PgdError.Values, rate => Assert.Equal(1.0, rate.Value));
    }
}
