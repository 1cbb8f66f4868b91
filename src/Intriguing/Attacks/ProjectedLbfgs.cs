using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The optimiser behind <see cref="BoxConstrainedLbfgs"/>: for every row r (one image) it minimises
/// <c>loss_r(x) + c_r |x - x0_r|^2</c> over a box [lower, upper] (per value, infinite bounds allowed; [0,1]^D for images) with a projected L-BFGS in the style of L-BFGS-B
/// (Byrd, Lu, Nocedal and Zhu 1995; the "projected L-BFGS" of Schmidt et al.), and runs it again with a new c
/// whenever a run ends, as the attack's search over c asks. The bounds live inside the optimiser, not in a clamp
/// after an unconstrained step:
/// <list type="bullet">
/// <item>the active set holds the coordinates at a bound whose gradient points out of the box; the search direction
/// is the two-loop L-BFGS direction over the free coordinates (zero on the active set), falling back to the projected
/// steepest descent, and forgetting the history, when that is not a descent direction;</item>
/// <item>a projected backtracking line search accepts x(t) = P[x + t d] by the Armijo condition along the projected
/// path, f(x(t)) &lt;= f(x) + 1e-4 g.(x(t) - x) (and never above f(x)), halving t, at most
/// <see cref="MaxLineSearchSteps"/> trial points;</item>
/// <item>a run ends when the projected gradient vanishes, the relative decrease falls below
/// <see cref="FunctionTolerance"/>, the line search fails, or after <see cref="MaxIterations"/> iterations.</item>
/// </list>
/// <para>
/// How it runs: every row is its own state machine (its own history, step, line search and c), and each round makes
/// one forward and backward pass over every live row at once, whatever each row is doing: a first step, a
/// line-search retry or the start of a run with a new c. So the batch stays full, rows never wait for each other,
/// and no pass is spent on a small subset. Between passes, each row's update (distance term, line-search test,
/// curvature pair, two-loop recursion, projection and next point) is one sweep over that row's memory with
/// <see cref="RowMath"/>'s fused loops, spread over torch's thread count. The state lives in CPU memory; only the
/// network's pass runs on the model's device.
/// </para>
/// <para>
/// It also keeps, per row, the closest point to x0 that met the attack's criterion at any evaluation (a run starts
/// from there, or before the first success from the row's start: x0, or a point the caller gives, e.g. a random one).
/// </para>
/// </summary>
internal sealed class ProjectedLbfgs
{
    /// <summary>
    /// The network's part of the objective at the points of some rows: per-row loss float [k], its gradient with
    /// respect to the points float [k, D], and whether each point meets the attack's criterion bool [k]; all on the
    /// CPU. <c>points</c> is float [k, D] on the CPU; <c>rows</c> are their row numbers (int64 [k]), or null when
    /// the points are all the rows in order. <c>points</c> may share memory with the optimiser's buffer, which the
    /// next round overwrites: use it only during the call.
    /// </summary>
    public delegate (Tensor Loss, Tensor Gradient, Tensor Adversarial) Network(Tensor points, Tensor? rows);

    /// <summary>
    /// A run of <c>row</c> with weight <c>tried</c> ended at a point that does (or does not) meet the criterion: the
    /// weight c of its next run, or null when the row is done. Called from worker threads, never twice at once for the
    /// same row; it must not create tensors (a worker thread has no dispose scope of the optimiser's).
    /// </summary>
    public delegate double? NextWeight(int row, double tried, bool endedAdversarial);

    /// <param name="Best">Per row, the closest adversarial point found (x0 where none), float [N, D] on the CPU.</param>
    /// <param name="Found">Per row, whether any adversarial point was found.</param>
    /// <param name="Evaluations">Per row, the forward and backward passes it took.</param>
    public sealed record Outcome(Tensor Best, bool[] Found, long[] Evaluations);

    public required int History { get; init; }

    public required int MaxIterations { get; init; }

    public required double FunctionTolerance { get; init; }

    public required double GradientTolerance { get; init; }

    public int MaxLineSearchSteps { get; init; } = 20;

    private const double ArmijoSlope = 1e-4;
    private const double Backtrack = 0.5;

    /// <summary>
    /// Minimises from the origins <paramref name="origins"/> (float32 [N, D] inside <paramref name="box"/>) with
    /// c = <paramref name="initialWeight"/> for every row's first run, until <paramref name="nextWeight"/> retires every row.
    /// Each row starts at <paramref name="starts"/> (float32 [N, D] inside the box; the origins when null), and every
    /// later run of a row that has found nothing adversarial yet starts there again.
    /// </summary>
    public Outcome Minimize(Tensor origins, Models.InputBox box, double initialWeight, Network network, NextWeight nextWeight, Tensor? starts = null)
    {
        using var scope = NewDisposeScope();
        if (box.Features != origins.shape[1])
        {
            throw new InvalidOperationException($"the box bounds {box.Features} values; the origins have {origins.shape[1]}");
        }
        if (starts is not null && !starts.shape.SequenceEqual(origins.shape))
        {
            throw new InvalidOperationException($"the starts [{string.Join(", ", starts.shape)}] must have the origins' shape [{string.Join(", ", origins.shape)}]");
        }
        using var rows = new RowStates(this, origins, box, initialWeight, nextWeight, starts);
        int threads = Math.Max(1, torch.get_num_threads());
        var live = rows.Live();
        while (live.Length > 0)
        {
            using var roundScope = NewDisposeScope();
            bool all = live.Length == rows.Count;
            var liveRows = all ? null : tensor(Array.ConvertAll(live, row => (long)row));
            var (loss, gradient, adversarial) = network(all ? rows.Candidates : rows.Candidates.index_select(0, liveRows!), liveRows);
            if (gradient.dtype != ScalarType.Float32 || gradient.device_type != DeviceType.CPU
                || !gradient.shape.SequenceEqual([live.Length, rows.Dimension]) || loss.numel() != live.Length || adversarial.numel() != live.Length)
            {
                throw new InvalidOperationException(
                    $"the network term must give a CPU float32 gradient [{live.Length}, {rows.Dimension}] and {live.Length} losses and flags; " +
                    $"got {gradient.dtype} {gradient.device_type} [{string.Join(", ", gradient.shape)}], {loss.numel()} and {adversarial.numel()}");
            }
            rows.Advance(live, loss.to_type(ScalarType.Float32).data<float>().ToArray(), gradient.contiguous(), adversarial.data<bool>().ToArray(), threads);
            live = rows.Live();
        }
        var best = rows.Candidates.clone();
        rows.Best.AsSpan(0, (int)best.numel()).CopyTo(MemoryMarshal.Cast<byte, float>(best.bytes));
        return new Outcome(best.MoveToOuterDisposeScope(), rows.Found, rows.Evaluations);
    }

    /// <summary>Every row's state, in flat row-major arrays; a row's update touches only that row's entries.</summary>
    private sealed class RowStates : IDisposable
    {
        private readonly ProjectedLbfgs settings;
        private readonly NextWeight nextWeight;
        private readonly int dimension;
        private readonly int history;

        private readonly float[] lower;
        private readonly float[] upper;
        private readonly float[] origin;
        // Where a row's runs start until it finds an adversarial point: the origin itself, or a point of the caller's.
        private readonly float[] start;
        private readonly float[] point;
        private readonly float[] gradient;
        private readonly float[] direction;
        // The candidates live in a tensor libtorch allocated (aligned as it aligns its own), not in a pooled managed
        // array: the matrix products of the network's pass take different code paths for differently aligned inputs, so a
        // managed buffer's address (which depends on what the process did before) changed results in the last bits.
        private readonly nint candidateAddress;
        // Row r's pairs, slot i: the step s at (r * 2m + 2i) * D, the gradient change y right after it.
        private readonly float[] pairs;
        private readonly float[] inverseCurvature;

        private readonly double[] weight;
        private readonly double[] value;
        private readonly double[] predictedDecrease;
        private readonly float[] stepLength;
        private readonly float[] scaling;
        private readonly int[] pairCount;
        private readonly int[] newestSlot;
        private readonly int[] iterations;
        private readonly int[] lineSearchTrials;
        private readonly bool[] startingRun;
        private readonly bool[] adversarialAtPoint;
        private readonly bool[] alive;
        private readonly float[] bestSquaredDistance;

        public RowStates(ProjectedLbfgs settings, Tensor origins, Models.InputBox box, double initialWeight, NextWeight nextWeight, Tensor? starts)
        {
            this.settings = settings;
            lower = box.Lower.ToArray();
            upper = box.Upper.ToArray();
            this.nextWeight = nextWeight;
            Count = (int)origins.shape[0];
            dimension = (int)origins.shape[1];
            history = settings.History;
            long size = (long)Count * dimension;
            if (size * 2 * history > Array.MaxLength)
            {
                throw new BadInputException(
                    $"L-BFGS keeps {2 * history} vectors of {dimension} values per image; a batch of {Count} is too large, use a smaller batch");
            }
            // The large arrays come from (and go back to) the shared pool: fresh memory costs a page fault per 4 KB on
            // first touch, which for a batch of 1,000 MNIST images is as slow as several rounds of the search itself.
            origin = Rent(size);
            origins.detach().to(CPU).to_type(ScalarType.Float32).contiguous().data<float>().CopyTo(origin.AsSpan(0, (int)size), 0, 0);
            start = origin;
            if (starts is not null)
            {
                start = Rent(size);
                starts.detach().to(CPU).to_type(ScalarType.Float32).contiguous().data<float>().CopyTo(start.AsSpan(0, (int)size), 0, 0);
            }
            point = Rent(size);
            gradient = Rent(size);
            direction = Rent(size);
            pairs = Rent(size * 2 * history);
            // The next points to evaluate, shared with the tensor handed to the network (no copy). Made last among the
            // large arrays, so that a failed allocation above leaves no tensor behind.
            Candidates = empty(Count, dimension, dtype: ScalarType.Float32).DetachFromDisposeScope();
            unsafe
            {
                // Native memory: it does not move, and Candidates keeps it alive until Dispose.
                candidateAddress = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(Candidates.bytes));
            }
            start.AsSpan(0, (int)size).CopyTo(MemoryMarshal.Cast<byte, float>(Candidates.bytes));
            inverseCurvature = new float[Count * history];
            weight = Enumerable.Repeat(initialWeight, Count).ToArray();
            value = new double[Count];
            predictedDecrease = new double[Count];
            stepLength = new float[Count];
            scaling = Enumerable.Repeat(1f, Count).ToArray();
            pairCount = new int[Count];
            newestSlot = new int[Count];
            iterations = new int[Count];
            lineSearchTrials = new int[Count];
            startingRun = Enumerable.Repeat(true, Count).ToArray();
            adversarialAtPoint = new bool[Count];
            alive = Enumerable.Repeat(true, Count).ToArray();
            Best = Rent(size);
            origin.AsSpan(0, (int)size).CopyTo(Best);
            Found = new bool[Count];
            bestSquaredDistance = Enumerable.Repeat(float.PositiveInfinity, Count).ToArray();
            Evaluations = new long[Count];
        }

        public int Count { get; }

        public int Dimension => dimension;

        /// <summary>The points to evaluate next, float [N, D]; rows are updated in place through <see cref="CandidateRow"/>.</summary>
        public Tensor Candidates { get; }

        public float[] Best { get; }

        public bool[] Found { get; }

        public long[] Evaluations { get; }

        public void Dispose()
        {
            Candidates.Dispose();
            foreach (var array in new[] { origin, point, gradient, direction, pairs, Best })
            {
                ArrayPool<float>.Shared.Return(array);
            }
            if (!ReferenceEquals(start, origin))
            {
                ArrayPool<float>.Shared.Return(start);
            }
        }

        private static float[] Rent(long size) => ArrayPool<float>.Shared.Rent((int)size);

        public int[] Live() => Enumerable.Range(0, Count).Where(row => alive[row]).ToArray();

        /// <summary>
        /// Takes one evaluation of each live row's candidate (<paramref name="live"/>[p] was evaluated at position p)
        /// and moves every row to its next candidate, in parallel over rows.
        /// </summary>
        public void Advance(int[] live, float[] networkLoss, Tensor networkGradient, bool[] adversarial, int threads)
        {
            void AdvanceRange(int from, int to)
            {
                var gradients = MemoryMarshal.Cast<byte, float>(networkGradient.bytes);
                var product = new float[dimension];
                var coefficients = new float[history];
                for (int position = from; position < to; position++)
                {
                    if (position + 1 < to)
                    {
                        PrefetchRow(live[position + 1], gradients.Slice((position + 1) * dimension, dimension));
                    }
                    AdvanceRow(live[position], networkLoss[position], adversarial[position],
                        gradients.Slice(position * dimension, dimension), product, coefficients);
                }
            }

            RowParallel.For(live.Length, threads, AdvanceRange);
        }

        /// <summary>Starts fetching what the update of <paramref name="row"/> will read, while the previous row is updated.</summary>
        private void PrefetchRow(int row, ReadOnlySpan<float> networkGradient)
        {
            RowMath.Prefetch(networkGradient);
            RowMath.Prefetch(CandidateRow(row));
            RowMath.Prefetch(Row(origin, row));
            RowMath.Prefetch(Row(point, row));
            RowMath.Prefetch(Row(gradient, row));
            RowMath.Prefetch(Row(direction, row));
            for (int age = 0; age < pairCount[row]; age++)
            {
                int slot = (newestSlot[row] - age + history) % history;
                RowMath.Prefetch(Step(row, slot));
                RowMath.Prefetch(GradientChange(row, slot));
            }
        }

        private Span<float> Row(float[] values, int row) => values.AsSpan(row * dimension, dimension);

        /// <summary>Row <paramref name="row"/> of <see cref="Candidates"/>, which outlives every use of the span.</summary>
        private unsafe Span<float> CandidateRow(int row) => new((float*)candidateAddress + (long)row * dimension, dimension);

        private Span<float> Step(int row, int slot) => pairs.AsSpan((row * 2 * history + 2 * slot) * dimension, dimension);

        private Span<float> GradientChange(int row, int slot) => pairs.AsSpan((row * 2 * history + 2 * slot + 1) * dimension, dimension);

        /// <summary>
        /// One evaluation of row <paramref name="row"/> at its candidate: the network's loss and gradient (the gradient
        /// span becomes the full objective's gradient, in place).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void AdvanceRow(int row, float networkLoss, bool isAdversarial, Span<float> candidateGradient,
            Span<float> product, Span<float> coefficients)
        {
            var at = CandidateRow(row);
            float squaredDistance = RowMath.AddDistanceTerm(at, Row(origin, row), (float)weight[row], candidateGradient);
            double candidateValue = networkLoss + weight[row] * squaredDistance;
            Evaluations[row]++;
            if (isAdversarial && squaredDistance < bestSquaredDistance[row])
            {
                at.CopyTo(Row(Best, row));
                bestSquaredDistance[row] = squaredDistance;
                Found[row] = true;
            }

            if (startingRun[row])
            {
                startingRun[row] = false;
                MoveTo(row, at, candidateGradient, candidateValue, isAdversarial);
                NextDirection(row, product, coefficients);
                return;
            }

            bool accepted = double.IsFinite(candidateValue)
                && candidateValue <= value[row] + ArmijoSlope * predictedDecrease[row]
                && candidateValue <= value[row];
            if (!accepted)
            {
                if (++lineSearchTrials[row] >= settings.MaxLineSearchSteps)
                {
                    // No decrease along the direction: a (numerical) minimum for this c.
                    EndRun(row);
                    return;
                }
                stepLength[row] *= (float)Backtrack;
                predictedDecrease[row] = RowMath.StepInBox(Row(point, row), Row(direction, row), stepLength[row], Row(gradient, row), at, lower, upper);
                return;
            }

            StorePair(row, at, candidateGradient);
            double decrease = value[row] - candidateValue;
            double magnitude = Math.Max(Math.Max(Math.Abs(value[row]), Math.Abs(candidateValue)), 1.0);
            MoveTo(row, at, candidateGradient, candidateValue, isAdversarial);
            if (++iterations[row] >= settings.MaxIterations || !(decrease > settings.FunctionTolerance * magnitude))
            {
                EndRun(row);
                return;
            }
            NextDirection(row, product, coefficients);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void MoveTo(int row, ReadOnlySpan<float> at, ReadOnlySpan<float> atGradient, double atValue, bool isAdversarial)
        {
            at.CopyTo(Row(point, row));
            atGradient.CopyTo(Row(gradient, row));
            value[row] = atValue;
            adversarialAtPoint[row] = isAdversarial;
        }

        /// <summary>
        /// Adds the pair (s, y) = (x' - x, g' - g) to the row's history if it passes the curvature test
        /// s.y &gt; 1e-7 |y|^2 (else the row skips it and keeps a positive-definite H).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void StorePair(int row, ReadOnlySpan<float> nextPoint, ReadOnlySpan<float> nextGradient)
        {
            var x = Row(point, row);
            var g = Row(gradient, row);
            var (curvature, changeSquared) = RowMath.PairProducts(nextPoint, x, nextGradient, g);
            if (!(curvature > 1e-7f * changeSquared) || !(curvature > 0f) || !float.IsFinite(changeSquared))
            {
                return;
            }
            int slot = pairCount[row] == 0 ? 0 : (newestSlot[row] + 1) % history;
            RowMath.Difference(Step(row, slot), nextPoint, x);
            RowMath.Difference(GradientChange(row, slot), nextGradient, g);
            inverseCurvature[row * history + slot] = 1f / curvature;
            scaling[row] = curvature / changeSquared;
            newestSlot[row] = slot;
            pairCount[row] = Math.Min(pairCount[row] + 1, history);
        }

        /// <summary>A new direction from the current point, and its first trial point; or the end of the run.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void NextDirection(int row, Span<float> product, Span<float> coefficients)
        {
            var x = Row(point, row);
            var g = Row(gradient, row);
            var d = Row(direction, row);
            // A run that starts where the objective is NaN or infinite cannot descend: no line search is wasted on it.
            float largest = double.IsFinite(value[row]) ? RowMath.ProjectGradient(x, g, product, lower, upper) : float.NaN;
            if (!(largest > settings.GradientTolerance))
            {
                EndRun(row);
                return;
            }
            TwoLoop(row, product, coefficients);
            var (slope, length1) = RowMath.DescentDirection(x, g, product, d, lower, upper);
            if (slope < 0f && float.IsFinite(length1) && FirstTrial(row, length1) < 0)
            {
                return;
            }
            // Not a descent direction (or no longer one once the step is clipped to the box): projected steepest
            // descent, and the history goes.
            ForgetHistory(row);
            var (_, steepestLength1) = RowMath.DescentDirection(x, g, g, d, lower, upper);
            if (!(FirstTrial(row, steepestLength1) < 0))
            {
                EndRun(row);
            }
        }

        /// <summary>
        /// Places the first trial point along the row's direction and returns the decrease a linear model predicts
        /// for it (negative for a usable trial). The first iteration of a run scales the step so that |d|_1 = 1 (our
        /// choice: L-BFGS-B takes 1/|d|_2, which on MNIST cost 10-20% more gradients for the same distortions); every
        /// later iteration takes the unit step, even without curvature pairs (a row whose pairs all failed the
        /// curvature test must not crawl along -g).
        /// </summary>
        private double FirstTrial(int row, float length1)
        {
            stepLength[row] = iterations[row] > 0 || pairCount[row] > 0 ? 1f : Math.Min(1f, 1f / length1);
            lineSearchTrials[row] = 0;
            predictedDecrease[row] = RowMath.StepInBox(Row(point, row), Row(direction, row), stepLength[row], Row(gradient, row), CandidateRow(row), lower, upper);
            return predictedDecrease[row];
        }

        /// <summary>The two-loop recursion: <paramref name="vector"/> becomes H vector for the row's own history.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void TwoLoop(int row, Span<float> vector, Span<float> coefficients)
        {
            int count = pairCount[row];
            for (int age = 0; age < count; age++)
            {
                int slot = (newestSlot[row] - age + history) % history;
                float alpha = inverseCurvature[row * history + slot] * RowMath.Dot(Step(row, slot), vector);
                coefficients[slot] = alpha;
                RowMath.AddScaled(vector, -alpha, GradientChange(row, slot));
            }
            RowMath.Scale(vector, scaling[row]);
            for (int age = count - 1; age >= 0; age--)
            {
                int slot = (newestSlot[row] - age + history) % history;
                float beta = inverseCurvature[row * history + slot] * RowMath.Dot(GradientChange(row, slot), vector);
                RowMath.AddScaled(vector, coefficients[slot] - beta, Step(row, slot));
            }
        }

        private void ForgetHistory(int row)
        {
            pairCount[row] = 0;
            scaling[row] = 1f;
        }

        /// <summary>The run for the current c is over: ask for the next c, and start from the best point so far (or the row's start).</summary>
        private void EndRun(int row)
        {
            double? next = nextWeight(row, weight[row], adversarialAtPoint[row]);
            if (next is null)
            {
                alive[row] = false;
                return;
            }
            weight[row] = next.Value;
            ForgetHistory(row);
            iterations[row] = 0;
            startingRun[row] = true;
            (Found[row] ? Row(Best, row) : Row(start, row)).CopyTo(CandidateRow(row));
        }
    }
}
