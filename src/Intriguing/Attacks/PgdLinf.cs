using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// PGD in the L-inf ball (Madry et al. 2018, https://arxiv.org/abs/1706.06083): steps of StepSize sign(gradient),
/// projection by clipping each pixel's change to [-eps, eps], random start uniform in the cube.
/// Distance: L-inf. Defaults: Madry's MNIST setting, eps = 0.3, 40 steps of 0.01, random start, 1 restart.
/// </summary>
public sealed record PgdLinf : Pgd
{
    /// <summary>PGD-L-inf with Madry's MNIST setting: eps 0.3 and step size 0.01.</summary>
    public PgdLinf()
    {
        Epsilon = 0.3;
        StepSize = 0.01;
    }

    /// <inheritdoc/>
    public override string Name => "pgd";

    /// <summary>Every iterate is clamped to the eps-ball within the box, and a NaN gradient entry leaves its value in place.</summary>
    protected override bool CandidatesInBox => true;

    /// <inheritdoc/>
    protected override Tensor DescentStep(Tensor gradient) => -StepSize * gradient.sign();

    /// <inheritdoc/>
    protected override Tensor ProjectPerturbation(Tensor perturbation) => perturbation.clamp(-Epsilon, Epsilon);

    /// <summary>
    /// Fused: the L-inf ball and the box are both per-value intervals, so their intersection
    /// [max(x - eps, lower), min(x + eps, upper)] is one clamp with tensor bounds after a sign step.
    /// </summary>
    protected override Action<Tensor, Tensor> CreateStep(Tensor images, Models.InputBox box)
    {
        Tensor lower, upper;
        if (box.IsUniform)
        {
            lower = (images - Epsilon).clamp_min_(box.Lower[0]);
            upper = (images + Epsilon).clamp_max_(box.Upper[0]);
        }
        else
        {
            var (boxLower, boxUpper) = box.Tensors(images.device);
            lower = (images - Epsilon).maximum(boxLower);
            upper = (images + Epsilon).minimum(boxUpper);
        }
        if (images.device_type != TorchSharp.DeviceType.CPU || images.dtype != ScalarType.Float32)
        {
            // A NaN gradient entry leaves its pixel in place, as on the CPU path.
            return (adversarial, gradient) => adversarial.sub_(gradient.nan_to_num_(0.0).sign_().mul_(StepSize)).clamp_(lower, upper);
        }
        // On the CPU, one SIMD pass over the batch instead of four tensor operations (four passes over memory). The
        // bounds are read in place: copying them into managed arrays would cost a page fault per 4 KB on every run.
        lower = lower.contiguous();
        upper = upper.contiguous();
        float step = (float)StepSize;
        return (adversarial, gradient) =>
        {
            if (!adversarial.is_contiguous())
            {
                throw new InvalidOperationException("PGD's iterate must be contiguous");
            }
            using var contiguousGradient = gradient.contiguous();
            RowMath.SignStepInInterval(Floats(adversarial), Floats(contiguousGradient), step, Floats(lower), Floats(upper));
        };
    }

    private static Span<float> Floats(Tensor tensor) => MemoryMarshal.Cast<byte, float>(tensor.bytes);

    /// <inheritdoc/>
    protected override Tensor RandomPerturbation(long rows, long features, RowKeys keys, int restart) =>
        DrawPerRow(rows, features, Seed, keys, stream: restart, normal: false).mul_(Epsilon);
}
