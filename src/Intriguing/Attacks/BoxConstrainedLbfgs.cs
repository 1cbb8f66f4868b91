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
        var everyRow = ones(rowCount, dtype: ScalarType.Bool);

        for (int searchStep = 0; searchStep < SearchSteps; searchStep++)
        {
            using var stepScope = NewDisposeScope();
            var succeededWithThisC = zeros(rowCount, dtype: ScalarType.Bool);
            var currentConstant = constant.clone();

            ProjectedLbfgs.RowObjective objective = (points, rows) =>
            {
                var origin = rows is null ? images : images.index_select(0, rows);
                var weight = rows is null ? currentConstant : currentConstant.index_select(0, rows);
                var rowsCriterion = rows is null ? criterion : criterion.Take(rows);
                return GradientOracle.Evaluate(model, points,
                    (input, logits) => weight * (input - origin).square().sum(1) + rowsCriterion.SmoothLoss(logits));
            };
            ProjectedLbfgs.Observer observe = (points, logits, rows) =>
            {
                using var observeScope = NewDisposeScope();
                var adversarial = criterion.Take(rows).IsAdversarial(logits);
                var squaredDistance = (points - images.index_select(0, rows)).square().sum(1);
                var better = adversarial.logical_and(squaredDistance.lt(bestSquaredDistance.index_select(0, rows)));
                var betterRows = rows.masked_select(better);
                if (betterRows.shape[0] > 0)
                {
                    var betterPositions = better.nonzero().squeeze(1);
                    best.index_copy_(0, betterRows, points.index_select(0, betterPositions));
                    bestSquaredDistance.index_copy_(0, betterRows, squaredDistance.index_select(0, betterPositions));
                }
                found.index_fill_(0, rows.masked_select(adversarial), true);
                // Overwritten every iteration: after the run it says whether the row's final point (the optimum
                // for this c) is adversarial, which is what decides c. The warm start itself must not count.
                succeededWithThisC.index_copy_(0, rows, adversarial);
            };

            // Warm start: from the best adversarial so far, the optimum for a nearby c is a few steps away.
            var start = where(found.unsqueeze(1), best, images);
            optimizer.Minimize(start, everyRow, objective, observe, evaluations);

            // Paper's convention: success -> c may grow (smaller r); failure -> c must shrink.
            largestSuccess.copy_(where(succeededWithThisC, largestSuccess.maximum(currentConstant), largestSuccess));
            smallestFailure.copy_(where(succeededWithThisC, smallestFailure, smallestFailure.minimum(currentConstant)));
            var bracketed = largestSuccess.gt(0).logical_and(smallestFailure.isfinite());
            var bisected = (largestSuccess * smallestFailure).sqrt();
            var stepped = where(succeededWithThisC, currentConstant * 10, currentConstant / 10);
            constant.copy_(where(bracketed, bisected, stepped));
        }
        return new PerturbOutput(best, evaluations, found);
    }
}
