using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The noise baseline of the paper's Table 2 (last rows) and Table 4: x' = clip(x + n) to the box, n ~ N(0, stddev^2)
/// per pixel, no gradients. Szegedy et al. 2013, https://arxiv.org/abs/1312.6199. It shows how much of an
/// adversarial example's effect is just "some distortion": at the same or larger size, noise rarely changes the label.
/// Distance: none (the stddev is the knob). Input: any model's, clipped to its box. Each row's noise comes from its
/// own stream (seed, row index), so the batch size never changes a result. Defaults: stddev = 0.1, seed 0.
/// </summary>
public sealed record GaussianNoise : Attack
{
    /// <summary>Noise needs no gradient: it applies to score-only models too.</summary>
    public override bool NeedsGradients => false;

    /// <inheritdoc/>
    public override string Name => "noise";

    /// <summary>The noise's standard deviation per value, in the input's units (default 0.1).</summary>
    public double StandardDeviation { get; init; } = 0.1;

    /// <summary>The seed of every row's noise stream (default 0).</summary>
    public int Seed { get; init; }

    /// <inheritdoc/>
    public override Attack WithSeed(int seed) => this with { Seed = seed };

    /// <inheritdoc/>
    public override void Validate()
    {
        if (StandardDeviation < 0 || !double.IsFinite(StandardDeviation))
        {
            throw new BadInputException($"noise: stddev must be a finite number >= 0; got {StandardDeviation}");
        }
    }

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys)
    {
        // Drawn on the CPU whatever the device, so a seed gives the same noise everywhere.
        var noise = DrawPerRow(images.shape[0], images.shape[1], Seed, keys, stream: 0, normal: true).mul_(StandardDeviation).to(images.device);
        return new PerturbOutput(images + noise, zeros(images.shape[0], dtype: ScalarType.Int64, device: images.device));
    }
}
