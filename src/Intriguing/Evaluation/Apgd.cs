using Intriguing.Attacks;
using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>The objective APGD climbs.</summary>
public enum ApgdLoss
{
    /// <summary>Cross-entropy of the true class (APGD-CE); of the target, descended, when the criterion has targets.</summary>
    CrossEntropy,

    /// <summary>The difference-of-logits ratio, -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3): scale-invariant (APGD-DLR).</summary>
    Dlr,

    /// <summary>
    /// The targeted DLR, -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2), run once per target: the clean input's 2nd to
    /// (<see cref="Apgd.TargetClasses"/> + 1)-th most likely classes in turn, each only on the rows still robust (APGD-T).
    /// </summary>
    TargetedDlr,
}

/// <summary>
/// Auto-PGD, the engine of <see cref="ApgdLinf"/> and <see cref="ApgdL2"/>. Croce and Hein, "Reliable evaluation of
/// adversarial robustness with an ensemble of diverse parameter-free attacks", ICML 2020,
/// https://arxiv.org/abs/2003.01690 (Algorithm 1). PGD without a step size to tune: the step starts at 2 eps and is
/// halved at checkpoints w_j (the first after 22% of the iterations, each next one 3% of them sooner, never closer than
/// 6%) when the loss rose in at most <see cref="Rho"/> of the steps since the last checkpoint (condition 1), or when the
/// step was not halved at the last checkpoint and the best loss has not improved since (condition 2); on halving, the
/// iterate restarts from the best point found. Each step has momentum 0.75:
/// z = P(x_k + eta sign/normalised grad), x_{k+1} = P(x_k + 0.75 (z - x_k) + 0.25 (x_k - x_{k-1})).
/// A row stops as soon as it is fooled (its first adversarial iterate is kept); rows already misclassified are returned
/// unchanged. The random start of each row comes from its own stream (seed, row index, run), so a row's result never
/// depends on its batch. Input: any model's, every iterate inside the eps-ball and the model's box.
/// </summary>
public abstract record Apgd : Attack
{
    /// <summary>The radius eps of the ball, in the variant's norm (L-inf 0.3, L2 2.0 by default).</summary>
    public double Epsilon { get; init; }

    /// <summary>Iterations per run (AutoAttack: 100).</summary>
    public int Iterations { get; init; } = 100;

    /// <summary>Runs from fresh random starts; a row keeps the first that fools it (AutoAttack: 1).</summary>
    public int Restarts { get; init; } = 1;

    /// <summary>The objective to climb (default <see cref="ApgdLoss.CrossEntropy"/>, APGD-CE).</summary>
    public ApgdLoss Loss { get; init; } = ApgdLoss.CrossEntropy;

    /// <summary>For <see cref="ApgdLoss.TargetedDlr"/>: how many of the most likely wrong classes to aim at in turn (AutoAttack: 9).</summary>
    public int TargetClasses { get; init; } = 9;

    /// <summary>Condition 1's fraction: halve the step when the loss rose in at most this share of the steps since the last checkpoint.</summary>
    public double Rho { get; init; } = 0.75;

    /// <summary>The seed of the random starts (default 0).</summary>
    public int Seed { get; init; }

    /// <inheritdoc/>
    public override Attack WithSeed(int seed) => this with { Seed = seed };

    /// <summary>Every iterate is projected onto the eps-ball and clamped to the box; NaN gradient entries are read as 0.</summary>
    protected override bool CandidatesInBox => true;

    /// <summary>The name's loss part: "ce", "dlr" or "t".</summary>
    protected string LossSuffix => Loss switch { ApgdLoss.CrossEntropy => "ce", ApgdLoss.Dlr => "dlr", _ => "t" };

    /// <summary>The step direction for a gradient, float [N, D]: sign(g) for L-inf, g / ||g||_2 for L2.</summary>
    protected abstract Tensor Direction(Tensor gradient);

    /// <summary>Projects points [N, D] onto the eps-ball around <paramref name="images"/> (not the box).</summary>
    protected abstract Tensor ProjectOntoBall(Tensor points, Tensor images);

    /// <summary>A random start inside the eps-ball for rows keyed on <paramref name="keys"/> of run <paramref name="run"/>, float [N, D] on the CPU.</summary>
    protected abstract Tensor RandomStart(long rows, long features, RowKeys keys, int run);

    /// <summary>
    /// The iterations after which the step size is checked: the first after 22% of <paramref name="iterations"/>, then
    /// each interval 3% shorter than the last, never shorter than 6% (the reference's integer rounding: for 100
    /// iterations 22, 41, 57, 70, 80, 87, 93, 99).
    /// </summary>
    public static IReadOnlyList<int> Checkpoints(int iterations)
    {
        int interval = Math.Max((int)(0.22 * iterations), 1);
        int shrink = Math.Max((int)(0.03 * iterations), 1);
        int shortest = Math.Max((int)(0.06 * iterations), 1);
        var checkpoints = new List<int>();
        for (int at = interval; at <= iterations; at += interval = Math.Max(interval - shrink, shortest))
        {
            checkpoints.Add(at);
        }
        return checkpoints;
    }

    /// <inheritdoc/>
    public override void Validate()
    {
        if (!(Epsilon > 0) || !double.IsFinite(Epsilon) || Iterations < 1 || Restarts < 1 || TargetClasses < 1 || !(Rho > 0 && Rho <= 1))
        {
            throw new BadInputException(
                $"{Name}: need a finite eps > 0, iterations >= 1, restarts >= 1, target classes >= 1 and rho in (0, 1]; " +
                $"got eps {Epsilon}, iterations {Iterations}, restarts {Restarts}, target classes {TargetClasses}, rho {Rho}");
        }
    }

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys) =>
        PerturbCore(model, images, criterion, keys, GradientOracle.Logits(model, images));

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys, Tensor cleanLogits)
    {
        long rows = images.shape[0];
        var result = images.clone();
        var evaluations = zeros(rows, dtype: ScalarType.Int64, device: images.device);
        var fooled = criterion.IsAdversarial(cleanLogits);
        int minimumClasses = Loss switch { ApgdLoss.Dlr => 3, ApgdLoss.TargetedDlr => 4, _ => 2 };
        if (model.ClassCount < minimumClasses)
        {
            throw new BadInputException($"{Name}: the {Loss} loss needs at least {minimumClasses} classes; model '{model.GetName()}' has {model.ClassCount}");
        }

        // (run, target rank) pairs in the reference's order: for each target, every restart.
        var targetRanks = Loss == ApgdLoss.TargetedDlr && !criterion.IsTargeted
            ? Enumerable.Range(1, Math.Min(TargetClasses, model.ClassCount - 1)).ToArray()
            : [0];
        var sortedClasses = cleanLogits.argsort(1, descending: true);
        int run = 0;
        foreach (int rank in targetRanks)
        {
            for (int restart = 0; restart < Restarts; restart++, run++)
            {
                using var runScope = NewDisposeScope();
                var active = fooled.logical_not().nonzero().squeeze(1);
                if (active.shape[0] == 0)
                {
                    return new PerturbOutput(result, evaluations, fooled);
                }
                var start = RandomStart(rows, images.shape[1], keys, run).to(images.device).index_select(0, active);
                var targets = rank > 0 ? sortedClasses.index_select(0, active)[.., rank] : null;
                var outcome = SingleRun(model, images.index_select(0, active), criterion.Take(active), targets, start);
                result.index_copy_(0, active, where(outcome.Fooled.unsqueeze(1), outcome.Adversarials, result.index_select(0, active)));
                evaluations.index_add_(0, active, outcome.Evaluations, 1);
                fooled.index_copy_(0, active, outcome.Fooled);
            }
        }
        return new PerturbOutput(result, evaluations, fooled);
    }

    private sealed record RunOutcome(Tensor Adversarials, Tensor Fooled, Tensor Evaluations);

    /// <summary>
    /// One run of Algorithm 1 on rows that are not yet fooled: the first adversarial iterate of each row (its input where
    /// none), which rows were fooled, and the forward+backward passes each spent. Fooled rows leave the batch at once.
    /// Temporaries live one iteration; the live state is held outside the dispose scopes and replaced explicitly.
    /// </summary>
    private RunOutcome SingleRun(Classifier model, Tensor images, Criterion criterion, Tensor? targets, Tensor start)
    {
        var box = model.Input.Box;
        long rows = images.shape[0];
        var found = images.clone();
        var fooled = zeros(rows, dtype: ScalarType.Bool, device: images.device);
        var evaluations = zeros(rows, dtype: ScalarType.Int64, device: images.device);

        using var state = new RunState();
        var labels = criterion;
        using (var setup = NewDisposeScope())
        {
            var first = box.Clamp(ProjectOntoBall(images + start, images));
            var evaluation = Evaluate(model, first, labels, targets);
            state.Set(
                index: arange(rows, device: images.device),
                images: images.clone(),
                targets: targets?.clone(),
                current: first,
                previous: first.clone(),
                gradient: evaluation.Gradient,
                step: full(rows, 2 * Epsilon, dtype: images.dtype, device: images.device),
                best: first.clone(),
                bestGradient: evaluation.Gradient.clone(),
                bestLoss: evaluation.Value.clone(),
                bestAtLastCheck: evaluation.Value.clone(),
                halvedAtLastCheck: ones(rows, dtype: ScalarType.Bool, device: images.device),
                previousLoss: evaluation.Value.clone(),
                rises: zeros(rows, dtype: ScalarType.Int64, device: images.device),
                fooledNow: labels.IsAdversarial(evaluation.Logits));
            var startFooled = state.FooledNow.nonzero().squeeze(1);
            found.index_copy_(0, startFooled, first.index_select(0, startFooled));
        }
        evaluations.add_(1);

        var checkpoints = Checkpoints(Iterations);
        int nextCheckpoint = 0, lastCheckpoint = 0;
        for (int iteration = 0; ; iteration++)
        {
            using var iterationScope = NewDisposeScope();
            if (state.FooledNow.any().item<bool>())
            {
                // Each fooled row's point is already in `found`: mark it and drop it from the live state.
                var done = state.FooledNow.nonzero().squeeze(1);
                fooled.index_fill_(0, state.Index.index_select(0, done), true);
                var keep = state.FooledNow.logical_not().nonzero().squeeze(1);
                if (keep.shape[0] == 0)
                {
                    break;
                }
                state.Keep(keep);
                // The narrowed labels live as long as this run (small: one int64 per row).
                labels = labels.Take(keep);
                labels.Labels.MoveToOuterDisposeScope();
                labels.Targets?.MoveToOuterDisposeScope();
            }
            if (iteration == Iterations)
            {
                break;
            }

            // The momentum step (Algorithm 1, lines 5-6); the first step has none.
            double momentum = iteration > 0 ? 0.75 : 1.0;
            var x = state.Images;
            var current = state.Current;
            var stepped = box.Clamp(ProjectOntoBall(current + state.Step.unsqueeze(1) * Direction(state.Gradient), x));
            var next = box.Clamp(ProjectOntoBall(current + momentum * (stepped - current) + (1 - momentum) * (current - state.Previous), x));

            var evaluation = Evaluate(model, next, labels, state.Targets);
            evaluations.index_add_(0, state.Index, ones_like(state.Index), 1);
            var loss = evaluation.Value;
            var rises = state.Rises + loss.gt(state.PreviousLoss).to_type(ScalarType.Int64);
            var improved = loss.gt(state.BestLoss);
            var best = where(improved.unsqueeze(1), next, state.Best);
            var bestGradient = where(improved.unsqueeze(1), evaluation.Gradient, state.BestGradient);
            var bestLoss = where(improved, loss, state.BestLoss);
            var gradient = evaluation.Gradient;
            var step = state.Step;
            var halvedAtLastCheck = state.HalvedAtLastCheck;
            var bestAtLastCheck = state.BestAtLastCheck;
            var fooledNow = labels.IsAdversarial(evaluation.Logits);
            var carried = next;

            if (nextCheckpoint < checkpoints.Count && iteration + 1 == checkpoints[nextCheckpoint])
            {
                int window = checkpoints[nextCheckpoint] - lastCheckpoint;
                // Checkpoint: condition 1 (the loss rose in at most rho of the steps since the last one) or condition 2
                // (not halved last time and no better loss since): halve the step and go back to the best point.
                var oscillating = rises.le((long)Math.Floor(window * Rho));
                var stalled = halvedAtLastCheck.logical_not().logical_and(bestAtLastCheck.ge(bestLoss));
                var halve = oscillating.logical_or(stalled);
                halvedAtLastCheck = halve;
                bestAtLastCheck = bestLoss.clone();
                step = where(halve, step / 2, step);
                carried = where(halve.unsqueeze(1), best, next);
                gradient = where(halve.unsqueeze(1), bestGradient, gradient);
                rises = zeros_like(rises);
                lastCheckpoint = checkpoints[nextCheckpoint++];
            }
            // A row fooled at this iterate keeps the iterate itself, before any restart from the best point.
            var newlyFooled = fooledNow.nonzero().squeeze(1);
            found.index_copy_(0, state.Index.index_select(0, newlyFooled), next.index_select(0, newlyFooled));
            state.Set(
                index: state.Index,
                images: x,
                targets: state.Targets,
                current: carried,
                previous: current,
                gradient: gradient,
                step: step,
                best: best,
                bestGradient: bestGradient,
                bestLoss: bestLoss,
                bestAtLastCheck: bestAtLastCheck,
                halvedAtLastCheck: halvedAtLastCheck,
                previousLoss: loss,
                rises: rises,
                fooledNow: fooledNow);
        }
        return new RunOutcome(found, fooled, evaluations);
    }

    /// <summary>APGD's per-row live state, held outside every dispose scope: each <see cref="Set"/> frees what it replaces.</summary>
    private sealed class RunState : IDisposable
    {
        private Tensor?[] slots = new Tensor?[15];

        public Tensor Index => slots[0]!;
        public Tensor Images => slots[1]!;
        public Tensor? Targets => slots[2];
        public Tensor Current => slots[3]!;
        public Tensor Previous => slots[4]!;
        public Tensor Gradient => slots[5]!;
        public Tensor Step => slots[6]!;
        public Tensor Best => slots[7]!;
        public Tensor BestGradient => slots[8]!;
        public Tensor BestLoss => slots[9]!;
        public Tensor BestAtLastCheck => slots[10]!;
        public Tensor HalvedAtLastCheck => slots[11]!;
        public Tensor PreviousLoss => slots[12]!;
        public Tensor Rises => slots[13]!;
        public Tensor FooledNow => slots[14]!;

        /// <summary>
        /// Replaces the whole state: a slot given its current tensor keeps it, a tensor that no slot holds any more is
        /// freed.
        /// </summary>
        public void Set(Tensor index, Tensor images, Tensor? targets, Tensor current, Tensor previous, Tensor gradient, Tensor step,
            Tensor best, Tensor bestGradient, Tensor bestLoss, Tensor bestAtLastCheck, Tensor halvedAtLastCheck, Tensor previousLoss,
            Tensor rises, Tensor fooledNow)
        {
            Tensor?[] next = [index, images, targets, current, previous, gradient, step, best, bestGradient, bestLoss, bestAtLastCheck,
                halvedAtLastCheck, previousLoss, rises, fooledNow];
            foreach (var tensor in next)
            {
                tensor?.DetachFromDisposeScope();
            }
            foreach (var old in slots)
            {
                if (old is not null && !next.Any(tensor => ReferenceEquals(tensor, old)))
                {
                    old.Dispose();
                }
            }
            slots = next;
        }

        /// <summary>Keeps only the rows <paramref name="keep"/> of every slot.</summary>
        public void Keep(Tensor keep) =>
            Set(Index.index_select(0, keep), Images.index_select(0, keep), Targets?.index_select(0, keep), Current.index_select(0, keep),
                Previous.index_select(0, keep), Gradient.index_select(0, keep), Step.index_select(0, keep), Best.index_select(0, keep),
                BestGradient.index_select(0, keep), BestLoss.index_select(0, keep), BestAtLastCheck.index_select(0, keep),
                HalvedAtLastCheck.index_select(0, keep), PreviousLoss.index_select(0, keep), Rises.index_select(0, keep),
                FooledNow.index_select(0, keep));

        public void Dispose() => Free();

        private void Free()
        {
            foreach (var tensor in slots.Where(tensor => tensor is not null).Distinct(ReferenceEqualityComparer.Instance))
            {
                ((Tensor)tensor!).Dispose();
            }
            slots = new Tensor?[15];
        }
    }

    /// <summary>The loss to climb, its logits and its gradient, with NaN gradient entries read as 0.</summary>
    private GradientOracle.Evaluation Evaluate(Classifier model, Tensor points, Criterion criterion, Tensor? targets)
    {
        var evaluation = GradientOracle.Evaluate(model, points, (_, logits) => Objective(logits, criterion, targets));
        return evaluation with { Gradient = evaluation.Gradient.nan_to_num(0.0) };
    }

    /// <summary>The per-row objective to maximise, float [N].</summary>
    private Tensor Objective(Tensor logits, Criterion criterion, Tensor? targets)
    {
        if (Loss == ApgdLoss.CrossEntropy)
        {
            // The criterion's cross-entropy is what attacks descend (-CE(label), or CE(target) when targeted).
            return -criterion.CrossEntropyLoss(logits);
        }
        var target = targets ?? criterion.Targets;
        var sorted = logits.sort(1, descending: true).Values;
        var labelLogit = logits.gather(1, criterion.Labels.unsqueeze(1)).squeeze(1);
        if (target is null)
        {
            // DLR: -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3).
            var isLabel = nn.functional.one_hot(criterion.Labels, logits.shape[1]).to_type(ScalarType.Bool);
            var otherMax = logits.masked_fill(isLabel, float.NegativeInfinity).amax(1);
            return -(labelLogit - otherMax) / (sorted[.., 0] - sorted[.., 2] + 1e-12);
        }
        // Targeted DLR: -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2).
        var targetLogit = logits.gather(1, target.unsqueeze(1)).squeeze(1);
        return -(labelLogit - targetLogit) / (sorted[.., 0] - (sorted[.., 2] + sorted[.., 3]) / 2 + 1e-12);
    }
}
