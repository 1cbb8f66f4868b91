using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Transfer;

/// <summary>
/// Perturbations brought to a chosen size in the paper's distortion measure, RMS = sqrt(sum((x'-x)^2)/D): the
/// magnified adversarial examples of Table 4 ("distorted by a factor") and Gaussian noise of the same RMS. Each row's
/// direction d is scaled by its own factor k so that clip(x + k d) sits at the requested RMS <em>after</em> clipping to the
/// box (the RMS of clip(x + k d) - x grows with k, so k is found by bisection). A row whose every value is pushed to the
/// box's edge and still falls short keeps its largest reachable RMS and is counted as unreachable.
/// </summary>
public static class RmsScaling
{
    /// <summary>Per-row RMS distortion of <paramref name="points"/> from <paramref name="originals"/> (both [N, D]): float [N].</summary>
    public static Tensor Rms(Tensor originals, Tensor points) => (points - originals).square().mean([1]).sqrt();

    /// <summary>
    /// The scaled points ([N, D], inside the box, in the caller's dispose scope), the RMS each row reached, their mean,
    /// the fraction of values the box clipped, and the rows that could not reach the request (all values at the box's
    /// edge, or a zero direction).
    /// </summary>
    public sealed record Scaled(Tensor Points, double[] ReachedRms, double MeanReachedRms, double ClippedFraction, int Unreachable);

    /// <summary>Scales each row of <paramref name="directions"/> so that clip(x + k d) has RMS <paramref name="targetRms"/> from x.</summary>
    /// <exception cref="BadInputException">Shapes differ, or the requested RMS is not a finite positive number.</exception>
    public static Scaled ToRms(Tensor originals, Tensor directions, double targetRms, InputBox box)
    {
        ArgumentNullException.ThrowIfNull(originals);
        ArgumentNullException.ThrowIfNull(directions);
        ArgumentNullException.ThrowIfNull(box);
        if (!double.IsFinite(targetRms) || targetRms <= 0)
        {
            throw new BadInputException($"the requested RMS distortion must be a finite number > 0; got {targetRms}");
        }
        if (!originals.shape.SequenceEqual(directions.shape) || originals.dim() != 2)
        {
            throw new BadInputException($"originals and directions must both be [N, D]; got [{string.Join(", ", originals.shape)}] and [{string.Join(", ", directions.shape)}]");
        }
        using var scope = NewDisposeScope();
        var (lower, upper) = box.Tensors(originals.device);
        Tensor RmsAt(Tensor factor) => Rms(originals, (originals + factor.unsqueeze(1) * directions).clamp(lower, upper));

        var directionRms = Rms(zeros_like(directions), directions);
        var usable = directionRms.gt(0);
        // Clipping only shrinks a perturbation, so k = target / rms(d) is a lower bound; double the upper bound until it reaches.
        var low = (targetRms / directionRms.clamp_min(1e-12)).where(usable, zeros_like(directionRms));
        var high = low.clone();
        for (int step = 0; step < 40 && RmsAt(high).lt(targetRms).logical_and(usable).any().item<bool>(); step++)
        {
            high = where(RmsAt(high).lt(targetRms), high * 2, high);
        }
        var reachable = RmsAt(high).ge(targetRms).logical_and(usable);
        for (int step = 0; step < 40; step++)
        {
            var middle = (low + high) / 2;
            var below = RmsAt(middle).lt(targetRms);
            low = where(below, middle, low);
            high = where(below, high, middle);
        }
        var factors = high; // an unreachable row keeps the largest factor tried: every value at the box edge
        var unclipped = originals + factors.unsqueeze(1) * directions;
        var points = unclipped.clamp(lower, upper);
        var reached = Rms(originals, points);
        double clipped = points.ne(unclipped).to_type(ScalarType.Float32).mean().item<float>();
        double[] reachedRms = [.. reached.cpu().data<float>().Select(value => (double)value)];
        int unreachable = (int)reachable.logical_not().sum().item<long>();
        return new Scaled(points.MoveToOuterDisposeScope(), reachedRms, reachedRms.Length == 0 ? 0 : reachedRms.Average(), clipped, unreachable);
    }

    /// <summary>
    /// Gaussian noise directions N(0, 1), one row per image, from a generator seeded with <paramref name="seed"/> (on the
    /// CPU, so a seed gives the same noise everywhere), float [rows, features].
    /// </summary>
    public static Tensor GaussianDirections(long rows, long features, int seed)
    {
        using var generator = new TorchSharp.torch.Generator((ulong)seed);
        return randn([rows, features], generator: generator);
    }

    /// <summary>The paper's noise rows: clip(x + stddev * n) with n from <paramref name="directions"/> (N(0,1) per value).</summary>
    public static Tensor AddNoise(Tensor originals, Tensor directions, double stddev, InputBox box)
    {
        ArgumentNullException.ThrowIfNull(box);
        using var scope = NewDisposeScope();
        var (lower, upper) = box.Tensors(originals.device);
        return (originals + stddev * directions).clamp(lower, upper).MoveToOuterDisposeScope();
    }
}
