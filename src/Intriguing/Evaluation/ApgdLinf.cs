using Intriguing.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// APGD in the L-inf ball (Croce and Hein 2020, https://arxiv.org/abs/2003.01690): steps along sign(gradient), the ball
/// is the cube [x - eps, x + eps], the random start eps * t / max|t| with t uniform in [-1, 1]^D (the reference's).
/// Distance: L-inf. Defaults: AutoAttack's, 100 iterations, 1 run, rho 0.75; eps 0.3 (MNIST). <see cref="Apgd.Loss"/>
/// picks APGD-CE ("apgd-ce"), APGD-DLR ("apgd-dlr") or APGD-T ("apgd-t").
/// </summary>
/// <example><c>new ApgdLinf { Epsilon = 0.3, Loss = ApgdLoss.TargetedDlr }.Run(model, images, labels)</c></example>
public sealed record ApgdLinf : Apgd
{
    /// <summary>APGD-L-inf with eps 0.3.</summary>
    public ApgdLinf()
    {
        Epsilon = 0.3;
    }

    /// <summary>"apgd-ce", "apgd-dlr" or "apgd-t", by <see cref="Apgd.Loss"/>.</summary>
    public override string Name => $"apgd-{LossSuffix}";

    /// <inheritdoc/>
    protected override Tensor Direction(Tensor gradient) => gradient.sign();

    /// <inheritdoc/>
    protected override Tensor ProjectOntoBall(Tensor points, Tensor images) =>
        points.clamp(images - Epsilon, images + Epsilon);

    /// <inheritdoc/>
    protected override Tensor RandomStart(long rows, long features, RowKeys keys, int run)
    {
        var draw = DrawPerRow(rows, features, Seed, keys, stream: run, normal: false);
        return draw.div_(draw.abs().amax([1], keepdim: true).add_(1e-12)).mul_(Epsilon);
    }
}
