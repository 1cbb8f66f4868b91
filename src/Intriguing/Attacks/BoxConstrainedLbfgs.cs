using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The paper's attack: box-constrained L-BFGS. Szegedy et al., "Intriguing properties of neural networks",
/// ICLR 2014, section 4.1, https://arxiv.org/abs/1312.6199.
/// <para>
/// For each image x it approximately solves: minimise c |r|^2 + loss_f(x + r, l) subject to x + r in [0,1]^784,
/// with <see cref="ProjectedLbfgs"/> (bounds handled inside the optimiser), where loss_f is the cross-entropy
/// towards the target l (targeted) or -log(1 - p_label) (untargeted), and |r|^2 = sum of squared pixel changes.
/// </para>
/// <para>
/// The constant c follows the paper's convention: it weights the distance term, so a larger c gives a smaller
/// perturbation and the minimal distortion comes from the largest c that still succeeds. (Foolbox and AdverTorch
/// put the constant on the loss and search the smallest one; it is the same family of problems with c' = 1/c.)
/// Each image searches its own c: start at <see cref="InitialConstant"/>, multiply by 10 while the attack succeeds
/// (divide by 10 while it fails), then bisect geometrically between the largest success and the smallest failure.
/// Every run starts from the best adversarial image found so far for that image (or the clean image), and the
/// smallest-distortion success seen at any iteration of any c is kept. L-BFGS finds local optima, so the distortion
/// is an upper bound on the true minimum.
/// </para>
/// Distance: L2 (reported as the paper's RMS distortion). Input: float32 [N, 784] in [0,1].
/// Defaults: 8 values of c from c = 1, at most 40 L-BFGS iterations each, history 8.
/// </summary>
public sealed class BoxConstrainedLbfgs : Attack
{
    public override string Name => "lbfgs";

    /// <summary>How many values of c each image tries (grow, then bisect).</summary>
    public int SearchSteps { get; init; } = 8;

    /// <summary>The first c (weight of the squared L2 distance).</summary>
    public double InitialConstant { get; init; } = 1.0;

    /// <summary>L-BFGS iterations per value of c.</summary>
    public int MaxIterations { get; init; } = 40;

    /// <summary>Correction pairs each image keeps (L-BFGS memory m).</summary>
    public int History { get; init; } = 8;

    /// <summary>Stop a run when an iteration lowers the objective by less than this, relative to max(|f|, 1).</summary>
    public double FunctionTolerance { get; init; } = 1e-4;

    /// <summary>Stop a run when the largest projected-gradient entry is below this.</summary>
    public double GradientTolerance { get; init; } = 1e-5;

    protected override bool SeeksMinimalPerturbation => true;

    protected override PerturbOutput Perturb(Classifier model, Tensor images, Criterion criterion, int batchStart)
    {
        long rowCount = images.shape[0];
        var evaluations = zeros(rowCount, dtype: ScalarType.Int64);
        var constant = full(rowCount, InitialConstant, dtype: images.dtype);
        var largestSuccess = zeros(rowCount, dtype: images.dtype);
        var smallestFailure = full(rowCount, double.PositiveInfinity, dtype: images.dtype);
        var best = images.clone();
        var bestSquaredDistance = full(rowCount, double.PositiveInfinity, dtype: images.dtype);
        var found = zeros(rowCount, dtype: ScalarType.Bool);
        var optimizer = new ProjectedLbfgs
        {
            History = History,
            MaxIterations = MaxIterations,
            FunctionTolerance = FunctionTolerance,
            GradientTolerance = GradientTolerance,
        };
        var searchStepsTaken = zeros(rowCount, dtype: ScalarType.Int64);

        // The distance term c |x - x0|^2 and its gradient 2c (x - x0) are added by hand: autograd would spend several
        // more [N, 784] passes on them than the network's own forward and backward (the optimiser's bottleneck).
        ProjectedLbfgs.RowObjective objective = (points, rows) =>
        {
            var origin = rows is null ? images : images.index_select(0, rows);
            var weight = rows is null ? constant : constant.index_select(0, rows);
            var rowsCriterion = rows is null ? criterion : criterion.Take(rows);
            var loss = GradientOracle.Evaluate(model, points, (input, logits) => rowsCriterion.SmoothLoss(logits));
            var perturbation = points - origin;
            var squaredDistance = perturbation.unsqueeze(1).bmm(perturbation.unsqueeze(2)).view(-1);
            var gradient = loss.Gradient.addcmul_(perturbation, weight.mul(2).unsqueeze(1), 1);
            return new GradientOracle.Evaluation(loss.Value.add_(weight * squaredDistance), loss.Logits, gradient);
        };
        // Keeps the smallest-distortion success seen at any iteration of any c.
        ProjectedLbfgs.Observer observe = (points, logits, rows) =>
        {
            using var observeScope = NewDisposeScope();
            // Until retired rows are compacted away, the working rows are the whole batch in order.
            bool whole = rows.shape[0] == rowCount;
            var adversarial = (whole ? criterion : criterion.Take(rows)).IsAdversarial(logits);
            var perturbation = points - (whole ? images : images.index_select(0, rows));
            var squaredDistance = perturbation.unsqueeze(1).bmm(perturbation.unsqueeze(2)).view(-1);
            var better = adversarial.logical_and(squaredDistance.lt(whole ? bestSquaredDistance : bestSquaredDistance.index_select(0, rows)));
            var betterPositions = better.nonzero().squeeze(1);
            if (betterPositions.shape[0] > 0)
            {
                var betterRows = rows.index_select(0, betterPositions);
                best.index_copy_(0, betterRows, points.index_select(0, betterPositions));
                bestSquaredDistance.index_copy_(0, betterRows, squaredDistance.index_select(0, betterPositions));
                found.index_fill_(0, betterRows, true);
            }
        };
        // A row's run for its current c ended: judge c by the run's final point (the optimum for this c; the warm
        // start must not count), move c, and start the next run at once, so rows never wait for each other.
        ProjectedLbfgs.RunEnded runEnded = (rows, points, logits) =>
        {
            var succeeded = criterion.Take(rows).IsAdversarial(logits);
            var tried = constant.index_select(0, rows);
            // Paper's convention: success -> c may grow (smaller r); failure -> c must shrink.
            var largest = where(succeeded, largestSuccess.index_select(0, rows).maximum(tried), largestSuccess.index_select(0, rows));
            var smallest = where(succeeded, smallestFailure.index_select(0, rows), smallestFailure.index_select(0, rows).minimum(tried));
            var bracketed = largest.gt(0).logical_and(smallest.isfinite());
            var next = where(bracketed, (largest * smallest).sqrt(), where(succeeded, tried * 10, tried / 10));
            largestSuccess.index_copy_(0, rows, largest);
            smallestFailure.index_copy_(0, rows, smallest);
            constant.index_copy_(0, rows, next);
            searchStepsTaken.index_add_(0, rows, ones_like(rows), 1);
            var continues = searchStepsTaken.index_select(0, rows).lt(SearchSteps);
            // Warm start: from the best adversarial so far, the optimum for a nearby c is a few steps away.
            var restart = where(found.index_select(0, rows).unsqueeze(1), best.index_select(0, rows), images.index_select(0, rows));
            return (continues, restart);
        };

        optimizer.Minimize(images, objective, observe, runEnded, evaluations);
        return new PerturbOutput(best, evaluations, found);
    }
}
