using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// A batched, box-constrained L-BFGS minimiser over [0,1]^D in the style of L-BFGS-B's projected variants
/// (Byrd, Lu, Nocedal and Zhu 1995; the "projected L-BFGS" of Schmidt et al.). The bounds live inside the
/// optimiser, not in a clamp after an unconstrained step:
/// <list type="bullet">
/// <item>the active set holds the coordinates at a bound whose gradient points out of the box; the
/// search direction is the two-loop L-BFGS direction over the free coordinates only (zero on the active set),
/// falling back to the projected steepest descent when that is not a descent direction;</item>
/// <item>a projected backtracking line search accepts x(a) = P[x + a d] by the Armijo condition measured
/// along the projected path, f(x(a)) &lt;= f(x) + 1e-4 g.(x(a) - x);</item>
/// <item>it stops a row when its projected gradient vanishes, its relative decrease falls below a tolerance,
/// or its line search fails.</item>
/// </list>
/// Every row is its own problem: its own history (pairs that fail the curvature test are skipped for that
/// row only), its own step, its own stopping. Rows share only the tensors, so one forward and backward pass
/// serves the whole batch; line-search retries and late iterations evaluate only the rows that still need it.
/// </summary>
internal sealed class ProjectedLbfgs
{
    /// <summary>Evaluates the objective at <c>points</c> for the batch rows <c>rows</c> (int64), or all rows when null.</summary>
    public delegate GradientOracle.Evaluation RowObjective(Tensor points, Tensor? rows);

    /// <summary>Sees the current points and logits of the working rows (int64 batch indices <c>rows</c>) after each iteration.</summary>
    public delegate void Observer(Tensor points, Tensor logits, Tensor rows);

    public required int History { get; init; }

    public required int MaxIterations { get; init; }

    public required double FunctionTolerance { get; init; }

    public required double GradientTolerance { get; init; }

    public int MaxLineSearchSteps { get; init; } = 20;

    private const double ArmijoSlope = 1e-4;
    private const double Backtrack = 0.5;

    /// <summary>
    /// Minimises from <paramref name="start"/> (float [N, D] inside the box) the rows that <paramref name="enabled"/>
    /// (bool [N]) allows; adds one to <paramref name="evaluations"/> (int64 [N]) for every evaluation of a row.
    /// </summary>
    public void Minimize(Tensor start, Tensor enabled, RowObjective objective, Observer observe, Tensor evaluations)
    {
        using var scope = NewDisposeScope();
        long rowCount = start.shape[0];
        // The working set: rows still being optimised, as indices into the batch. All state below is indexed by
        // working position; when most rows have stopped, the state is compacted so the work shrinks with them.
        var rows = enabled.nonzero().squeeze(1);
        long working = rows.shape[0];
        if (working == 0)
        {
            return;
        }
        var point = start.index_select(0, rows);
        var evaluation = objective(point, working == rowCount ? null : rows);
        evaluations.index_add_(0, rows, ones(working, dtype: ScalarType.Int64), 1);
        var value = evaluation.Value;
        var gradient = evaluation.Gradient;
        var logits = evaluation.Logits;
        observe(point, logits, rows);

        var steps = zeros(History, working, point.shape[1], dtype: start.dtype);
        var gradientChanges = zeros_like(steps);
        var inverseCurvature = zeros(History, working, dtype: start.dtype);
        var scaling = ones(working, dtype: start.dtype);
        var hasHistory = zeros(working, dtype: ScalarType.Bool);
        var active = ones(working, dtype: ScalarType.Bool);
        int stored = 0;

        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            using var iterationScope = NewDisposeScope();
            // Active set: at a bound with the gradient pushing outwards. Only free coordinates move.
            var free = FreeCoordinates(point, gradient);
            var projectedGradient = gradient * free;
            active.logical_and_(projectedGradient.abs().amax(1).gt(GradientTolerance));

            var direction = -TwoLoop(projectedGradient, steps, gradientChanges, inverseCurvature, scaling, stored) * free;
            var slope = (projectedGradient * direction).sum(1);
            var notDescent = slope.ge(0).logical_or(slope.isfinite().logical_not());
            direction = lerp(direction, -projectedGradient, notDescent.to_type(start.dtype).unsqueeze(1));
            // A row whose quasi-Newton direction failed forgets its history and restarts from steepest descent.
            var keep = notDescent.logical_not();
            inverseCurvature.mul_(keep.to_type(start.dtype));
            scaling.copy_(where(notDescent, ones_like(scaling), scaling));
            hasHistory.logical_and_(keep);

            // L-BFGS takes the unit step once it has curvature; the first step is scaled to unit length (as L-BFGS-B).
            var stepLength = where(hasHistory, ones_like(scaling), direction.norm(1).reciprocal().clamp_max(1.0));
            var nextPoint = point.clone();
            var nextValue = value.clone();
            var nextGradient = gradient.clone();
            var nextLogits = logits.clone();
            var pending = active.clone();
            for (int trial = 0; trial < MaxLineSearchSteps; trial++)
            {
                var trialPositions = pending.nonzero().squeeze(1);
                long pendingCount = trialPositions.shape[0];
                if (pendingCount == 0)
                {
                    break;
                }
                bool all = pendingCount == working;
                var from = all ? point : point.index_select(0, trialPositions);
                var along = all ? direction : direction.index_select(0, trialPositions);
                var length = all ? stepLength : stepLength.index_select(0, trialPositions);
                var fromValue = all ? value : value.index_select(0, trialPositions);
                var fromGradient = all ? gradient : gradient.index_select(0, trialPositions);
                var trialRows = all ? rows : rows.index_select(0, trialPositions);
                var candidate = (from + length.unsqueeze(1) * along).clamp(0.0, 1.0);
                var trialEvaluation = objective(candidate, trialRows.shape[0] == rowCount ? null : trialRows);
                evaluations.index_add_(0, trialRows, ones(pendingCount, dtype: ScalarType.Int64), 1);
                var predicted = (fromGradient * (candidate - from)).sum(1);
                var accepted = trialEvaluation.Value.le(fromValue + ArmijoSlope * predicted)
                    .logical_and(trialEvaluation.Value.isfinite());
                // Copy accepted rows only (a row-wise index copy, not a [N, D] mask: masks of that size are slow on CPU).
                var acceptedLocal = accepted.nonzero().squeeze(1);
                if (acceptedLocal.shape[0] > 0)
                {
                    var acceptedPositions = trialPositions.index_select(0, acceptedLocal);
                    nextPoint.index_copy_(0, acceptedPositions, candidate.index_select(0, acceptedLocal));
                    nextValue.index_copy_(0, acceptedPositions, trialEvaluation.Value.index_select(0, acceptedLocal));
                    nextGradient.index_copy_(0, acceptedPositions, trialEvaluation.Gradient.index_select(0, acceptedLocal));
                    nextLogits.index_copy_(0, acceptedPositions, trialEvaluation.Logits.index_select(0, acceptedLocal));
                }
                pending.index_copy_(0, trialPositions, accepted.logical_not());
                stepLength = where(pending, stepLength * Backtrack, stepLength);
            }
            // A row whose line search found no decrease is at a (numerical) minimum: it stops here.
            active.logical_and_(pending.logical_not());

            var step = nextPoint - point;
            var gradientChange = nextGradient - gradient;
            var curvature = (step * gradientChange).sum(1);
            var changeSquared = gradientChange.square().sum(1);
            // Curvature condition s.y > eps |y|^2: otherwise this row skips the pair and keeps a positive-definite H.
            var store = active.logical_and(curvature.gt(1e-7 * changeSquared)).logical_and(curvature.gt(0));
            var storeColumn = store.unsqueeze(1).to_type(start.dtype);
            int slot = stored % History;
            steps.select(0, slot).copy_(step * storeColumn);
            gradientChanges.select(0, slot).copy_(gradientChange * storeColumn);
            inverseCurvature.select(0, slot).copy_(where(store, curvature.reciprocal(), zeros_like(curvature)));
            scaling.copy_(where(store, curvature / changeSquared, scaling));
            hasHistory.logical_or_(store);
            stored++;

            var decrease = value - nextValue;
            var magnitude = value.abs().maximum(nextValue.abs()).clamp_min(1.0);
            active.logical_and_(decrease.gt(FunctionTolerance * magnitude));

            point.copy_(nextPoint);
            value.copy_(nextValue);
            gradient.copy_(nextGradient);
            logits.copy_(nextLogits);
            observe(point, logits, rows);

            long stillActive = active.sum().item<long>();
            if (stillActive == 0)
            {
                break;
            }
            if (stillActive * 2 <= working)
            {
                // Compact: drop stopped rows from every state tensor so later iterations cost only what is left.
                var keepPositions = active.nonzero().squeeze(1);
                Compact(ref rows, keepPositions);
                Compact(ref point, keepPositions);
                Compact(ref value, keepPositions);
                Compact(ref gradient, keepPositions);
                Compact(ref logits, keepPositions);
                Compact(ref scaling, keepPositions);
                Compact(ref hasHistory, keepPositions);
                Compact(ref active, keepPositions);
                Compact(ref steps, keepPositions, dimension: 1);
                Compact(ref gradientChanges, keepPositions, dimension: 1);
                Compact(ref inverseCurvature, keepPositions, dimension: 1);
                working = stillActive;
            }
        }
    }

    /// <summary>
    /// 1 where a coordinate may move, 0 where it sits on a bound with the gradient pushing outwards (L-BFGS-B's
    /// active set), as float arithmetic: x in [0,1] means 1 - sign(x) marks x = 0 and 1 - sign(1 - x) marks x = 1.
    /// </summary>
    private static Tensor FreeCoordinates(Tensor point, Tensor gradient)
    {
        var gradientSign = gradient.sign();
        var atLowerPushingOut = (1 - point.sign()).mul_(gradientSign.relu());
        var atUpperPushingOut = (1 - (1 - point).sign_()).mul_(gradientSign.neg().relu_());
        return (1 - atLowerPushingOut).sub_(atUpperPushingOut);
    }

    private static void Compact(ref Tensor state, Tensor keepPositions, int dimension = 0)
    {
        var kept = state.index_select(dimension, keepPositions).MoveToOuterDisposeScope();
        state.Dispose();
        state = kept;
    }

    /// <summary>The two-loop recursion, row by row: returns H g for each row's own history (rows without pairs get gamma g).</summary>
    private Tensor TwoLoop(Tensor gradient, Tensor steps, Tensor gradientChanges, Tensor inverseCurvature, Tensor scaling, int stored)
    {
        int pairs = Math.Min(stored, History);
        var q = gradient.clone();
        var coefficients = new Tensor[History];
        for (int age = 0; age < pairs; age++)
        {
            int slot = (stored - 1 - age) % History;
            var coefficient = inverseCurvature[slot] * (steps[slot] * q).sum(1);
            q.sub_(coefficient.unsqueeze(1) * gradientChanges[slot]);
            coefficients[slot] = coefficient;
        }
        var r = q.mul_(scaling.unsqueeze(1));
        for (int age = pairs - 1; age >= 0; age--)
        {
            int slot = (stored - 1 - age) % History;
            var beta = inverseCurvature[slot] * (gradientChanges[slot] * r).sum(1);
            r.add_(steps[slot] * (coefficients[slot] - beta).unsqueeze(1));
        }
        return r;
    }
}
