using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The noise baseline of the paper's Table 2 (last rows) and Table 4: x' = clip(x + n, 0, 1), n ~ N(0, stddev^2)
/// per pixel, no gradients. Szegedy et al. 2013, https://arxiv.org/abs/1312.6199. It shows how much of an
/// adversarial example's effect is just "some distortion": at the same or larger size, noise rarely changes the label.
/// Distance: none (the stddev is the knob). Input: float32 [N, 784] in [0,1]. Defaults: stddev = 0.1, seed 0.
/// </summary>
public sealed class GaussianNoise : Attack
{
    public override string Name => "noise";

    public double StandardDeviation { get; init; } = 0.1;

    public int Seed { get; init; }

    protected override PerturbOutput Perturb(Classifier model, Tensor images, Criterion criterion, int batchStart)
    {
        if (StandardDeviation < 0 || !double.IsFinite(StandardDeviation))
        {
            throw new BadInputException($"noise: stddev must be a finite number >= 0; got {StandardDeviation}");
        }
        using var generator = AttackRandomness.ForBatch(Seed, batchStart);
        // Drawn on the CPU generator whatever the device, so a seed gives the same noise everywhere.
        var noise = (randn(images.shape, generator: generator) * StandardDeviation).to(images.device);
        return new PerturbOutput((images + noise).clamp(0.0, 1.0), zeros(images.shape[0], dtype: ScalarType.Int64, device: images.device));
    }
}
