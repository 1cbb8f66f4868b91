using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// Square in the L2 ball (Andriushchenko et al. 2020, https://arxiv.org/abs/1912.00049, Algorithm 3), after the
/// reference implementation: the start is a grid of centred square updates eta (mass concentrated in the middle,
/// opposite signs in its two halves), one random sign per (window, channel), scaled to norm eps. Each iteration moves
/// the perturbation's mass out of a second random window into a first one, where it adds a fresh eta (random sign per
/// channel, randomly transposed) to the normalised old content, rescales the window so the budget left over is spent,
/// and renormalises the whole perturbation to norm eps before clipping to the box. Distance: L2 (|x' - x|_2 &lt;= eps).
/// Defaults: eps = 2.0 (MNIST, as PGD-L2), 5000 queries, p_init 0.8. Example: <c>new SquareL2 { Epsilon = 2.0 }</c>.
/// </summary>
public sealed record SquareL2 : Square
{
    /// <summary>Square-L2 with eps 2.0.</summary>
    public SquareL2()
    {
        Epsilon = 2.0;
    }

    /// <inheritdoc/>
    public override string Name => "square-l2";

    /// <inheritdoc/>
    protected override Tensor Start(Tensor images, Geometry geometry, InputBox box, long[] rowIndices)
    {
        int rows = rowIndices.Length;
        long side = Math.Max(Math.Min(geometry.Height, geometry.Width) / 5, 1);
        long acrossH = geometry.Height / side, acrossW = geometry.Width / side;
        long startH = (geometry.Height - side * acrossH) / 2, startW = (geometry.Width - side * acrossW) / 2;
        int perWindow = (int)geometry.Channels + 1;
        float[] uniforms = StartUniforms(rowIndices, (int)(acrossH * acrossW) * perWindow);
        var (eta, transposed) = Etas(side, images.device);
        var delta = zeros_like(images);
        int window = 0;
        for (long i = 0; i < acrossH; i++)
        {
            for (long j = 0; j < acrossW; j++, window++)
            {
                var signs = new float[rows * geometry.Channels];
                var flips = new bool[rows];
                for (int row = 0; row < rows; row++)
                {
                    int offset = (int)(row * acrossH * acrossW * perWindow) + window * perWindow;
                    flips[row] = uniforms[offset] >= 0;
                    for (int channel = 0; channel < geometry.Channels; channel++)
                    {
                        signs[row * geometry.Channels + channel] = Sign(uniforms[offset + 1 + channel]);
                    }
                }
                var shape = where(tensor(flips, device: images.device).reshape(rows, 1, 1, 1), transposed, eta);
                var update = shape * tensor(signs, device: images.device).reshape(rows, geometry.Channels, 1, 1);
                delta.narrow(2, startH + i * side, side).narrow(3, startW + j * side, side).add_(update);
            }
        }
        return ClampToBox(images + ScaleToEpsilon(delta), geometry, box);
    }

    /// <summary>Two window positions, a transpose flag and one sign per channel.</summary>
    protected override int RandomsPerIteration(Geometry geometry) => 5 + (int)geometry.Channels;

    /// <summary>sqrt(p * H * W) rounded, at least 3 and odd, at most the image's smaller side (the reference's rule).</summary>
    protected override long Side(double p, Geometry geometry)
    {
        long side = Math.Max((long)Math.Round(Math.Sqrt(p * geometry.Features / geometry.Channels)), 3);
        if (side % 2 == 0)
        {
            side++;
        }
        return Math.Min(side, Math.Min(geometry.Height, geometry.Width));
    }

    /// <inheritdoc/>
    protected override Tensor Propose(Tensor images, Tensor best, float[] uniforms, long side, Geometry geometry, InputBox box)
    {
        int rows = (int)images.shape[0];
        int perRow = RandomsPerIteration(geometry);
        long channels = geometry.Channels;
        var top = new long[rows];
        var left = new long[rows];
        var top2 = new long[rows];
        var left2 = new long[rows];
        var flips = new long[rows];
        var signs = new float[rows * channels];
        for (int row = 0; row < rows; row++)
        {
            int offset = row * perRow;
            top[row] = Position(uniforms[offset], geometry.Height - side);
            left[row] = Position(uniforms[offset + 1], geometry.Width - side);
            top2[row] = Position(uniforms[offset + 2], geometry.Height - side);
            left2[row] = Position(uniforms[offset + 3], geometry.Width - side);
            flips[row] = uniforms[offset + 4] >= 0 ? 1 : 0;
            for (int channel = 0; channel < channels; channel++)
            {
                signs[row * channels + channel] = Sign(uniforms[offset + 5 + channel]);
            }
        }
        var device = images.device;
        var delta = best - images;
        var window = WindowMask(top, left, side, geometry, device);
        var emptied = WindowMask(top2, left2, side, geometry, device);
        long[] spatial = [2, 3];
        var windowNorm = (delta * window).square().sum(spatial, keepdim: true).sqrt();
        var imageNorm = delta.square().sum([1, 2, 3], keepdim: true).sqrt();
        var bothNorm = (delta * window.maximum(emptied)).square().sum(spatial, keepdim: true).sqrt();

        // eta placed in each row's window: gather eta[h - top, w - left] (or its transpose) over the image, zero outside.
        var (eta, transposed) = Etas(side, device);
        var etas = stack([eta.flatten(), transposed.flatten()]).flatten();
        var localH = (arange(geometry.Height, dtype: ScalarType.Int64, device: device).unsqueeze(0) - tensor(top, device: device).unsqueeze(1)).clamp(0, side - 1);
        var localW = (arange(geometry.Width, dtype: ScalarType.Int64, device: device).unsqueeze(0) - tensor(left, device: device).unsqueeze(1)).clamp(0, side - 1);
        var index = localH.unsqueeze(2) * side + localW.unsqueeze(1) + (tensor(flips, device: device) * side * side).reshape(rows, 1, 1);
        var placedEta = etas.index_select(0, index.flatten()).reshape(rows, 1, geometry.Height, geometry.Width) * window;

        var update = placedEta * tensor(signs, device: device).reshape(rows, channels, 1, 1) + delta * window / (windowNorm + 1e-12);
        var budget = ((Epsilon * Epsilon - imageNorm.square()).clamp_min(0) / channels + bothNorm.square()).sqrt();
        update = update / (update.square().sum(spatial, keepdim: true).sqrt() + 1e-12) * budget;
        var moved = delta * (1 - emptied) * (1 - window) + update;
        return ClampToBox(images + ScaleToEpsilon(moved), geometry, box);
    }

    /// <summary>Each row of <paramref name="delta"/> [n, C, H, W] scaled to L2 norm eps.</summary>
    private Tensor ScaleToEpsilon(Tensor delta) => delta / (delta.square().sum([1, 2, 3], keepdim: true).sqrt() + 1e-12) * Epsilon;

    /// <summary>The reference's centred update eta for a window of side <paramref name="side"/>, and its transpose, [side, side].</summary>
    private static (Tensor Eta, Tensor Transposed) Etas(long side, Device device)
    {
        int s = (int)side;
        var eta = new double[s, s];
        var upper = Rectangles(s / 2, s);
        var lower = Rectangles(s - s / 2, s);
        for (int j = 0; j < s; j++)
        {
            for (int i = 0; i < s / 2; i++)
            {
                eta[i, j] = upper[i, j];
            }
            for (int i = 0; i < s - s / 2; i++)
            {
                eta[s / 2 + i, j] = -lower[i, j];
            }
        }
        Normalise(eta);
        var values = new float[s * s];
        for (int i = 0; i < s; i++)
        {
            for (int j = 0; j < s; j++)
            {
                values[i * s + j] = (float)eta[i, j];
            }
        }
        var result = tensor(values, device: device).reshape(side, side);
        return (result, result.t().contiguous());
    }

    /// <summary>
    /// The reference's eta_rectangles(x, y): nested rectangles around the centre, ring k (from 0) adding 1 / (k + 1)^2, normalised.
    /// </summary>
    private static double[,] Rectangles(int height, int width)
    {
        var delta = new double[height, width];
        int centreH = height / 2 + 1, centreW = width / 2 + 1;
        int cornerH = centreH - 1, cornerW = centreW - 1;
        for (int ring = 0; ring < Math.Max(centreH, centreW); ring++)
        {
            for (int i = Math.Max(cornerH, 0); i < Math.Min(cornerH + 2 * ring + 1, height); i++)
            {
                for (int j = Math.Max(cornerW, 0); j < Math.Min(cornerW + 2 * ring + 1, width); j++)
                {
                    delta[i, j] += 1.0 / ((ring + 1) * (ring + 1));
                }
            }
            cornerH--;
            cornerW--;
        }
        Normalise(delta);
        return delta;
    }

    private static void Normalise(double[,] values)
    {
        double norm = Math.Sqrt(values.Cast<double>().Sum(value => value * value));
        if (norm == 0)
        {
            return;
        }
        for (int i = 0; i < values.GetLength(0); i++)
        {
            for (int j = 0; j < values.GetLength(1); j++)
            {
                values[i, j] /= norm;
            }
        }
    }
}
