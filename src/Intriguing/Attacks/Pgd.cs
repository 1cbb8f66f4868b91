using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// Projected gradient descent, the engine shared by <see cref="PgdLinf"/> and <see cref="PgdL2"/>. Madry, Makelov,
/// Schmidt, Tsipras and Vladu, "Towards Deep Learning Models Resistant to Adversarial Attacks", ICLR 2018,
/// https://arxiv.org/abs/1706.06083. From a random start in the eps-ball (optional), take <see cref="Steps"/> steps
/// of <see cref="StepSize"/> along the norm's steepest-ascent direction of the cross-entropy, projecting back onto
/// the eps-ball and the box after each. With several <see cref="Restarts"/> each restart runs only on the images no
/// earlier run fooled: an image keeps its first success, else the run with the highest loss. A subclass supplies only
/// the norm: its step, projection and random start. Input: any model's; every iterate stays in the eps-ball and the model's box. The random start of each row comes from
/// its own stream (seed, row index, restart), so the batch size never changes a result.
/// </summary>
public abstract record Pgd : Attack
{
    /// <summary>The radius eps of the ball around each input, in the norm's units.</summary>
    public double Epsilon { get; init; }

    /// <summary>The length of one step, in the norm's units.</summary>
    public double StepSize { get; init; }

    /// <summary>Steps per run (default 40).</summary>
    public int Steps { get; init; } = 40;

    /// <summary>Start from a random point of the eps-ball instead of the clean input (default true).</summary>
    public bool RandomStart { get; init; } = true;

    /// <summary>Runs per image, each from its own random start, each after the first only on the images not yet fooled (default 1).</summary>
    public int Restarts { get; init; } = 1;

    /// <summary>The seed of the random starts (default 0).</summary>
    public int Seed { get; init; }

    /// <inheritdoc/>
    public override Attack WithSeed(int seed) => this with { Seed = seed };

    /// <summary>The step taken to lower <paramref name="gradient"/>'s loss, float [N, D] (before projection).</summary>
    protected abstract Tensor DescentStep(Tensor gradient);

    /// <summary>Projects a perturbation [N, D] onto the eps-ball of the norm.</summary>
    protected abstract Tensor ProjectPerturbation(Tensor perturbation);

    /// <summary>A random perturbation inside the eps-ball for rows keyed on <paramref name="keys"/>, float [N, D] on the CPU.</summary>
    protected abstract Tensor RandomPerturbation(long rows, long features, RowKeys keys, int restart);

    /// <summary>
    /// The step for one batch: given (adversarial, gradient), descend, project onto the eps-ball around
    /// <paramref name="images"/> and clip to the box, in place. A norm may return a fused version (set up once per
    /// batch); this one is written from the three parts.
    /// </summary>
    protected virtual Action<Tensor, Tensor> CreateStep(Tensor images, InputBox box) => (adversarial, gradient) =>
    {
        var moved = adversarial + DescentStep(gradient);
        adversarial.copy_(box.Clamp(images + ProjectPerturbation(moved - images)));
    };

    /// <inheritdoc/>
    public override void Validate()
    {
        if (!(Epsilon >= 0) || !double.IsFinite(Epsilon) || !(StepSize > 0) || !double.IsFinite(StepSize) || Steps < 1 || Restarts < 1)
        {
            throw new BadInputException(
                $"{Name}: need a finite eps >= 0, a finite step size > 0, steps >= 1 and restarts >= 1; got eps {Epsilon}, step {StepSize}, steps {Steps}, restarts {Restarts}");
        }
    }

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys)
    {
        var box = model.Input.Box;
        long rowCount = images.shape[0];
        if (Restarts == 1)
        {
            // One run is its own best: no bookkeeping across restarts (PGD training calls this on every batch).
            var only = Descend(model, images, criterion, keys, restart: 0, CreateStep(images, box));
            return new PerturbOutput(only, full(rowCount, (long)Steps, dtype: ScalarType.Int64, device: images.device),
                criterion.IsAdversarial(GradientOracle.Logits(model, only)));
        }
        var evaluations = zeros(rowCount, dtype: ScalarType.Int64, device: images.device);
        var best = images.clone();
        var bestSuccess = zeros(rowCount, dtype: ScalarType.Bool, device: images.device);
        var bestLoss = full(rowCount, double.NegativeInfinity, dtype: images.dtype, device: images.device);
        for (int restart = 0; restart < Restarts; restart++)
        {
            using var restartScope = NewDisposeScope();
            // A restart runs only on the images no earlier run has fooled (as Madry et al.'s and AutoAttack's restarts
            // do): a fooled image keeps its first success. Each row keeps its own key, so its start does not depend on
            // which other rows are still in.
            var active = bestSuccess.logical_not().nonzero().squeeze(1);
            long activeCount = active.shape[0];
            if (activeCount == 0)
            {
                break;
            }
            var rows = active.cpu().data<long>().ToArray();
            var subset = activeCount == rowCount ? images : images.index_select(0, active);
            var subsetKeys = activeCount == rowCount ? keys : RowKeys.Of(Array.ConvertAll(rows, row => keys[row]));
            var subsetCriterion = activeCount == rowCount ? criterion : criterion.Take(active);
            var adversarial = Descend(model, subset, subsetCriterion, subsetKeys, restart, CreateStep(subset, box));
            var logits = GradientOracle.Logits(model, adversarial);
            var success = subsetCriterion.IsAdversarial(logits);
            var loss = -subsetCriterion.CrossEntropyLoss(logits);
            // Among failures the higher loss wins; a success always replaces a failure.
            var better = success.logical_or(loss.gt(bestLoss.index_select(0, active)));
            var keep = better.nonzero().squeeze(1);
            var improvedRows = active.index_select(0, keep);
            best.index_copy_(0, improvedRows, adversarial.index_select(0, keep));
            bestLoss.index_copy_(0, improvedRows, loss.index_select(0, keep));
            bestSuccess.index_copy_(0, active, success);
            evaluations.index_add_(0, active, full(activeCount, (long)Steps, dtype: ScalarType.Int64, device: images.device), 1);
        }
        return new PerturbOutput(best, evaluations, bestSuccess);
    }

    /// <summary>One run from restart <paramref name="restart"/>'s start: <see cref="Steps"/> steps, the final iterate.</summary>
    private Tensor Descend(Classifier model, Tensor images, Criterion criterion, RowKeys keys, int restart, Action<Tensor, Tensor> step)
    {
        var start = RandomStart
            ? ProjectPerturbation(RandomPerturbation(images.shape[0], images.shape[1], keys, restart).to(images.device))
            : zeros_like(images);
        var adversarial = model.Input.Box.Clamp(images + start).contiguous();
        for (int stepIndex = 0; stepIndex < Steps; stepIndex++)
        {
            using var stepScope = NewDisposeScope();
            var evaluation = GradientOracle.Evaluate(model, adversarial, (_, logits) => criterion.CrossEntropyLoss(logits));
            step(adversarial, evaluation.Gradient);
        }
        return adversarial;
    }
}
