using Intriguing.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Spectral;

/// <summary>
/// Known answers for the per-layer bounds: a diagonal matrix, the identity convolution, convolutions whose norms follow by
/// hand from their transforms, and a strided, padded, grouped convolution against the SVD of its dense matrix.
/// </summary>
public sealed class OperatorNormTests
{
    [Fact]
    public void A_diagonal_weight_matrix_has_its_largest_absolute_entry_as_norm_by_svd_and_by_power_iteration()
    {
        using var scope = NewDisposeScope();
        var weight = diag(tensor(new float[] { 3, -5, 2, 0.5f }));
        Assert.Equal(5.0, LinearNorm.Exact(weight), 12);
        var iterated = LinearNorm.PowerIteration(weight);
        Assert.True(iterated.Converged);
        Assert.Equal(5.0, iterated.Norm, 8);
    }

    [Fact]
    public void A_large_matrix_goes_through_the_gram_route_and_agrees_with_power_iteration()
    {
        using var scope = NewDisposeScope();
        // 1100 x 1000 (over the direct-SVD limit) with known singular values: k / 400 for k = 1..999, and 5.
        var weight = zeros(1100, 1000);
        weight.narrow(0, 0, 1000).copy_(diag(arange(1, 1001, dtype: ScalarType.Float32) / 400));
        weight[999, 999] = tensor(5f);
        double exact = LinearNorm.Exact(weight);
        Assert.Equal(5.0, exact, 5.0 * 1e-6);
        Assert.Equal(5.0, LinearNorm.PowerIteration(weight).Norm, 5.0 * 1e-5);
    }

    [Fact]
    public void The_identity_convolution_has_norm_one()
    {
        using var scope = NewDisposeScope();
        var weight = zeros(2, 2, 3, 3);
        weight[0, 0, 1, 1] = tensor(1f);
        weight[1, 1, 1, 1] = tensor(1f);
        var layer = Convolution(weight, inputSide: 7, stride: 1, padding: 1);
        Assert.Equal(1.0, ConvolutionNorm.Bound(layer).Bound, 12);
        Assert.Equal(1.0, ConvolutionNorm.PowerIteration(layer).Norm, 9);
    }

    [Fact]
    public void A_checkerboard_filter_has_norm_four_by_hand_and_power_iteration_on_the_circular_grid_finds_it()
    {
        // w = [[1, -1], [-1, 1]]: its transform is (1 - e^{iu})(1 - e^{iv}), largest at u = v = pi: |2 * 2| = 4.
        using var scope = NewDisposeScope();
        var weight = tensor(new float[] { 1, -1, -1, 1 }).reshape(1, 1, 2, 2);
        var layer = Convolution(weight, inputSide: 8, stride: 1, padding: 1);
        var fourier = ConvolutionNorm.Bound(layer);
        Assert.Equal(10, fourier.GridHeight); // 8 + 2 * 1: even, so the frequency pi is on the grid
        Assert.Equal(4.0, fourier.Bound, 12);
        var circular = ConvolutionNorm.PowerIteration(layer, circular: true);
        Assert.Equal(fourier.Bound, circular.Norm, fourier.Bound * 1e-6);
        var padded = ConvolutionNorm.PowerIteration(layer);
        Assert.True(padded.Norm <= fourier.Bound * (1 + 1e-9), $"exact {padded.Norm} above the Fourier bound {fourier.Bound}");
    }

    [Fact]
    public void A_one_by_one_convolution_is_its_channel_matrix()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(2);
        var matrix = randn(4, 3, generator: generator);
        var layer = Convolution(matrix.reshape(4, 3, 1, 1), inputSide: 5, stride: 1, padding: 0);
        double expected = linalg.svdvals(matrix.to_type(ScalarType.Float64)).max().item<double>();
        Assert.Equal(expected, ConvolutionNorm.Bound(layer).Bound, 9);
        Assert.Equal(expected, ConvolutionNorm.PowerIteration(layer).Norm, 7);
    }

    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(2, 0, 2)]
    public void A_strided_padded_convolution_is_bounded_by_fourier_and_power_iteration_equals_the_svd_of_its_dense_matrix(int stride, int padding, int groups)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)(10 * stride + padding + groups));
        // A constant part on top of noise gives a clear largest singular value, so power iteration settles quickly.
        var weight = randn(4, 4 / groups, 3, 3, generator: generator) * 0.3 + 1;
        var layer = Convolution(weight, inputSide: 8, stride, padding, groups, inChannels: 4);

        // The dense matrix: the convolution applied to every basis vector of the 4 x 8 x 8 input.
        var basis = eye(4 * 8 * 8, dtype: ScalarType.Float64).reshape(-1, 4, 8, 8);
        var dense = nn.functional.conv2d(basis, weight.to_type(ScalarType.Float64), strides: [stride, stride], padding: [padding, padding], groups: groups)
            .reshape(4 * 8 * 8, -1).t();
        double exact = linalg.svdvals(dense).max().item<double>();

        var fourier = ConvolutionNorm.Bound(layer);
        Assert.True(fourier.Bound >= exact * (1 - 1e-12), $"Fourier {fourier.Bound} below the exact norm {exact}");
        Assert.True(fourier.Stride1Bound >= fourier.Bound * (1 - 1e-12), "the polyphase bound must not be looser than the stride-1 bound");
        var iterated = ConvolutionNorm.PowerIteration(layer, maxIterations: 5000, tolerance: 1e-12);
        Assert.Equal(exact, iterated.Norm, exact * 1e-5);
        // The strided circular convolution's norm is exactly the polyphase Fourier number.
        var circular = ConvolutionNorm.PowerIteration(layer, circular: true, maxIterations: 5000, tolerance: 1e-12);
        Assert.Equal(fourier.Bound, circular.Norm, fourier.Bound * 1e-5);
    }

    [Theory]
    [InlineData(2, 2, 28, 1)]
    [InlineData(3, 2, 55, 2)]
    [InlineData(3, 3, 9, 1)]
    [InlineData(3, 1, 9, 3)]
    public void Max_pooling_windows_per_pixel(int kernel, int stride, long length, long expected) =>
        Assert.Equal(expected, NonlinearBounds.WindowsPerPixel(kernel, stride, length));

    [Fact]
    public void Overlapping_max_pooling_reaches_its_bound_of_two_so_the_papers_one_would_fail()
    {
        using var scope = NewDisposeScope();
        // A pixel shared by four 3x3 / stride-2 windows, the maximum of all four: moving it moves four outputs.
        var x = zeros(1, 1, 5, 5, dtype: ScalarType.Float64);
        x[0, 0, 2, 2] = tensor(1.0);
        var moved = x.clone();
        moved[0, 0, 2, 2] = tensor(1.5);
        var difference = (nn.functional.max_pool2d(moved, 3, 2) - nn.functional.max_pool2d(x, 3, 2)).norm().item<double>();
        Assert.Equal(2.0, difference / 0.5, 12);
        Assert.Equal(2.0, NonlinearBounds.MaxPool(3, 2, 5, 5), 12);
    }

    [Fact]
    public void The_local_response_normalisation_bound_sits_above_its_jacobian_norm_at_many_points()
    {
        using var scope = NewDisposeScope();
        var settings = LocalResponseNormSettings.Krizhevsky;
        double bound = NonlinearBounds.LocalResponseNorm(settings);
        Assert.InRange(bound, 0.86, 0.87);
        var layer = new SpectralLayer("norm", SpectralLayerKind.LocalResponseNorm, [12, 1, 1], Normalization: settings);
        var generator = new Generator(4);
        // Activations at scales where alpha * sum(a^2) is comparable to k: where the cross-channel terms matter most.
        double largest = 0;
        foreach (double scale in new[] { 1.0, 60.0, 200.0 })
        {
            var z = randn([32, 12, 1, 1], dtype: ScalarType.Float64, generator: generator) * scale;
            var direction = Sensitivity.WorstDirection(layer.Apply, z, 30, 1e-7, generator);
            var change = (layer.Apply(z + direction) - layer.Apply(z)).flatten(1).norm(1);
            largest = Math.Max(largest, (change / direction.flatten(1).norm(1)).max().item<double>());
        }
        Assert.True(largest <= bound, $"measured {largest} above the bound {bound}");
        Assert.True(largest > 0.5 * bound, $"measured {largest}: the search should get near the bound {bound}");
    }

    internal static SpectralLayer Convolution(Tensor weight, int inputSide, int stride, int padding, int groups = 1, int? inChannels = null) =>
        new("conv", SpectralLayerKind.Convolution, [inChannels ?? weight.shape[1] * groups, inputSide, inputSide],
            weight, Stride: stride, Padding: padding, Kernel: (int)weight.shape[2], Groups: groups);
}
