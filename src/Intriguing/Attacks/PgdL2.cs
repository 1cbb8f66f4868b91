using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// PGD in the L2 ball (Madry et al. 2018, https://arxiv.org/abs/1706.06083): steps of StepSize along the normalised
/// gradient, projection by rescaling perturbations longer than eps, random start uniform in the ball.
/// Distance: L2. Defaults: eps = 2.0 (about RMS 0.071 on 784 pixels), 40 steps of 0.1, random start, 1 restart.
/// </summary>
public sealed record PgdL2 : Pgd
{
    /// <summary>PGD-L2 with eps 2.0 and step size 0.1.</summary>
    public PgdL2()
    {
        Epsilon = 2.0;
        StepSize = 0.1;
    }

    /// <inheritdoc/>
    public override string Name => "pgd-l2";

    /// <inheritdoc/>
    protected override Tensor DescentStep(Tensor gradient) =>
        -StepSize * gradient / gradient.norm(1, keepdim: true).clamp_min(1e-12);

    /// <inheritdoc/>
    protected override Tensor ProjectPerturbation(Tensor perturbation)
    {
        var length = perturbation.norm(1, keepdim: true);
        return perturbation * (Epsilon / length.clamp_min(1e-12)).clamp_max(1.0);
    }

    /// <inheritdoc/>
    protected override Tensor RandomPerturbation(long rows, long features, RowKeys keys, int restart)
    {
        // Uniform in the ball: a random direction, radius eps * u^(1/d), u uniform in [0, 1) from the row's own stream.
        var direction = DrawPerRow(rows, features, Seed, keys, stream: 2 * restart, normal: true);
        direction = direction / direction.norm(1, keepdim: true).clamp_min(1e-12);
        var uniform = DrawPerRow(rows, 1, Seed, keys, stream: 2 * restart + 1, normal: false).add_(1).div_(2);
        return direction * uniform.pow(1.0 / features) * Epsilon;
    }
}
