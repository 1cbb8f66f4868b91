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
/// <item>a run of a row ends when its projected gradient vanishes, its relative decrease falls below a tolerance,
/// its line search fails, or it reaches <see cref="MaxIterations"/>.</item>
/// </list>
/// Every row is its own problem: its own history (pairs that fail the curvature test are skipped for that row
/// only), its own step, its own stopping. A row may run several times in a row (the c search of
/// <see cref="BoxConstrainedLbfgs"/>): when its run ends, <see cref="RunEnded"/> decides at once whether it starts
/// again (with a new objective and start) or retires. Rows therefore never wait for each other, the batch stays
/// full, and one forward and backward pass serves every row; line-search retries evaluate only the rows that need
/// them, and retired rows are compacted away.
/// </summary>
internal sealed class ProjectedLbfgs
{
    /// <summary>Evaluates the objective at <c>points</c> for the batch rows <c>rows</c> (int64), or all rows when null.</summary>
    public delegate GradientOracle.Evaluation RowObjective(Tensor points, Tensor? rows);

    /// <summary>Sees the current points and logits of the working rows (int64 batch indices <c>rows</c>) after each iteration.</summary>
    public delegate void Observer(Tensor points, Tensor logits, Tensor rows);

    /// <summary>
    /// Called with the rows whose run just ended (int64 batch indices), their final points and logits. Returns, per
    /// row, whether it runs again (bool [k]) and where from (float [k, D]; ignored for rows that retire).
    /// </summary>
    public delegate (Tensor Continues, Tensor RestartPoints) RunEnded(Tensor rows, Tensor points, Tensor logits);

    public required int History { get; init; }

    public required int MaxIterations { get; init; }

    public required double FunctionTolerance { get; init; }

    public required double GradientTolerance { get; init; }

    public int MaxLineSearchSteps { get; init; } = 20;

    private const double ArmijoSlope = 1e-4;
    private const double Backtrack = 0.5;

    /// <summary>
    /// Runs every row from <paramref name="start"/> (float [N, D] inside the box) until <paramref name="runEnded"/>
    /// retires it; adds one to <paramref name="evaluations"/> (int64 [N]) for every evaluation of a row.
    /// </summary>
    public void Minimize(Tensor start, RowObjective objective, Observer observe, RunEnded runEnded, Tensor evaluations)
    {
        using var scope = NewDisposeScope();
        var state = new State(this, start, objective, evaluations);
        observe(state.Point, state.Logits, state.Rows);
        while (state.Working > 0)
        {
            using var iterationScope = NewDisposeScope();
            state.Iterate();
            observe(state.Point, state.Logits, state.Rows);

            var ended = state.Running.logical_not().nonzero().squeeze(1);
            if (ended.shape[0] == 0)
            {
                continue;
            }
            var (continues, restartPoints) = runEnded(
                state.Rows.index_select(0, ended), state.Point.index_select(0, ended), state.Logits.index_select(0, ended));
            var restarting = ended.masked_select(continues);
            if (restarting.shape[0] > 0)
            {
                state.Restart(restarting, restartPoints.index_select(0, continues.nonzero().squeeze(1)));
            }
            var retiring = ended.masked_select(continues.logical_not());
            if (retiring.shape[0] > 0)
            {
                state.Retire(retiring);
            }
        }
    }

    /// <summary>The optimiser state of the working rows; every tensor is indexed by working position.</summary>
    private sealed class State
    {
        private readonly ProjectedLbfgs settings;
        private readonly RowObjective objective;
        private readonly Tensor evaluations;
        private readonly long batchSize;
        private readonly ScalarType dtype;
        private int stored;

        private Tensor steps;
        private Tensor gradientChanges;
        private Tensor inverseCurvature;
        private Tensor scaling;
        private Tensor hasHistory;
        private Tensor runIterations;
        private Tensor retired;

        public State(ProjectedLbfgs settings, Tensor start, RowObjective objective, Tensor evaluations)
        {
            this.settings = settings;
            this.objective = objective;
            this.evaluations = evaluations;
            batchSize = start.shape[0];
            dtype = start.dtype;
            Working = batchSize;
            Rows = arange(batchSize, dtype: ScalarType.Int64);
            Point = start.detach().clone();
            var evaluation = Evaluate(Point, Rows);
            Value = evaluation.Value;
            Gradient = evaluation.Gradient;
            Logits = evaluation.Logits;
            steps = zeros(settings.History, batchSize, start.shape[1], dtype: dtype);
            gradientChanges = zeros_like(steps);
            inverseCurvature = zeros(settings.History, batchSize, dtype: dtype);
            scaling = ones(batchSize, dtype: dtype);
            hasHistory = zeros(batchSize, dtype: ScalarType.Bool);
            runIterations = zeros(batchSize, dtype: ScalarType.Int64);
            Running = ones(batchSize, dtype: ScalarType.Bool);
            retired = zeros(batchSize, dtype: ScalarType.Bool);
        }

        public long Working { get; private set; }

        public Tensor Rows { get; private set; }

        public Tensor Point { get; private set; }

        public Tensor Value { get; private set; }

        public Tensor Gradient { get; private set; }

        public Tensor Logits { get; private set; }

        /// <summary>Bool [working]: rows whose current run has not ended.</summary>
        public Tensor Running { get; private set; }

        /// <summary>One L-BFGS iteration for every running row.</summary>
        public void Iterate()
        {
            // Active set: at a bound with the gradient pushing outwards. Only free coordinates move.
            var blocked = BlockedCoordinates(Point, Gradient);
            var projectedGradient = Gradient.masked_fill(blocked, 0.0);
            Running.logical_and_(projectedGradient.abs().amax(1).gt(settings.GradientTolerance));

            var direction = TwoLoop(projectedGradient).neg_().masked_fill_(blocked, 0.0);
            var slope = RowDot(projectedGradient, direction);
            var notDescent = slope.ge(0).logical_or_(slope.isfinite().logical_not_());
            // A row whose quasi-Newton direction failed takes the projected steepest descent (rare: rows are copied
            // by index instead of blending the whole batch) and forgets its history.
            var notDescentPositions = notDescent.nonzero().squeeze(1);
            if (notDescentPositions.shape[0] > 0)
            {
                direction.index_copy_(0, notDescentPositions, projectedGradient.index_select(0, notDescentPositions).neg_());
                ForgetHistory(notDescent);
            }

            // L-BFGS takes the unit step once it has curvature; the first step is scaled to unit length (as L-BFGS-B).
            var stepLength = where(hasHistory, ones_like(scaling), direction.norm(1).reciprocal().clamp_max(1.0));
            // The state after the line search; rows whose search fails keep the current one.
            Tensor? nextPoint = null, nextValue = null, nextGradient = null, nextLogits = null;
            var pending = Running.clone();
            var firstPositions = pending.nonzero().squeeze(1);
            if (firstPositions.shape[0] > 0)
            {
                // First trial, the unit step that most rows accept: computed over the whole state, so the next state
                // is the evaluation itself and only rejected (or not running) rows are copied back.
                bool all = firstPositions.shape[0] == Working;
                var candidate = Point.addcmul(direction, stepLength.unsqueeze(1), 1).clamp_(0.0, 1.0);
                var evaluation = Evaluate(all ? candidate : candidate.index_select(0, firstPositions),
                    all ? Rows : Rows.index_select(0, firstPositions));
                var predicted = RowDot(Gradient, candidate - Point);
                nextPoint = candidate;
                nextValue = all ? evaluation.Value : Value.index_copy(0, firstPositions, evaluation.Value);
                nextGradient = all ? evaluation.Gradient : Gradient.index_copy(0, firstPositions, evaluation.Gradient);
                nextLogits = all ? evaluation.Logits : Logits.index_copy(0, firstPositions, evaluation.Logits);
                var accepted = nextValue.le(Value + ArmijoSlope * predicted)
                    .logical_and_(nextValue.isfinite()).logical_and_(pending);
                pending.logical_and_(accepted.logical_not());
                var keepCurrent = accepted.logical_not().nonzero().squeeze(1);
                if (keepCurrent.shape[0] > 0)
                {
                    nextPoint.index_copy_(0, keepCurrent, Point.index_select(0, keepCurrent));
                    nextValue.index_copy_(0, keepCurrent, Value.index_select(0, keepCurrent));
                    nextGradient.index_copy_(0, keepCurrent, Gradient.index_select(0, keepCurrent));
                    nextLogits.index_copy_(0, keepCurrent, Logits.index_select(0, keepCurrent));
                }
                stepLength = where(pending, stepLength * Backtrack, stepLength);
            }
            // Backtracking for the rows that rejected their step: evaluated on those rows only.
            for (int trial = 1; trial < settings.MaxLineSearchSteps; trial++)
            {
                var positions = pending.nonzero().squeeze(1);
                long pendingCount = positions.shape[0];
                if (pendingCount == 0)
                {
                    break;
                }
                var from = Point.index_select(0, positions);
                var along = direction.index_select(0, positions);
                var length = stepLength.index_select(0, positions);
                var fromValue = Value.index_select(0, positions);
                var fromGradient = Gradient.index_select(0, positions);
                var candidate = from.addcmul(along, length.unsqueeze(1), 1).clamp_(0.0, 1.0);
                var evaluation = Evaluate(candidate, Rows.index_select(0, positions));
                var predicted = RowDot(fromGradient, candidate - from);
                var accepted = evaluation.Value.le(fromValue + ArmijoSlope * predicted)
                    .logical_and_(evaluation.Value.isfinite());
                // Copy accepted rows only (a row index copy: [N, D] masks are slow on CPU).
                var acceptedLocal = accepted.nonzero().squeeze(1);
                if (acceptedLocal.shape[0] > 0)
                {
                    var acceptedPositions = positions.index_select(0, acceptedLocal);
                    nextPoint!.index_copy_(0, acceptedPositions, candidate.index_select(0, acceptedLocal));
                    nextValue!.index_copy_(0, acceptedPositions, evaluation.Value.index_select(0, acceptedLocal));
                    nextGradient!.index_copy_(0, acceptedPositions, evaluation.Gradient.index_select(0, acceptedLocal));
                    nextLogits!.index_copy_(0, acceptedPositions, evaluation.Logits.index_select(0, acceptedLocal));
                }
                pending.index_copy_(0, positions, accepted.logical_not_());
                stepLength = where(pending, stepLength * Backtrack, stepLength);
            }
            nextPoint ??= Point.clone();
            nextValue ??= Value.clone();
            nextGradient ??= Gradient.clone();
            nextLogits ??= Logits.clone();
            // A row whose line search found no decrease is at a (numerical) minimum: its run ends here.
            Running.logical_and_(pending.logical_not());

            // The new pair is written straight into its history slot.
            int slot = stored % settings.History;
            var step = steps.select(0, slot).copy_(nextPoint).sub_(Point);
            var gradientChange = gradientChanges.select(0, slot).copy_(nextGradient).sub_(Gradient);
            var curvature = RowDot(step, gradientChange);
            var changeSquared = RowDot(gradientChange, gradientChange);
            // Curvature condition s.y > eps |y|^2: otherwise this row skips the pair and keeps a positive-definite H.
            var store = Running.logical_and(curvature.gt(1e-7 * changeSquared)).logical_and_(curvature.gt(0));
            var skipped = store.logical_not().nonzero().squeeze(1);
            if (skipped.shape[0] > 0)
            {
                step.index_fill_(0, skipped, 0.0);
                gradientChange.index_fill_(0, skipped, 0.0);
            }
            inverseCurvature.select(0, slot).copy_(where(store, curvature.reciprocal(), zeros_like(curvature)));
            scaling.copy_(where(store, curvature / changeSquared, scaling));
            hasHistory.logical_or_(store);
            stored++;

            var decrease = Value - nextValue;
            var magnitude = Value.abs().maximum(nextValue.abs()).clamp_min(1.0);
            Running.logical_and_(decrease.gt(settings.FunctionTolerance * magnitude));
            runIterations.add_(1);
            Running.logical_and_(runIterations.lt(settings.MaxIterations));

            // The next state replaces the current one (no copy): it moves out of the iteration's dispose scope.
            Point = Replace(Point, nextPoint);
            Value = Replace(Value, nextValue);
            Gradient = Replace(Gradient, nextGradient);
            Logits = Replace(Logits, nextLogits);
        }

        /// <summary>Starts a new run for the rows at <paramref name="positions"/> from <paramref name="points"/>: fresh history, fresh evaluation.</summary>
        public void Restart(Tensor positions, Tensor points)
        {
            var evaluation = Evaluate(points, Rows.index_select(0, positions));
            Point.index_copy_(0, positions, points);
            Value.index_copy_(0, positions, evaluation.Value);
            Gradient.index_copy_(0, positions, evaluation.Gradient);
            Logits.index_copy_(0, positions, evaluation.Logits);
            var restarting = zeros(Working, dtype: ScalarType.Bool).index_fill_(0, positions, true);
            ForgetHistory(restarting);
            runIterations.index_fill_(0, positions, 0);
            Running.index_fill_(0, positions, true);
        }

        /// <summary>Takes the rows at <paramref name="positions"/> out for good; compacts once a quarter of the state is dead.</summary>
        public void Retire(Tensor positions)
        {
            retired.index_fill_(0, positions, true);
            Running.index_fill_(0, positions, false);
            long alive = Working - retired.sum().item<long>();
            if (alive == 0)
            {
                Working = 0;
                return;
            }
            if ((Working - alive) * 4 < Working)
            {
                return;
            }
            var keep = retired.logical_not().nonzero().squeeze(1);
            Rows = Compact(Rows, keep);
            Point = Compact(Point, keep);
            Value = Compact(Value, keep);
            Gradient = Compact(Gradient, keep);
            Logits = Compact(Logits, keep);
            Running = Compact(Running, keep);
            retired = Compact(retired, keep);
            scaling = Compact(scaling, keep);
            hasHistory = Compact(hasHistory, keep);
            runIterations = Compact(runIterations, keep);
            steps = Compact(steps, keep, dimension: 1);
            gradientChanges = Compact(gradientChanges, keep, dimension: 1);
            inverseCurvature = Compact(inverseCurvature, keep, dimension: 1);
            Working = alive;
        }

        private GradientOracle.Evaluation Evaluate(Tensor points, Tensor rows)
        {
            long count = rows.shape[0];
            var evaluation = objective(points, count == batchSize ? null : rows);
            evaluations.index_add_(0, rows, ones(count, dtype: ScalarType.Int64), 1);
            return evaluation;
        }

        private void ForgetHistory(Tensor rowsToForget)
        {
            var keep = rowsToForget.logical_not();
            inverseCurvature.mul_(keep.to_type(dtype));
            scaling.copy_(where(rowsToForget, ones_like(scaling), scaling));
            hasHistory.logical_and_(keep);
        }

        /// <summary>The two-loop recursion, row by row: H g for each row's own history (rows without pairs get gamma g).</summary>
        private Tensor TwoLoop(Tensor gradient)
        {
            int history = settings.History;
            int pairs = Math.Min(stored, history);
            var q = gradient.clone();
            var coefficients = new Tensor[history];
            for (int age = 0; age < pairs; age++)
            {
                int slot = (stored - 1 - age) % history;
                var coefficient = inverseCurvature[slot] * RowDot(steps[slot], q);
                q.addcmul_(coefficient.unsqueeze(1), gradientChanges[slot], -1);
                coefficients[slot] = coefficient;
            }
            var r = q.mul_(scaling.unsqueeze(1));
            for (int age = pairs - 1; age >= 0; age--)
            {
                int slot = (stored - 1 - age) % history;
                var beta = inverseCurvature[slot] * RowDot(gradientChanges[slot], r);
                r.addcmul_(steps[slot], (coefficients[slot] - beta).unsqueeze(1), 1);
            }
            return r;
        }

        private static Tensor Replace(Tensor current, Tensor next)
        {
            var kept = next.MoveToOuterDisposeScope();
            current.Dispose();
            return kept;
        }

        private static Tensor Compact(Tensor state, Tensor keep, int dimension = 0)
        {
            var kept = state.index_select(dimension, keep).MoveToOuterDisposeScope();
            state.Dispose();
            return kept;
        }
    }

    /// <summary>
    /// True where a coordinate sits on a bound with the gradient pushing outwards (L-BFGS-B's active set); every
    /// other coordinate may move. Points are inside [0,1], so "on a bound" is x &lt;= 0 or x &gt;= 1.
    /// </summary>
    private static Tensor BlockedCoordinates(Tensor point, Tensor gradient)
    {
        var atLowerPushingOut = point.le(0.0).logical_and_(gradient.gt(0.0));
        var atUpperPushingOut = point.ge(1.0).logical_and_(gradient.lt(0.0));
        return atLowerPushingOut.logical_or_(atUpperPushingOut);
    }

    /// <summary>Row-wise dot products of two [N, D] tensors, float [N], without an [N, D] temporary.</summary>
    private static Tensor RowDot(Tensor left, Tensor right) =>
        left.unsqueeze(1).bmm(right.unsqueeze(2)).view(-1);
}
