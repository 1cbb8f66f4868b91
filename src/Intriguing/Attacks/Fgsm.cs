using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// Fast gradient sign method. Goodfellow, Shlens and Szegedy, "Explaining and Harnessing Adversarial Examples",
/// ICLR 2015, https://arxiv.org/abs/1412.6572: x' = clip(x + eps sign(grad_x J(x, y)), 0, 1), one gradient.
/// Targeted: x' = clip(x - eps sign(grad_x J(x, t)), 0, 1).
/// Distance: L-inf (|x' - x|_inf &lt;= eps). Input: any model's, clipped to its box. Default eps = 0.25 (the paper's MNIST value).
/// </summary>
public sealed record Fgsm : Attack
{
    /// <inheritdoc/>
    public override string Name => "fgsm";

    /// <summary>The step eps: every value moves by exactly eps before clipping (default 0.25, the paper's MNIST value).</summary>
    public double Epsilon { get; init; } = 0.25;

    /// <inheritdoc/>
    public override void Validate()
    {
        if (Epsilon < 0 || !double.IsFinite(Epsilon))
        {
            throw new BadInputException($"fgsm: eps must be a finite number >= 0; got {Epsilon}");
        }
    }

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys)
    {
        var evaluation = GradientOracle.Evaluate(model, images, (_, logits) => criterion.CrossEntropyLoss(logits));
        // Descend the loss to minimise (minus the true label's cross-entropy, or the target's); the base clips to the box.
        var adversarials = images - Epsilon * evaluation.Gradient.sign();
        return new PerturbOutput(adversarials, ones(images.shape[0], dtype: ScalarType.Int64, device: images.device));
    }
}
