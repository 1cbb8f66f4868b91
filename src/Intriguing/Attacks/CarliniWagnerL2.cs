using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// Carlini and Wagner's L2 attack. "Towards Evaluating the Robustness of Neural Networks", IEEE S&amp;P 2017,
/// https://arxiv.org/abs/1608.04644. The box is removed by a change of variables, x' = (tanh(w) + 1) / 2, and
/// minimise |x' - x|_2^2 + c max(f(x'), -kappa) with Adam, where f is the logit margin (negative when the criterion is
/// met, see <see cref="Criterion.Margin"/>). Each image binary-searches its own c (the constant on the loss, so the
/// smallest successful c gives the smallest perturbation; c grows tenfold until a first success) and keeps the
/// smallest-L2 success seen at any step. Adam's moments live per pixel, so images never share optimiser state.
/// Distance: L2. Input: float32 [N, 784] in [0,1]. Defaults: 9 search steps from c = 0.01, 100 Adam steps of
/// learning rate 0.05 each, kappa = 0.
/// </summary>
public sealed class CarliniWagnerL2 : Attack
{
    public override string Name => "cw";

    public int BinarySearchSteps { get; init; } = 9;

    public int Steps { get; init; } = 100;

    public double LearningRate { get; init; } = 0.05;

    public double InitialConstant { get; init; } = 0.01;

    /// <summary>kappa: how far past the boundary the margin must go (0 = just across).</summary>
    public double Confidence { get; init; }

    protected override bool SeeksMinimalPerturbation => true;

    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double AdamEpsilon = 1e-8;

    protected override PerturbOutput Perturb(Classifier model, Tensor images, Criterion criterion, int batchStart)
    {
        long rowCount = images.shape[0];
        // atanh of the image mapped to (-1, 1); the factor keeps pixels at exactly 0 or 1 finite.
        var start = (images * 2 - 1).mul_(0.999999).atanh();
        var constant = full(rowCount, InitialConstant, dtype: images.dtype, device: images.device);
        var lower = zeros(rowCount, dtype: images.dtype, device: images.device);
        var upper = full(rowCount, double.PositiveInfinity, dtype: images.dtype, device: images.device);
        var best = images.clone();
        var bestSquaredDistance = full(rowCount, double.PositiveInfinity, dtype: images.dtype, device: images.device);
        var found = zeros(rowCount, dtype: ScalarType.Bool, device: images.device);
        Func<Tensor, Tensor> toImages = variables => (variables.tanh() + 1) / 2;

        for (int searchStep = 0; searchStep < BinarySearchSteps; searchStep++)
        {
            using var searchScope = NewDisposeScope();
            var currentConstant = constant.clone();
            var succeeded = zeros(rowCount, dtype: ScalarType.Bool, device: images.device);
            var variables = start.clone();
            var firstMoment = zeros_like(variables);
            var secondMoment = zeros_like(variables);
            for (int step = 1; step <= Steps; step++)
            {
                using var stepScope = NewDisposeScope();
                var evaluation = GradientOracle.Evaluate(model, variables,
                    (candidates, logits) => (candidates - images).square().sum(1)
                        + currentConstant * criterion.Margin(logits).clamp_min(-Confidence),
                    toImages);
                // The image Adam's current variables stand for, and whether it already succeeds.
                var candidate = toImages(variables);
                var adversarial = criterion.IsAdversarial(evaluation.Logits)
                    .logical_and(criterion.Margin(evaluation.Logits).le(-Confidence));
                var squaredDistance = (candidate - images).square().sum(1);
                var betterRows = adversarial.logical_and(squaredDistance.lt(bestSquaredDistance)).nonzero().squeeze(1);
                if (betterRows.shape[0] > 0)
                {
                    best.index_copy_(0, betterRows, candidate.index_select(0, betterRows));
                    bestSquaredDistance.index_copy_(0, betterRows, squaredDistance.index_select(0, betterRows));
                }
                succeeded.logical_or_(adversarial);

                // Adam, element by element.
                firstMoment.mul_(Beta1).add_(evaluation.Gradient, alpha: 1 - Beta1);
                secondMoment.mul_(Beta2).addcmul_(evaluation.Gradient, evaluation.Gradient, value: 1 - Beta2);
                double correction1 = 1 - Math.Pow(Beta1, step);
                double correction2 = 1 - Math.Pow(Beta2, step);
                var update = firstMoment / correction1 / ((secondMoment / correction2).sqrt() + AdamEpsilon);
                variables.sub_(update * LearningRate);
            }
            found.logical_or_(succeeded);
            // Binary search on the loss weight: success -> try smaller c; failure -> larger (x10 until bracketed).
            upper.copy_(where(succeeded, upper.minimum(currentConstant), upper));
            lower.copy_(where(succeeded, lower, lower.maximum(currentConstant)));
            var bracketed = upper.isfinite();
            constant.copy_(where(bracketed, (lower + upper) / 2, currentConstant * 10));
        }
        long evaluationsPerImage = (long)BinarySearchSteps * Steps;
        return new PerturbOutput(best, full(rowCount, evaluationsPerImage, dtype: ScalarType.Int64, device: images.device), found);
    }
}
