using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>The Fourier bound of a convolution layer and the grid it was computed on.</summary>
/// <param name="Bound">max over the grid's frequencies of the largest singular value of the per-frequency matrix, with
/// the stride folded in (polyphase, below): an upper bound on the layer's operator norm, never below that maximum (exact,
/// or at most <paramref name="Slack"/> above it).</param>
/// <param name="Stride1Bound">The same without the stride (the stride-1 convolution's bound): also an upper bound, looser;
/// NaN where the grid is too large to bother (AlexNet's conv1).</param>
/// <param name="GridHeight">N_h of the circular grid (a multiple of the stride, at least H + 2 * padding).</param>
/// <param name="GridWidth">N_w of the circular grid.</param>
/// <param name="Frequencies">Frequencies (per group) the bound took the maximum over.</param>
/// <param name="Decomposed">Per-frequency matrices (over the groups, of the distinct half of the grid: real filters give
/// conjugate matrices at opposite frequencies) whose singular values were computed exactly.</param>
/// <param name="Certified">Matrices proven below the bound by a Cholesky certificate instead.</param>
/// <param name="Pruned">Matrices whose Frobenius or sqrt(||A||_1 ||A||_inf) bound lies under an exact value already found.</param>
/// <param name="Slack">Relative amount by which <paramref name="Bound"/> may exceed the exact maximum; 0 = exact.</param>
public sealed record FourierBound(double Bound, double Stride1Bound, long GridHeight, long GridWidth, long Frequencies,
    long Decomposed = 0, long Certified = 0, long Pruned = 0, double Slack = 0)
{
    /// <summary>The bound is the exact maximum over frequencies (float64 decompositions only).</summary>
    public bool IsExact => Slack == 0;
}

/// <summary>
/// Operator norms of a 2-D convolution layer: the paper's Fourier bound (Section 4.4) and the exact norm by power iteration.
/// </summary>
/// <remarks>
/// Why the Fourier number bounds the layer as it really is (zero padding, stride), not just an idealised circular one:
/// <list type="bullet">
/// <item>A circular convolution on an N x N grid is diagonalised by the 2-D DFT: at each frequency w it multiplies the
/// input channels' transforms by the matrix of the filters' transforms [c_out, c_in](w), so its norm is exactly the largest
/// singular value over the N^2 frequencies.</item>
/// <item>Zero padding: the padded convolution of an H x W input is a restriction of the circular one. Embed the input in an
/// N x N grid of zeros with N &gt;= H + 2p (p = padding; with p = (k-1)/2 that is N &gt;= n + k - 1): every output the padded
/// layer computes reads only grid positions below N, so no sum wraps around, and it equals an output of the circular
/// convolution. Embedding is an isometry and dropping outputs cannot grow a norm, so ||padded|| &lt;= ||circular on N||.</item>
/// <item>Stride s: the strided output is the stride-1 output subsampled, a coordinate projection of norm &lt;= 1, so the
/// stride-1 bound already holds (<see cref="FourierBound.Stride1Bound"/>). We go further, as the paper does with aliasing:
/// with N a multiple of s, the strided circular convolution splits the input into its s^2 polyphase components
/// x_f[m] = x[s m + f] and the filter into w_f[q] = w[s q + f]; then y = sum_f w_f * x_f, a stride-1 circular convolution
/// on the N/s grid with s^2 c_in input channels. Its per-frequency matrices [c_out, s^2 c_in] give the exact norm of the
/// strided circular convolution, which bounds the padded strided layer by the restriction argument above.</item>
/// <item>Groups: a grouped convolution is block diagonal over its groups, so its norm is the largest group's.</item>
/// </list>
/// The grid is the layer's own input, padded: N = the smallest multiple of s that is at least H + 2p.
/// </remarks>
public static class ConvolutionNorm
{
    /// <summary>Most frequencies times filter entries for which the stride-1 comparison number is computed.</summary>
    private const long StrideOneLimit = 4_000_000;

    /// <summary>The circular grid for an input of <paramref name="size"/> pixels, padded by <paramref name="padding"/>, stride <paramref name="stride"/>.</summary>
    public static long GridSize(long size, int padding, int stride) => (size + 2L * padding + stride - 1) / stride * stride;

    /// <summary>The Fourier bound of <paramref name="layer"/> (a convolution) on its own input size.</summary>
    public static FourierBound Bound(SpectralLayer layer)
    {
        CheckConvolution(layer);
        long gridHeight = GridSize(layer.InputShape[1], layer.Padding, layer.Stride);
        long gridWidth = GridSize(layer.InputShape[2], layer.Padding, layer.Stride);
        var strided = Fourier(layer.Weight!, layer.Groups, layer.Stride, gridHeight, gridWidth);
        // The stride-1 number is only there to show what the polyphase treatment buys; on AlexNet's conv1 (228 x 228 grid)
        // it would cost more than every other bound together, so large grids skip it.
        bool small = gridHeight * gridWidth * layer.Weight!.shape[0] * layer.Weight.shape[1] <= StrideOneLimit;
        double stride1 = layer.Stride == 1 ? strided.Value : small ? Fourier(layer.Weight!, layer.Groups, 1, gridHeight, gridWidth).Value : double.NaN;
        return new FourierBound(strided.Value, stride1, gridHeight, gridWidth, gridHeight / layer.Stride * (gridWidth / layer.Stride),
            strided.Decomposed, strided.Certified, strided.Pruned, strided.Slack);
    }

    /// <summary>
    /// The norm of the strided circular convolution with <paramref name="weight"/> [c_out, c_in / groups, kh, kw] on an
    /// N_h x N_w grid (both multiples of <paramref name="stride"/>): max over frequencies and groups of the largest singular
    /// value of the polyphase filter transforms (see the remarks above), never below it (<see cref="PerFrequencyNorm"/>).
    /// Computed in float64 / complex128. Only half the frequencies are looked at: for real filters the matrix at -w is the
    /// complex conjugate of the one at w, with the same singular values.
    /// </summary>
    public static FrequencyMaximum Fourier(Tensor weight, int groups, int stride, long gridHeight, long gridWidth)
    {
        if (weight.dim() != 4 || weight.shape[0] % groups != 0 || gridHeight % stride != 0 || gridWidth % stride != 0)
        {
            throw new BadInputException(
                $"Fourier bound: weight [{string.Join(", ", weight.shape)}] with {groups} groups, stride {stride}, grid {gridHeight}x{gridWidth}: " +
                "expected [c_out, c_in/groups, kh, kw], c_out divisible by groups and a grid that is a multiple of the stride");
        }
        if (weight.is_complex())
        {
            throw new BadInputException("Fourier bound: the filters must be real");
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long outChannels = weight.shape[0];
        long inChannels = weight.shape[1];
        long kernelHeight = weight.shape[2];
        long kernelWidth = weight.shape[3];
        long tapsHigh = (kernelHeight + stride - 1) / stride;
        long tapsWide = (kernelWidth + stride - 1) / stride;
        long phaseHeight = gridHeight / stride;
        long phaseWidth = gridWidth / stride;
        if (tapsHigh > phaseHeight || tapsWide > phaseWidth)
        {
            throw new BadInputException($"Fourier bound: grid {gridHeight}x{gridWidth} is smaller than the {kernelHeight}x{kernelWidth} kernel");
        }

        // Polyphase filters w_f[q] = w[s q + f]: pad the kernel to a multiple of s, split each axis into (q, f), move f to channels.
        var w = weight.detach().to_type(ScalarType.Float64);
        w = nn.functional.pad(w, [0, tapsWide * stride - kernelWidth, 0, tapsHigh * stride - kernelHeight]);
        w = w.reshape(outChannels, inChannels, tapsHigh, stride, tapsWide, stride)
            .permute(0, 1, 3, 5, 2, 4)
            .reshape(outChannels, inChannels * stride * stride, tapsHigh, tapsWide);
        long columns = inChannels * stride * stride;

        // Per group (a grouped convolution is block diagonal), the transforms on the N/s grid (rfft2 zero-pads the filters to
        // it and keeps the distinct half): one [c_out / groups, s^2 c_in / groups] matrix per frequency.
        long rowsPerGroup = outChannels / groups;
        var parts = new List<FrequencyMaximum>();
        for (int group = 0; group < groups; group++)
        {
            using var groupScope = NewDisposeScope();
            var transforms = fft.rfft2(w.narrow(0, group * rowsPerGroup, rowsPerGroup), s: [phaseHeight, phaseWidth]);
            var matrices = transforms.permute(2, 3, 0, 1).reshape(-1, rowsPerGroup, columns);
            parts.Add(PerFrequencyNorm.Largest(matrices));
        }
        return FrequencyMaximum.Combine(parts);
    }

    /// <summary>
    /// The layer's exact operator norm by power iteration on A^T A, where A is the convolution as the layer computes it
    /// (zero padding, stride, groups, no bias) on one input of the layer's shape, and A^T comes from autograd (the
    /// gradient of &lt;A x, y&gt; with respect to x is A^T y). With <paramref name="circular"/> the input is the N x N grid of
    /// <see cref="Bound"/> and A wraps around instead of padding with zeros: the operator whose norm the Fourier bound is exactly.
    /// Every estimate ||A v|| (unit v) is a lower bound on the true norm.
    /// </summary>
    public static PowerIterationResult PowerIteration(SpectralLayer layer, bool circular = false, int seed = 0, int maxIterations = 1000,
        double tolerance = 1e-9, ScalarType dtype = ScalarType.Float64)
    {
        CheckConvolution(layer);
        using var scope = NewDisposeScope();
        using var gradients = enable_grad();
        var weight = layer.Weight!.detach().to_type(dtype);
        long[] shape = circular
            ? [1, layer.InputShape[0], GridSize(layer.InputShape[1], layer.Padding, layer.Stride), GridSize(layer.InputShape[2], layer.Padding, layer.Stride)]
            : [1, .. layer.InputShape];
        Tensor Operator(Tensor x) => circular
            ? nn.functional.conv2d(WrapAround(x, weight.shape[2] - 1, weight.shape[3] - 1), weight, strides: [layer.Stride, layer.Stride], groups: layer.Groups)
            : nn.functional.conv2d(x, weight, strides: [layer.Stride, layer.Stride], padding: [layer.Padding, layer.Padding], groups: layer.Groups);

        var generator = new Generator((ulong)seed);
        var v = randn(shape, dtype: dtype, generator: generator);
        return PowerIterationLoop.Run(v / v.norm(), unit =>
        {
            // The adjoint by autograd: the gradient of <A x, u> with respect to x at u = A v is A^T A v.
            var input = unit.detach().requires_grad_(true);
            var image = Operator(input);
            return (image, autograd.grad([image], [input], [image.detach()])[0]);
        }, maxIterations, tolerance);
    }

    /// <summary>Appends the first rows and columns after the last, so a padding-free convolution wraps around the grid.</summary>
    internal static Tensor WrapAround(Tensor x, long extraRows, long extraColumns)
    {
        var rows = extraRows > 0 ? cat([x, x.narrow(2, 0, extraRows)], 2) : x;
        return extraColumns > 0 ? cat([rows, rows.narrow(3, 0, extraColumns)], 3) : rows;
    }

    private static void CheckConvolution(SpectralLayer layer)
    {
        if (layer.Kind != SpectralLayerKind.Convolution || layer.Weight is null || layer.InputShape.Length != 3)
        {
            throw new BadInputException($"layer {layer.Name}: expected a convolution with a weight and an input shape [c, h, w]");
        }
    }
}
