using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The paper's attack: box-constrained L-BFGS. Szegedy et al., "Intriguing properties of neural networks",
/// ICLR 2014, section 4.1, https://arxiv.org/abs/1312.6199.
/// <para>
/// For each image x it approximately solves: minimise c |r|^2 + loss_f(x + r, l) subject to x + r in the model's box ([0,1]^784 for MNIST),
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
/// smallest-distortion success seen at any evaluation of any c is kept. L-BFGS finds local optima, so the distortion
/// is an upper bound on the true minimum.
/// </para>
/// <para>
/// Random starts: with <see cref="RandomStart"/> &gt; 0 the search starts from x + u instead of x (u uniform in
/// [-RandomStart, RandomStart] per value, from the image's own stream (seed, image index, <see cref="Start"/>), clipped
/// to the box), and every run returns there until one succeeds. The objective still measures |r| from x. On a convex
/// problem (a softmax model, targeted) every start reaches the same minimum; on a network, different local ones.
/// </para>
/// Distance: L2 (reported as the paper's RMS distortion). Input: any model's; the box is handled inside the optimiser.
/// Defaults: 8 values of c from c = 1, at most 40 L-BFGS iterations each, history 5 (3, 5, 8 and 12 pairs gave the
/// same mean distortion on fc100-100-10 and ae400-10 to 4 digits; fewer pairs are cheaper).
/// </summary>
public sealed record BoxConstrainedLbfgs : Attack
{
    /// <inheritdoc/>
    public override string Name => "lbfgs";

    /// <summary>How many values of c each image tries (grow, then bisect).</summary>
    public int SearchSteps { get; init; } = 8;

    /// <summary>The first c (weight of the squared L2 distance).</summary>
    public double InitialConstant { get; init; } = 1.0;

    /// <summary>L-BFGS iterations per value of c.</summary>
    public int MaxIterations { get; init; } = 40;

    /// <summary>Correction pairs each image keeps (L-BFGS memory m).</summary>
    public int History { get; init; } = 5;

    /// <summary>Stop a run when an iteration lowers the objective by less than this, relative to max(|f|, 1).</summary>
    public double FunctionTolerance { get; init; } = 1e-4;

    /// <summary>Stop a run when the largest projected-gradient entry is below this.</summary>
    public double GradientTolerance { get; init; } = 1e-5;

    /// <summary>Half-width of the uniform noise around the image where the search starts; 0 (the default, the paper's) starts at the image.</summary>
    public double RandomStart { get; init; }

    /// <summary>Which random start this is: the image's random stream (seed, image index, start); ignored when <see cref="RandomStart"/> is 0.</summary>
    public int Start { get; init; }

    /// <summary>The seed of every image's random-start stream (default 0); ignored when <see cref="RandomStart"/> is 0.</summary>
    public int Seed { get; init; }

    /// <inheritdoc/>
    public override Attack WithSeed(int seed) => this with { Seed = seed };

    /// <inheritdoc/>
    protected override bool SeeksMinimalPerturbation => true;

    /// <inheritdoc/>
    public override void Validate()
    {
        if (SearchSteps < 1 || MaxIterations < 1 || History < 1 || !(InitialConstant > 0) || !double.IsFinite(InitialConstant)
            || !(FunctionTolerance >= 0) || !(GradientTolerance >= 0) || !(RandomStart >= 0) || !double.IsFinite(RandomStart) || Start < 0)
        {
            throw new BadInputException(
                $"{Name}: need search steps >= 1, iterations >= 1, history >= 1, a finite initial c > 0, tolerances >= 0, a finite random start >= 0 " +
                $"and a start index >= 0; got {SearchSteps}, {MaxIterations}, {History}, {InitialConstant}, {FunctionTolerance}, {GradientTolerance}, " +
                $"{RandomStart} and {Start}");
        }
    }

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys)
    {
        int rowCount = (int)images.shape[0];
        var device = images.device;
        var optimizer = new ProjectedLbfgs
        {
            History = History,
            MaxIterations = MaxIterations,
            FunctionTolerance = FunctionTolerance,
            GradientTolerance = GradientTolerance,
        };

        // The network's part of the objective, loss_f; the optimiser adds c |x - x0|^2 itself, in its fused row loops.
        ProjectedLbfgs.Network network = (points, rows) =>
        {
            var rowsCriterion = rows is null ? criterion : criterion.Take(rows.to(device));
            var evaluation = GradientOracle.Evaluate(model, points.to(device), (_, logits) => rowsCriterion.SmoothLoss(logits));
            return (evaluation.Value.to(CPU), evaluation.Gradient.to(CPU), rowsCriterion.IsAdversarial(evaluation.Logits).to(CPU));
        };

        // The search over c, per image: judge c by the run's final point (the optimum for this c; the warm start
        // must not count). Paper's convention: success -> c may grow (smaller r); failure -> c must shrink.
        var largestSuccess = new double[rowCount];
        var smallestFailure = Enumerable.Repeat(double.PositiveInfinity, rowCount).ToArray();
        var searchStepsTaken = new int[rowCount];
        ProjectedLbfgs.NextWeight nextWeight = (row, tried, succeeded) =>
        {
            if (succeeded)
            {
                largestSuccess[row] = Math.Max(largestSuccess[row], tried);
            }
            else
            {
                smallestFailure[row] = Math.Min(smallestFailure[row], tried);
            }
            bool bracketed = largestSuccess[row] > 0 && double.IsFinite(smallestFailure[row]);
            double next = bracketed ? Math.Sqrt(largestSuccess[row] * smallestFailure[row]) : succeeded ? tried * 10 : tried / 10;
            return ++searchStepsTaken[row] < SearchSteps ? next : null;
        };

        using var starts = RandomStart > 0
            ? model.Input.Box.Clamp(images.to(CPU).to_type(ScalarType.Float32)
                .add(DrawPerRow(rowCount, images.shape[1], Seed, keys, stream: Start, normal: false).mul_(RandomStart)))
            : null;
        var outcome = optimizer.Minimize(images, model.Input.Box, InitialConstant, network, nextWeight, starts);
        return new PerturbOutput(
            outcome.Best.to(device).to_type(images.dtype),
            tensor(outcome.Evaluations).to(device),
            tensor(outcome.Found).to(device));
    }
}
