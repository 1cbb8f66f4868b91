using Intriguing.Attacks;

namespace Intriguing.Tests.Attacks;

/// <summary>
/// The fused SIMD loops of the L-BFGS and PGD engines against plain scalar arithmetic, on lengths that exercise both
/// the vector body and the scalar tail (37 = 4 x 8 + 5; 803 = MNIST's 784 + 19), with coordinates on both bounds.
/// </summary>
public class RowMathTests
{
    public static TheoryData<int> Lengths => new() { 1, 37, 803 };

    private static float[] Random(int length, int seed, double low = -1, double high = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(low + (high - low) * random.NextDouble())).ToArray();
    }

    /// <summary>Points in [0,1] with about a third of the coordinates exactly on 0 or 1.</summary>
    private static float[] BoxPoint(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(6) switch
        {
            0 => 0f,
            1 => 1f,
            _ => (float)random.NextDouble(),
        }).ToArray();
    }

    private static bool Blocked(float x, float g) => (x <= 0 && g > 0) || (x >= 1 && g < 0);

    private static float[] Zeros(int length) => new float[length];

    private static float[] Ones(int length) => Enumerable.Repeat(1f, length).ToArray();

    [Theory]
    [MemberData(nameof(Lengths))]
    public void DotAddScaledScaleAndDifferenceMatchScalarArithmetic(int length)
    {
        var a = Random(length, 1);
        var b = Random(length, 2);
        AssertClose(a.Zip(b, (x, y) => (double)x * y).Sum(), RowMath.Dot(a, b));

        var y = (float[])b.Clone();
        RowMath.AddScaled(y, 0.75f, a);
        Assert.Equal(b.Zip(a, (u, v) => u + 0.75f * v), y, new Tolerance(1e-6));

        RowMath.Scale(y, -2f);
        Assert.Equal(b.Zip(a, (u, v) => -2f * (u + 0.75f * v)), y, new Tolerance(1e-5));

        var difference = new float[length];
        RowMath.Difference(difference, a, b);
        Assert.Equal(a.Zip(b, (u, v) => u - v), difference);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void DistanceTermAddsItsGradientAndReturnsTheSquaredDistance(int length)
    {
        var point = BoxPoint(length, 3);
        var origin = BoxPoint(length, 4);
        var gradient = Random(length, 5);
        var expectedGradient = gradient.Select((g, i) => g + 2 * 0.3f * (point[i] - origin[i])).ToArray();
        double expectedSquared = point.Zip(origin, (x, o) => (double)(x - o) * (x - o)).Sum();

        float squared = RowMath.AddDistanceTerm(point, origin, 0.3f, gradient);

        AssertClose(expectedSquared, squared);
        Assert.Equal(expectedGradient, gradient, new Tolerance(1e-6));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void PairProductsAreTheCurvatureAndTheSquaredGradientChange(int length)
    {
        var nextPoint = BoxPoint(length, 6);
        var point = BoxPoint(length, 7);
        var nextGradient = Random(length, 8);
        var gradient = Random(length, 9);
        var s = nextPoint.Zip(point, (u, v) => (double)u - v).ToArray();
        var y = nextGradient.Zip(gradient, (u, v) => (double)u - v).ToArray();

        var (curvature, changeSquared) = RowMath.PairProducts(nextPoint, point, nextGradient, gradient);

        AssertClose(s.Zip(y, (u, v) => u * v).Sum(), curvature);
        AssertClose(y.Sum(v => v * v), changeSquared);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ProjectedGradientZeroesExactlyTheCoordinatesPushedOutOfTheBox(int length)
    {
        var point = BoxPoint(length, 10);
        var gradient = Random(length, 11);
        var projected = new float[length];

        float largest = RowMath.ProjectGradient(point, gradient, projected, Zeros(length), Ones(length));

        var expected = gradient.Select((g, i) => Blocked(point[i], g) ? 0f : g).ToArray();
        Assert.Equal(expected, projected);
        Assert.Equal(expected.Max(Math.Abs), largest);
    }

    [Fact]
    public void ProjectedGradientReportsANaNEntry()
    {
        foreach (int position in new[] { 3, 36 })
        {
            var gradient = Random(37, 12);
            gradient[position] = float.NaN;
            Assert.True(float.IsNaN(RowMath.ProjectGradient(BoxPoint(37, 13).Select(_ => 0.5f).ToArray(), gradient, new float[37], Zeros(37), Ones(37))));
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void DescentDirectionIsMinusTheProductOnFreeCoordinates(int length)
    {
        var point = BoxPoint(length, 14);
        var gradient = Random(length, 15);
        var product = Random(length, 16);
        var direction = new float[length];

        var (slope, length1) = RowMath.DescentDirection(point, gradient, product, direction, Zeros(length), Ones(length));

        var expected = product.Select((h, i) => Blocked(point[i], gradient[i]) ? 0f : -h).ToArray();
        Assert.Equal(expected, direction);
        AssertClose(expected.Select((d, i) => (double)d * (Blocked(point[i], gradient[i]) ? 0 : gradient[i])).Sum(), slope);
        AssertClose(expected.Sum(d => (double)Math.Abs(d)), length1);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void StepInBoxClipsToTheBoxAndPredictsTheLinearDecrease(int length)
    {
        var point = BoxPoint(length, 17);
        var direction = Random(length, 18, -3, 3);
        var gradient = Random(length, 19);
        var candidate = new float[length];

        float predicted = RowMath.StepInBox(point, direction, 0.5f, gradient, candidate, Zeros(length), Ones(length));

        var expected = point.Select((x, i) => Math.Clamp(x + 0.5f * direction[i], 0f, 1f)).ToArray();
        Assert.Equal(expected, candidate, new Tolerance(1e-6));
        Assert.All(candidate, value => Assert.InRange(value, 0f, 1f));
        AssertClose(expected.Select((c, i) => (double)gradient[i] * (c - point[i])).Sum(), predicted);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SignStepMovesEachPixelByTheStepAgainstItsGradientInsideItsInterval(int length)
    {
        var x = BoxPoint(length, 20);
        var gradient = Random(length, 21);
        gradient[0] = 0f;
        var lower = x.Select(v => Math.Max(v - 0.05f, 0f)).ToArray();
        var upper = x.Select(v => Math.Min(v + 0.05f, 1f)).ToArray();
        var expected = x.Select((v, i) => Math.Clamp(v - 0.1f * Math.Sign(gradient[i]), lower[i], upper[i])).ToArray();

        RowMath.SignStepInInterval(x, gradient, 0.1f, lower, upper);

        Assert.Equal(expected, x, new Tolerance(1e-6));
    }

    /// <summary>Float sums in a different order: equal to a relative 1e-5.</summary>
    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");

    private sealed class Tolerance(double bound) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= bound * Math.Max(1, Math.Abs(x));

        public int GetHashCode(float value) => 0;
    }
}
