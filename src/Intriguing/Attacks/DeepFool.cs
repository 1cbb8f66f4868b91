using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// DeepFool (L2). Moosavi-Dezfooli, Fawzi and Frossard, "DeepFool: a simple and accurate method to fool deep neural
/// networks", CVPR 2016, https://arxiv.org/abs/1511.04599. Each iteration linearises the classifier at the current
/// point and steps to the nearest linearised boundary: for every other class k, w_k = grad(Z_k - Z_l),
/// f_k = Z_k - Z_l, and the step is (|f_k| + 1e-4) / |w_k|^2 w_k for the k with the smallest |f_k| / |w_k|
/// (targeted: k is the target). The total perturbation is scaled by (1 + overshoot). An image stops as soon as it
/// is adversarial. Gradient evaluations count one backward pass per class per iteration.
/// Distance: L2. Input: any model's; each iterate is clipped to its box. Defaults: 50 iterations, overshoot 0.02.
/// </summary>
public sealed record DeepFool : Attack
{
    /// <inheritdoc/>
    public override string Name => "deepfool";

    /// <summary>Linearise-and-step iterations at most (default 50).</summary>
    public int MaxIterations { get; init; } = 50;

    /// <summary>How far past the linearised boundary to go: the total perturbation is scaled by 1 + overshoot (default 0.02).</summary>
    public double Overshoot { get; init; } = 0.02;

    /// <inheritdoc/>
    protected override bool SeeksMinimalPerturbation => true;

    /// <inheritdoc/>
    public override void Validate()
    {
        if (MaxIterations < 1 || !(Overshoot >= 0) || !double.IsFinite(Overshoot))
        {
            throw new BadInputException($"deepfool: need iterations >= 1 and a finite overshoot >= 0; got {MaxIterations} and {Overshoot}");
        }
    }

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys)
    {
        long rowCount = images.shape[0];
        int classCount = model.ClassCount;
        var box = model.Input.Box;
        var totalPerturbation = zeros_like(images);
        var evaluations = zeros(rowCount, dtype: ScalarType.Int64, device: images.device);
        // The class each image moves away from (untargeted) or the class it moves towards (targeted).
        var reference = criterion.Targets ?? criterion.Labels;
        var adversarial = images.clone();
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            using var iterationScope = NewDisposeScope();
            using var gradientOn = torch.enable_grad();
            var input = adversarial.detach().requires_grad_(true);
            var logits = model.forward(input);
            var active = criterion.IsAdversarial(logits.detach()).logical_not();
            if (!active.any().item<bool>())
            {
                break;
            }
            var gradients = new Tensor[classCount];
            for (int k = 0; k < classCount; k++)
            {
                gradients[k] = torch.autograd.grad([logits[.., k].sum()], [input], retain_graph: k < classCount - 1)[0];
            }
            var jacobian = stack(gradients, 1); // [N, classes, pixels]
            var referenceGradient = jacobian.gather(1, reference.view(-1, 1, 1).expand(-1, 1, jacobian.shape[2]));
            var referenceLogit = logits.detach().gather(1, reference.unsqueeze(1));
            var boundaryNormals = jacobian - referenceGradient;            // w_k, [N, classes, pixels]
            var logitGaps = logits.detach() - referenceLogit;              // f_k, [N, classes]
            var normalLengths = boundaryNormals.norm(2).clamp_min(1e-12);
            var boundaryDistances = logitGaps.abs() / normalLengths;
            Tensor chosen;
            if (criterion.Targets is null)
            {
                // Untargeted: the nearest other class; the true class itself is never a candidate.
                var isReference = nn.functional.one_hot(reference, classCount).to_type(ScalarType.Bool);
                chosen = boundaryDistances.masked_fill(isReference, float.PositiveInfinity).argmin(1);
            }
            else
            {
                // Targeted: close the gap between the current winner and the target.
                chosen = logits.detach().argmax(1);
            }
            var normal = boundaryNormals.gather(1, chosen.view(-1, 1, 1).expand(-1, 1, jacobian.shape[2])).squeeze(1);
            var gap = logitGaps.gather(1, chosen.unsqueeze(1)).squeeze(1);
            // Untargeted raises Z_k - Z_l (now negative) to 0; targeted lowers Z_winner - Z_t (now positive) to 0.
            double towards = criterion.Targets is null ? 1.0 : -1.0;
            var stepLength = (gap.abs() + 1e-4) / normal.square().sum(1).clamp_min(1e-12) * towards;
            var step = stepLength.mul_(active.to_type(images.dtype)).unsqueeze(1) * normal;
            totalPerturbation.add_(step);
            evaluations.add_(active.to_type(ScalarType.Int64) * classCount);
            adversarial.copy_(box.Clamp(images + (1 + Overshoot) * totalPerturbation));
        }
        var finalLogits = GradientOracle.Logits(model, adversarial);
        return new PerturbOutput(adversarial.clone(), evaluations, criterion.IsAdversarial(finalLogits));
    }
}
