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
        var factors = Factors(originals, directions, targetRms, lower, upper, out var reachable);
        var unclipped = originals + factors.unsqueeze(1).to_type(originals.dtype) * directions;
        var points = unclipped.clamp(lower, upper);
        var reached = Rms(originals, points);
        double clipped = points.ne(unclipped).to_type(ScalarType.Float32).mean().item<float>();
        double[] reachedRms = [.. reached.cpu().data<float>().Select(value => (double)value)];
        int unreachable = (int)reachable.logical_not().sum().item<long>();
        return new Scaled(points.MoveToOuterDisposeScope(), reachedRms, reachedRms.Length == 0 ? 0 : reachedRms.Average(), clipped, unreachable);
    }

    /// <summary>
    /// The factor k per row, exactly: value i moves by min(k |d_i|, room_i), room_i being its distance to the box's edge
    /// in d_i's direction, so D rms(k)^2 = sum over clipped values of room_i^2 + k^2 sum over the others of d_i^2, a
    /// piecewise quadratic with breakpoints t_i = room_i / |d_i|. Sorting the breakpoints finds the piece where it
    /// reaches D target^2 and solves it. A row that cannot reach the target gets its largest breakpoint (every
    /// moving value at the edge); a row with d = 0 gets 0.
    /// </summary>
    private static Tensor Factors(Tensor originals, Tensor directions, double targetRms, Tensor lower, Tensor upper, out Tensor reachable)
    {
        var x = originals.to_type(ScalarType.Float64);
        var d = directions.to_type(ScalarType.Float64);
        var size = d.abs();
        var room = where(d.gt(0), upper.to_type(ScalarType.Float64) - x, x - lower.to_type(ScalarType.Float64)).clamp_min(0);
        var moves = size.gt(0);
        var breakpoints = where(moves, room / size.clamp_min(1e-300), full_like(size, double.PositiveInfinity));
        var (sorted, order) = breakpoints.sort(1);
        var roomSquared = room.square().where(moves, zeros_like(room)).gather(1, order);
        var sizeSquared = size.square().gather(1, order);
        var before = roomSquared.cumsum(1) - roomSquared;                              // clipped values below breakpoint j
        var after = sizeSquared.flip(1).cumsum(1).flip(1);                             // values still moving at breakpoint j
        var atBreakpoint = before + where(after.gt(0), sorted.square() * after, zeros_like(after));
        double goal = targetRms * targetRms * d.shape[1];
        var piece = atBreakpoint.lt(goal).sum(1, keepdim: true);                       // first breakpoint at or past the goal
        reachable = piece.squeeze(1).lt(d.shape[1]).logical_and(moves.any(1));
        var index = piece.clamp_max(d.shape[1] - 1);
        var solved = ((goal - before.gather(1, index)) / after.gather(1, index).clamp_min(1e-300)).clamp_min(0).sqrt().squeeze(1);
        var largestFinite = where(sorted.isfinite(), sorted, zeros_like(sorted)).amax(1);
        return where(reachable, solved, largestFinite);
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
