using Intriguing.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Spectral;

/// <summary>
/// The maximum over frequencies is a true upper bound: never below the exact largest singular value (svdvals in float64), and
/// at most the certificate's margin above it, also where power iteration converges slowly and ranks the frequencies wrongly.
/// </summary>
public sealed class TrueBoundTests
{
    /// <summary>Relative room above the exact value the certified route may take (margin plus rounding).</summary>
    private const double Room = 2e-9;

    [Fact]
    public void Random_per_frequency_matrices_past_the_exact_limit_are_bounded_from_above_within_the_margin()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(8);
        // 30 frequencies of 90 x 70, noise plus a rank-one part of its own size: past the exact-Gram limit.
        var real = randn([30, 90, 70], dtype: ScalarType.Float64, generator: generator);
        var imaginary = randn([30, 90, 70], dtype: ScalarType.Float64, generator: generator);
        var spikes = randn([30, 90, 1], dtype: ScalarType.Float64, generator: generator).matmul(randn([30, 1, 70], dtype: ScalarType.Float64, generator: generator));
        var matrices = complex(real + spikes, imaginary);
        double exact = linalg.svdvals(matrices).max().item<double>();
        var maximum = PerFrequencyNorm.Largest(matrices);
        AssertBounds(exact, maximum);
        Assert.Equal(30, maximum.Decomposed + maximum.Certified + maximum.Pruned);
    }

    [Fact]
    public void Flat_noise_with_no_gap_at_the_top_is_still_bounded_from_above()
    {
        // Complex Gaussian matrices: every frequency's top singular values crowd together, as in AlexNet's random layers.
        using var scope = NewDisposeScope();
        var generator = new Generator(21);
        var matrices = complex(randn([40, 96, 80], dtype: ScalarType.Float64, generator: generator), randn([40, 96, 80], dtype: ScalarType.Float64, generator: generator));
        AssertBounds(linalg.svdvals(matrices).max().item<double>(), PerFrequencyNorm.Largest(matrices));
    }

    [Fact]
    public void Two_nearly_equal_top_singular_values_that_stall_power_iteration_do_not_pull_the_bound_below_the_maximum()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        const int side = 80;
        var spectra = new List<double[]>();
        // Frequency 0 holds the maximum 1, with 0.9999999 next to it and a dense run below: sixteen power steps leave its
        // estimate well under 1. Frequencies 1-3 have a clear gap under a top value of 0.999, so the ranking prefers them.
        spectra.Add([1.0, 0.9999999, .. Enumerable.Range(0, side - 2).Select(i => 0.9999 - 0.002 * i)]);
        for (int decoy = 0; decoy < 3; decoy++)
        {
            spectra.Add([0.999, .. Enumerable.Range(0, side - 1).Select(i => 0.3 - 0.001 * i)]);
        }
        for (int filler = 0; filler < 12; filler++)
        {
            spectra.Add(Enumerable.Range(0, side).Select(i => 0.9 - 0.005 * i - 0.01 * filler).ToArray());
        }
        var matrices = stack(spectra.Select(values => WithSingularValues(values, rows: 100, generator)).ToList(), 0);
        double exact = linalg.svdvals(matrices).max().item<double>();
        Assert.Equal(1.0, exact, 1e-12);
        var maximum = PerFrequencyNorm.Largest(matrices);
        AssertBounds(exact, maximum);
        // The ranking put the decoys first: the certificates caught frequency 0 and it was decomposed too.
        Assert.True(maximum.Decomposed > PerFrequencyNorm.Finalists, $"decomposed {maximum.Decomposed}");
    }

    [Fact]
    public void Matrices_below_the_exact_limit_are_all_decomposed_and_the_maximum_is_exact()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var matrices = complex(randn([25, 40, 30], dtype: ScalarType.Float64, generator: generator), randn([25, 40, 30], dtype: ScalarType.Float64, generator: generator));
        var maximum = PerFrequencyNorm.Largest(matrices);
        Assert.True(maximum.IsExact);
        Assert.Equal(25, maximum.Decomposed);
        Assert.Equal(linalg.svdvals(matrices).max().item<double>(), maximum.Value, 1e-10);
    }

    [Fact]
    public void A_frequency_whose_frobenius_norm_is_under_the_maximum_is_pruned_without_a_factorisation()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(6);
        var large = complex(randn([4, 70, 70], dtype: ScalarType.Float64, generator: generator), randn([4, 70, 70], dtype: ScalarType.Float64, generator: generator));
        // Tiny matrices: Frobenius norm far below the others' largest singular value.
        var tiny = large.narrow(0, 0, 3) * 1e-4;
        var matrices = cat([large, tiny], 0);
        var maximum = PerFrequencyNorm.Largest(matrices);
        AssertBounds(linalg.svdvals(matrices).max().item<double>(), maximum);
        Assert.True(maximum.Pruned >= 3, $"pruned {maximum.Pruned}");
    }

    [Fact]
    public void A_wide_strided_convolution_on_the_certified_route_bounds_the_dense_layer_and_equals_the_circular_norm()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(9);
        // 66 outputs, 17 inputs, stride 2: per-frequency matrices 66 x 68, past the exact-Gram limit; 6 x 6 input, padding 1.
        var weight = randn(66, 17, 3, 3, generator: generator) * 0.2;
        var layer = OperatorNormTests.Convolution(weight, inputSide: 6, stride: 2, padding: 1);
        var fourier = ConvolutionNorm.Bound(layer);
        Assert.Equal(8, fourier.GridHeight);
        Assert.True(fourier.Decomposed + fourier.Certified + fourier.Pruned == 4 * 3, "the distinct half of the 4 x 4 polyphase grid");

        var w = weight.to_type(ScalarType.Float64);
        var basis = eye(17 * 6 * 6, dtype: ScalarType.Float64).reshape(-1, 17, 6, 6);
        var dense = nn.functional.conv2d(basis, w, strides: [2, 2], padding: [1, 1]).reshape(17 * 6 * 6, -1);
        double padded = linalg.svdvals(dense).max().item<double>();
        var grid = eye(17 * 8 * 8, dtype: ScalarType.Float64).reshape(-1, 17, 8, 8);
        var circularDense = nn.functional.conv2d(ConvolutionNorm.WrapAround(grid, 2, 2), w, strides: [2, 2]).reshape(17 * 8 * 8, -1);
        double circular = linalg.svdvals(circularDense).max().item<double>();

        Assert.True(fourier.Bound >= padded, $"Fourier {fourier.Bound} below the padded layer's norm {padded}");
        Assert.True(fourier.Bound >= circular * (1 - 1e-12), $"Fourier {fourier.Bound} below the circular norm {circular}");
        Assert.True(fourier.Bound <= circular * (1 + Room), $"Fourier {fourier.Bound} more than the margin above the circular norm {circular}");
    }

    private static void AssertBounds(double exact, FrequencyMaximum maximum)
    {
        Assert.True(maximum.Value >= exact * (1 - 1e-12), $"bound {maximum.Value} below the exact maximum {exact}");
        Assert.True(maximum.Value <= exact * (1 + maximum.Slack + 1e-12), $"bound {maximum.Value} more than its slack {maximum.Slack} above {exact}");
        Assert.True(maximum.Slack <= Room, $"slack {maximum.Slack}");
    }

    /// <summary>A complex [rows, values.Length] matrix U diag(values) V^H with random unitary U and V.</summary>
    private static Tensor WithSingularValues(double[] values, int rows, Generator generator)
    {
        int side = values.Length;
        Tensor Unitary(int n, int k)
        {
            var z = complex(randn([n, k], dtype: ScalarType.Float64, generator: generator), randn([n, k], dtype: ScalarType.Float64, generator: generator));
            return linalg.qr(z).Q;
        }
        var u = Unitary(rows, side);
        var v = Unitary(side, side);
        var sigma = diag(tensor(values, dtype: ScalarType.Float64)).to_type(ScalarType.ComplexFloat64);
        return u.matmul(sigma).matmul(v.conj().transpose(0, 1));
    }
}
