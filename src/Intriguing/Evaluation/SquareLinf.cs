using Intriguing.Attacks;
using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// Square in the L-inf ball (Andriushchenko et al. 2020, https://arxiv.org/abs/1912.00049, Algorithm 2): the start is
/// vertical stripes, x + eps * s with one random sign s per (channel, column); each iteration sets one random square
/// window of each channel to +-2 eps around the current point (a random sign per channel) and clips back to the
/// eps-cube and the box, so the proposals stay on the cube's vertices. Distance: L-inf (|x' - x|_inf &lt;= eps).
/// Defaults: eps = 0.3 (MNIST, as PGD), 5000 queries, p_init 0.8. Example: <c>new SquareLinf { Epsilon = 0.3, Queries = 1000 }</c>.
/// </summary>
public sealed record SquareLinf : Square
{
    /// <summary>Square-L-inf with eps 0.3.</summary>
    public SquareLinf()
    {
        Epsilon = 0.3;
    }

    /// <inheritdoc/>
    public override string Name => "square";

    /// <inheritdoc/>
    protected override Tensor Start(Tensor images, Geometry geometry, InputBox box, long[] rowIndices)
    {
        int perRow = (int)(geometry.Channels * geometry.Width);
        float[] uniforms = StartUniforms(rowIndices, perRow);
        var signs = tensor(uniforms.Select(Sign).ToArray(), device: images.device)
            .reshape(rowIndices.Length, geometry.Channels, 1, geometry.Width);
        return ClampToBox(images + Epsilon * signs, geometry, box);
    }

    /// <summary>Two window positions and one sign per channel.</summary>
    protected override int RandomsPerIteration(Geometry geometry) => 2 + (int)geometry.Channels;

    /// <summary>sqrt(p * H * W) rounded, at least 1, at most the image's smaller side (the reference's rule).</summary>
    protected override long Side(double p, Geometry geometry) =>
        Math.Min(Math.Max((long)Math.Round(Math.Sqrt(p * geometry.Features / geometry.Channels)), 1), Math.Min(geometry.Height, geometry.Width));

    /// <inheritdoc/>
    protected override Tensor Propose(Tensor images, Tensor best, float[] uniforms, long side, Geometry geometry, InputBox box)
    {
        int rows = (int)images.shape[0];
        int perRow = RandomsPerIteration(geometry);
        var top = new long[rows];
        var left = new long[rows];
        var signs = new float[rows * geometry.Channels];
        for (int row = 0; row < rows; row++)
        {
            int offset = row * perRow;
            top[row] = Position(uniforms[offset], geometry.Height - side);
            left[row] = Position(uniforms[offset + 1], geometry.Width - side);
            for (int channel = 0; channel < geometry.Channels; channel++)
            {
                signs[row * geometry.Channels + channel] = Sign(uniforms[offset + 2 + channel]);
            }
        }
        var mask = WindowMask(top, left, side, geometry, images.device);
        var channelSigns = tensor(signs, device: images.device).reshape(rows, geometry.Channels, 1, 1);
        var moved = best + mask * channelSigns * (2 * Epsilon);
        var inBall = moved.maximum(images - Epsilon).minimum(images + Epsilon);
        return ClampToBox(inBall, geometry, box);
    }

    /// <summary>Square-L-inf has the managed search (<see cref="SquareLinfSearch"/>).</summary>
    private protected override bool HasManagedSearch => true;

    /// <summary>The same search on float arrays (<see cref="SquareLinfSearch"/>): the same points, queries and successes.</summary>
    private protected override PerturbOutput? PerturbScored(
        IBatchScorer scorer, Tensor images, Criterion criterion, RowKeys keys, Geometry geometry, InputBox box, int classes)
    {
        long rows = images.shape[0];
        long[] rowIndices = [.. Enumerable.Range(0, (int)rows).Select(row => keys[row])];
        float[] start = Start(images, geometry, box, rowIndices).contiguous().cpu().data<float>().ToArray();
        float[] clean = images.contiguous().cpu().data<float>().ToArray();
        long[] labels = criterion.Labels.cpu().data<long>().ToArray();
        long[]? targets = criterion.Targets?.cpu().data<long>().ToArray();
        var search = new SquareLinfSearch(scorer, (int)geometry.Channels, (int)geometry.Height, (int)geometry.Width, classes, (float)Epsilon, box);
        int seed = Seed;
        var outcome = search.Run(clean, start, labels, targets, Queries,
            (destination, row, stream) => RowRandom.FillSymmetricUniform(destination, seed, keys[row], stream),
            iteration => (int)Side(FractionAt(iteration), geometry));
        var device = images.device;
        return new PerturbOutput(
            tensor(outcome.Points, [rows, geometry.Features]).to(device),
            tensor(outcome.Queries).to(device),
            tensor(outcome.Success).to(device));
    }
}
