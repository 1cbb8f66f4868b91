using Intriguing.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// APGD in the L2 ball (Croce and Hein 2020, https://arxiv.org/abs/2003.01690): steps along g / ||g||_2, projection
/// x + d min(1, eps / ||d||_2), the random start eps * t / ||t||_2 with t standard normal (on the sphere, as the
/// reference's). Distance: L2. Defaults: 100 iterations, 1 run, rho 0.75; eps 2.0 (MNIST).
/// </summary>
/// <example><c>new ApgdL2 { Epsilon = 2.0 }.Run(model, images, labels)</c></example>
public sealed record ApgdL2 : Apgd
{
    /// <summary>APGD-L2 with eps 2.0.</summary>
    public ApgdL2()
    {
        Epsilon = 2.0;
    }

    /// <summary>"apgd-ce-l2", "apgd-dlr-l2" or "apgd-t-l2", by <see cref="Apgd.Loss"/>.</summary>
    public override string Name => $"apgd-{LossSuffix}-l2";

    /// <inheritdoc/>
    protected override Tensor Direction(Tensor gradient) =>
        gradient / gradient.square().sum(1, keepdim: true).sqrt().add(1e-12);

    /// <inheritdoc/>
    protected override Tensor ProjectOntoBall(Tensor points, Tensor images)
    {
        var offset = points - images;
        var norm = offset.square().sum(1, keepdim: true).sqrt();
        return images + offset * (Epsilon / norm.add(1e-12)).clamp_max(1.0);
    }

    /// <inheritdoc/>
    protected override Tensor RandomStart(long rows, long features, RowKeys keys, int run)
    {
        var draw = DrawPerRow(rows, features, Seed, keys, stream: run, normal: true);
        return draw.div_(draw.square().sum(1, keepdim: true).sqrt_().add_(1e-12)).mul_(Epsilon);
    }
}
