using Intriguing.Attacks;
using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// FAB-T, the targeted Fast Adaptive Boundary attack (Croce and Hein, ICML 2020, https://arxiv.org/abs/1907.02044), as
/// AutoAttack runs it: for each of the clean input's <see cref="TargetClasses"/> most likely wrong classes in turn (on
/// the rows still robust), linearise the boundary between the true class and the target at the current point, project
/// both the current point and the original onto that hyperplane within the box (<see cref="FabProjections"/>), step to
/// a mix of the two projections biased towards the original (alpha at most <see cref="AlphaMax"/>), overshoot by
/// <see cref="Eta"/>, and after each success step back towards the original by <see cref="Beta"/>; the smallest
/// adversarial point found is kept. A row counts as fooled only when that point lies within <see cref="Epsilon"/>
/// (L-inf or L2, <see cref="Norm"/>). Needs images in [0, 1]. Defaults: AutoAttack's (100 iterations, 9 targets,
/// alpha_max 0.1, eta 1.05, beta 0.9, one run without random start). Rows are independent of their batch.
/// </summary>
public sealed record FabTargeted : Attack
{
    /// <summary>The radius eps within which a point counts as adversarial, in <see cref="Norm"/> (default 0.3).</summary>
    public double Epsilon { get; init; } = 0.3;

    /// <summary>The norm of the threat model (default L-inf).</summary>
    public ThreatNorm Norm { get; init; } = ThreatNorm.Linf;

    /// <summary>Iterations per target and run (default 100).</summary>
    public int Iterations { get; init; } = 100;

    /// <summary>How many of the most likely wrong classes to aim at in turn (default 9).</summary>
    public int TargetClasses { get; init; } = 9;

    /// <summary>Runs per target; runs after the first start at a random point within eps / 2 (the reference's).</summary>
    public int Restarts { get; init; } = 1;

    /// <summary>The largest weight of the original's projection in each step's mix (default 0.1).</summary>
    public double AlphaMax { get; init; } = 0.1;

    /// <summary>The overshoot factor of each step past the boundary (default 1.05).</summary>
    public double Eta { get; init; } = 1.05;

    /// <summary>How far back towards the original a success steps: original + beta (point - original) (default 0.9).</summary>
    public double Beta { get; init; } = 0.9;

    /// <summary>The seed of the restarts' random starts (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>"fab-t" for L-inf, "fab-t-l2" for L2.</summary>
    public override string Name => Norm == ThreatNorm.Linf ? "fab-t" : "fab-t-l2";

    /// <inheritdoc/>
    public override Attack WithSeed(int seed) => this with { Seed = seed };

    /// <inheritdoc/>
    protected override bool CandidatesInBox => true;

    /// <inheritdoc/>
    public override void Validate()
    {
        if (!(Epsilon > 0) || !double.IsFinite(Epsilon) || Iterations < 1 || TargetClasses < 1 || Restarts < 1
            || !(AlphaMax >= 0 && AlphaMax <= 1) || !(Eta >= 1) || !(Beta > 0 && Beta <= 1))
        {
            throw new BadInputException(
                $"{Name}: need a finite eps > 0, iterations, targets and restarts >= 1, alpha_max in [0, 1], eta >= 1 and beta in (0, 1]; " +
                $"got eps {Epsilon}, iterations {Iterations}, targets {TargetClasses}, restarts {Restarts}, alpha_max {AlphaMax}, eta {Eta}, beta {Beta}");
        }
    }

    /// <inheritdoc/>
    /// <exception cref="BadInputException">A model whose box is not [0, 1], or a targeted criterion (FAB-T picks its own targets).</exception>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys) =>
        PerturbCore(model, images, criterion, keys, GradientOracle.Logits(model, images));

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys, Tensor cleanLogits)
    {
        if (!model.Input.Box.IsUnitInterval)
        {
            throw new BadInputException($"{Name}: FAB's projection needs inputs in [0, 1]; model '{model.GetName()}' takes {model.Input.Box}");
        }
        if (criterion.IsTargeted)
        {
            throw new BadInputException($"{Name}: picks its own targets (the most likely wrong classes); run it untargeted");
        }
        long rows = images.shape[0];
        var result = images.clone();
        var evaluations = zeros(rows, dtype: ScalarType.Int64, device: images.device);
        var fooled = criterion.IsAdversarial(cleanLogits);
        var ranked = cleanLogits.argsort(1, descending: true);
        int run = 0;
        for (int rank = 1; rank <= Math.Min(TargetClasses, model.ClassCount - 1); rank++)
        {
            for (int restart = 0; restart < Restarts; restart++, run++)
            {
                using var runScope = NewDisposeScope();
                var active = fooled.logical_not().nonzero().squeeze(1);
                if (active.shape[0] == 0)
                {
                    return new PerturbOutput(result, evaluations, fooled);
                }
                var x = images.index_select(0, active);
                var start = restart == 0 ? x : RandomStart(images, keys, run, active);
                var (found, distance) = SingleRun(model, x, criterion.Labels.index_select(0, active), ranked.index_select(0, active)[.., rank], start);
                var success = distance.le(Epsilon * (1 + 1e-6));
                result.index_copy_(0, active, where(success.unsqueeze(1), found, x));
                evaluations.index_add_(0, active, full(active.shape[0], (long)Iterations, dtype: ScalarType.Int64, device: images.device), 1);
                fooled.index_copy_(0, active, success);
            }
        }
        return new PerturbOutput(result, evaluations, fooled);
    }

    /// <summary>One run: the smallest adversarial point found per row (the input where none) and its distance (infinite where none).</summary>
    private (Tensor Found, Tensor Distance) SingleRun(Classifier model, Tensor original, Tensor labels, Tensor targets, Tensor start)
    {
        long rows = original.shape[0];
        var found = original.clone();
        var distance = full(rows, double.PositiveInfinity, dtype: original.dtype, device: original.device);
        var current = start.clone();
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            using var iterationScope = NewDisposeScope();
            // The linearised boundary between label and target at the current point: f(z) = z_target - z_label.
            var evaluation = GradientOracle.Evaluate(model, current, (_, logits) =>
                logits.gather(1, targets.unsqueeze(1)).squeeze(1) - logits.gather(1, labels.unsqueeze(1)).squeeze(1));
            var gradient = evaluation.Gradient.nan_to_num(0.0);
            var offset = (gradient * current).sum(1) - evaluation.Value;
            var projected = Project(cat([current, original], 0), cat([gradient, gradient], 0), cat([offset, offset], 0));
            var fromCurrent = projected.narrow(0, 0, rows);
            var fromOriginal = projected.narrow(0, rows, rows);
            var sizes = Measure(projected).clamp_min(1e-8);
            var alpha = (sizes.narrow(0, 0, rows) / (sizes.narrow(0, 0, rows) + sizes.narrow(0, rows, rows))).clamp(0, AlphaMax).unsqueeze(1);
            var next = ((current + Eta * fromCurrent) * (1 - alpha) + (original + Eta * fromOriginal) * alpha).clamp(0, 1);

            var adversarial = GradientOracle.Logits(model, next).argmax(1).ne(labels);
            var size = Measure(next - original);
            var better = adversarial.logical_and(size.lt(distance));
            found.copy_(where(better.unsqueeze(1), next, found));
            distance.copy_(where(better, size, distance));
            // After a success, step back towards the original: the next iterate searches closer.
            current.copy_(where(adversarial.unsqueeze(1), original + (next - original) * Beta, next));
        }
        return (found, distance);
    }

    private Tensor Project(Tensor points, Tensor normals, Tensor offsets) =>
        Norm == ThreatNorm.Linf ? FabProjections.Linf(points, normals, offsets) : FabProjections.L2(points, normals, offsets);

    private Tensor Measure(Tensor steps) =>
        Norm == ThreatNorm.Linf ? steps.abs().amax([1]) : steps.square().sum(1).sqrt();

    /// <summary>A random point within eps / 2 of each active row (the reference's restarts), from the row's own stream.</summary>
    private Tensor RandomStart(Tensor images, RowKeys keys, int run, Tensor active)
    {
        var draw = DrawPerRow(images.shape[0], images.shape[1], Seed, keys, stream: run, normal: Norm == ThreatNorm.L2)
            .to(images.device).index_select(0, active);
        var size = Norm == ThreatNorm.Linf ? draw.abs().amax([1], keepdim: true) : draw.square().sum(1, keepdim: true).sqrt();
        return (images.index_select(0, active) + draw / size.add(1e-12) * (Epsilon / 2)).clamp(0, 1);
    }
}
