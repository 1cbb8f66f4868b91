using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// FAB's inner step: the smallest step d (in L-inf or L2) that moves each point t onto the hyperplane w.z = b while
/// keeping t + d in the box [0, 1]^D, or, where the box does not let it reach the plane, the step that gets closest
/// (every coordinate at the bound that lowers w.z). Croce and Hein, "Minimally distorted adversarial examples with a
/// fast adaptive boundary attack", ICML 2020, https://arxiv.org/abs/1907.02044, Section 3.1; the sort-and-bisect
/// solution of the reference implementation (fab_projections.py), row by row over a batch.
/// </summary>
public static class FabProjections
{
    /// <summary>
    /// L-inf: with radius lambda every coordinate moves min(lambda, room_i) towards the bound that lowers w.z, so the
    /// change in w.z is piecewise linear in lambda; sort the rooms, bisect for the piece that reaches the plane, solve on it.
    /// </summary>
    /// <param name="points">t, float [B, D] in [0, 1].</param>
    /// <param name="normals">w, float [B, D].</param>
    /// <param name="offsets">b, float [B].</param>
    /// <returns>d, float [B, D].</returns>
    public static Tensor Linf(Tensor points, Tensor normals, Tensor offsets)
    {
        using var scope = NewDisposeScope();
        var t = points;
        long features = t.shape[1];
        // Orient every plane so that w.t - b >= 0: the step must lower w.z.
        var sign = (normals * t).sum(1).sub(offsets).ge(0).to_type(t.dtype).mul(2).sub(1);
        var w = normals * sign.unsqueeze(1);
        var b = offsets * sign;
        var nonzero = w.ne(0).to_type(t.dtype);

        var towardsOne = w.lt(0).to_type(t.dtype);
        var d = (towardsOne - t) * nonzero;
        var room = towardsOne - t * (2 * towardsOne - 1);
        var ascending = room.argsort(1);
        var needed = b - (w * t).sum(1);
        var mostChange = (w * d).sum(1);

        var descending = ascending.flip(1);
        var sortedW = w.gather(1, descending);
        var atBound = -sortedW * d.gather(1, descending);
        var slope = sortedW.abs().cumsum(1);
        var reached = atBound.cumsum(1) + mostChange.unsqueeze(1);

        // Within the smallest room every coordinate moves lambda: solve there directly.
        var smallestRoom = room.gather(1, ascending.narrow(1, 0, 1)).squeeze(1);
        var withinSmallest = needed - (reached[.., -1] - slope[.., -1] * smallestRoom) > 0;
        var bisect = (needed - mostChange > 0).logical_and(withinSmallest.logical_not());

        var lower = zeros(t.shape[0], dtype: t.dtype, device: t.device);
        var upper = full(t.shape[0], features - 1, dtype: t.dtype, device: t.device);
        int steps = (int)Math.Ceiling(Math.Log2(features));
        for (int step = 0; step < steps; step++)
        {
            var middle = ((lower + upper) / 2).floor();
            var position = middle.to_type(ScalarType.Int64).unsqueeze(1);
            var coordinate = ascending.gather(1, (features - 1) - position);
            var change = (reached.gather(1, position) - slope.gather(1, position) * room.gather(1, coordinate)).squeeze(1);
            var beyond = needed - change > 0;
            lower = where(beyond, middle, lower);
            upper = where(beyond, upper, middle);
        }
        var piece = lower.to_type(ScalarType.Int64).unsqueeze(1);

        var direction = 2 * towardsOne - 1;
        var lambdaSmall = ((needed - reached[.., -1]) / -slope[.., -1]).clamp_min(0).unsqueeze(1);
        var lambdaPiece = ((needed - reached.gather(1, piece).squeeze(1)) / -slope.gather(1, piece).squeeze(1)).clamp_min(0).unsqueeze(1);
        var onPiece = lambdaPiece.minimum(d) * towardsOne + (-lambdaPiece).maximum(d) * (1 - towardsOne);
        d = where(withinSmallest.unsqueeze(1), direction * lambdaSmall, where(bisect.unsqueeze(1), onPiece, d));
        return (d * nonzero).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// L2: the step is -alpha w clipped coordinate by coordinate at the box; the change in w.z is piecewise linear in
    /// alpha with breakpoints where coordinates hit their bounds; sort them, bisect, solve on the piece.
    /// </summary>
    public static Tensor L2(Tensor points, Tensor normals, Tensor offsets)
    {
        using var scope = NewDisposeScope();
        var t = points;
        long features = t.shape[1];
        var c = (normals * t).sum(1) - offsets;
        var sign = c.ge(0).to_type(t.dtype).mul(2).sub(1);
        var w = normals * sign.unsqueeze(1);
        c = c * sign;

        var small = w.abs().lt(1e-8);
        var safeW = where(small, ones_like(w), w);
        var r = (t / safeW).maximum((t - 1) / safeW).clamp(-1e12, 1e12).masked_fill(small, 1e12);
        r = where(r.eq(-1e12), -r, r);
        var (sortedR, order) = r.sort(1);
        var nextR = nn.functional.pad(sortedR.narrow(1, 1, features - 1), [0, 1]);
        sortedR = sortedR.masked_fill(sortedR.eq(1e12), 0);
        nextR = nextR.masked_fill(nextR.eq(1e12), 0);

        var sortedSquares = w.square().gather(1, order);
        var total = sortedSquares.sum(1, keepdim: true);
        var remaining = total - sortedSquares.cumsum(1);
        var d = (-(r * w)) * w.abs().gt(1e-8).to_type(t.dtype);
        var s = cat([-total * sortedR.narrow(1, 0, 1), ((sortedR - nextR) * remaining).cumsum(1) - total * sortedR.narrow(1, 0, 1)], 1);

        var noneClipped = s[.., 0] + c < 0;
        var unreachable = (d * w).sum(1) + c > 0;
        var bisect = noneClipped.logical_or(unreachable).logical_not();

        var lower = zeros(t.shape[0], dtype: t.dtype, device: t.device);
        var upper = full(t.shape[0], features - 1, dtype: t.dtype, device: t.device);
        int steps = (int)Math.Ceiling(Math.Log2(features));
        for (int step = 0; step < steps; step++)
        {
            var middle = ((lower + upper) / 2).floor();
            var beyond = s.gather(1, middle.to_type(ScalarType.Int64).unsqueeze(1)).squeeze(1) + c > 0;
            lower = where(beyond, middle, lower);
            upper = where(beyond, upper, middle);
        }
        var piece = lower.to_type(ScalarType.Int64).unsqueeze(1);

        var alphaFree = (c / total.squeeze(1)).unsqueeze(1);
        var remainingAt = remaining.gather(1, piece).squeeze(1);
        var alphaPiece = (s.gather(1, piece).squeeze(1) + c) / where(remainingAt.eq(0), ones_like(remainingAt), remainingAt)
            + sortedR.gather(1, piece).squeeze(1);
        alphaPiece = where(remainingAt.eq(0), zeros_like(alphaPiece), alphaPiece).unsqueeze(1);
        var clipped = alphaPiece.gt(r).to_type(t.dtype);
        var onPiece = d * clipped - alphaPiece * w * (1 - clipped);
        d = where(noneClipped.unsqueeze(1), -alphaFree * w, where(bisect.unsqueeze(1), onPiece, d));
        return (d * w.abs().gt(1e-8).to_type(t.dtype)).MoveToOuterDisposeScope();
    }
}
