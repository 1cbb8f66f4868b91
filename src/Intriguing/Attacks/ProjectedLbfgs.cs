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

    /// <summary>Sees every row's current point and logits after each iteration; <c>valid</c> (bool [N]) marks rows that hold a real point.</summary>
    public delegate void Observer(Tensor points, Tensor logits, Tensor valid);

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
        var point = start.detach().clone();
        var value = zeros(rowCount, dtype: start.dtype);
        var gradient = zeros_like(point);
        var logits = zeros(rowCount, Models.Classifier.ClassCount, dtype: start.dtype);
        var active = enabled.clone();

        // First evaluation of the enabled rows.
        var firstRows = RowsOf(active, out long firstCount);
        if (firstCount == 0)
        {
            return;
        }
        Evaluate(objective, point, firstRows, rowCount, firstCount, value, logits, gradient, evaluations);
        observe(point, logits, active);

        var steps = zeros(History, rowCount, point.shape[1], dtype: start.dtype);
        var gradientChanges = zeros_like(steps);
        var inverseCurvature = zeros(History, rowCount, dtype: start.dtype);
        var scaling = ones(rowCount, dtype: start.dtype);
        var hasHistory = zeros(rowCount, dtype: ScalarType.Bool);
        int stored = 0;

        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            using var iterationScope = NewDisposeScope();
            // Active set: at a bound with the gradient pushing outwards. Only free coordinates move.
            var free = point.le(0).logical_and(gradient.gt(0))
                .logical_or(point.ge(1).logical_and(gradient.lt(0)))
                .logical_not().to_type(start.dtype);
            var projectedGradient = gradient * free;
            active.logical_and_(projectedGradient.abs().amax(1).gt(GradientTolerance));

            var direction = -TwoLoop(projectedGradient, steps, gradientChanges, inverseCurvature, scaling, stored) * free;
            var slope = (projectedGradient * direction).sum(1);
            var notDescent = slope.ge(0).logical_or(slope.isfinite().logical_not());
            direction = where(notDescent.unsqueeze(1), -projectedGradient, direction);
            // A row whose quasi-Newton direction failed forgets its history and restarts from steepest descent.
            var keep = notDescent.logical_not();
            inverseCurvature.mul_(keep.to_type(start.dtype));
            scaling = where(notDescent, ones_like(scaling), scaling);
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
                var rows = RowsOf(pending, out long pendingCount);
                if (pendingCount == 0)
                {
                    break;
                }
                bool all = pendingCount == rowCount;
                var from = all ? point : point.index_select(0, rows);
                var along = all ? direction : direction.index_select(0, rows);
                var length = all ? stepLength : stepLength.index_select(0, rows);
                var fromValue = all ? value : value.index_select(0, rows);
                var fromGradient = all ? gradient : gradient.index_select(0, rows);
                var candidate = (from + length.unsqueeze(1) * along).clamp(0.0, 1.0);
                var evaluation = objective(candidate, all ? null : rows);
                evaluations.index_add_(0, rows, ones(pendingCount, dtype: ScalarType.Int64), 1);
                var predicted = (fromGradient * (candidate - from)).sum(1);
                var accepted = evaluation.Value.le(fromValue + ArmijoSlope * predicted)
                    .logical_and(evaluation.Value.isfinite());
                var acceptedColumn = accepted.unsqueeze(1);
                nextPoint.index_copy_(0, rows, where(acceptedColumn, candidate, nextPoint.index_select(0, rows)));
                nextValue.index_copy_(0, rows, where(accepted, evaluation.Value, nextValue.index_select(0, rows)));
                nextGradient.index_copy_(0, rows, where(acceptedColumn, evaluation.Gradient, nextGradient.index_select(0, rows)));
                nextLogits.index_copy_(0, rows, where(acceptedColumn, evaluation.Logits, nextLogits.index_select(0, rows)));
                pending.index_copy_(0, rows, accepted.logical_not());
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
            scaling = where(store, curvature / changeSquared, scaling);
            hasHistory.logical_or_(store);
            stored++;

            var decrease = value - nextValue;
            var magnitude = value.abs().maximum(nextValue.abs()).clamp_min(1.0);
            active.logical_and_(decrease.gt(FunctionTolerance * magnitude));

            point.copy_(nextPoint);
            value.copy_(nextValue);
            gradient.copy_(nextGradient);
            logits.copy_(nextLogits);
            scaling = scaling.MoveToOuterDisposeScope();
            observe(point, logits, enabled);
            if (!active.any().item<bool>())
            {
                break;
            }
        }
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

    private static Tensor RowsOf(Tensor mask, out long count)
    {
        var rows = mask.nonzero().squeeze(1);
        count = rows.shape[0];
        return rows;
    }

    private static void Evaluate(RowObjective objective, Tensor source, Tensor rows, long rowCount, long count,
        Tensor value, Tensor logits, Tensor gradient, Tensor evaluations)
    {
        bool all = count == rowCount;
        var evaluation = objective(all ? source : source.index_select(0, rows), all ? null : rows);
        value.index_copy_(0, rows, evaluation.Value);
        logits.index_copy_(0, rows, evaluation.Logits);
        gradient.index_copy_(0, rows, evaluation.Gradient);
        evaluations.index_add_(0, rows, ones(count, dtype: ScalarType.Int64), 1);
    }
}
