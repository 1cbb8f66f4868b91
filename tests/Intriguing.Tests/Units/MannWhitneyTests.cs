using Intriguing.Units;

namespace Intriguing.Tests.Units;

/// <summary>The Mann-Whitney U test and Cliff's delta against values worked out by hand.</summary>
public sealed class MannWhitneyTests
{
    [Fact]
    public void Fully_separated_samples_give_delta_minus_one_and_the_textbook_p()
    {
        var result = MannWhitney.Test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);

        Assert.Equal(0, result.U);
        Assert.Equal(-1, result.CliffsDelta);
        // z = (0 - 12.5 + 0.5) / sqrt(25 * 11 / 12) = -2.5067; two-sided p = erfc(2.5067 / sqrt 2) = 0.01219.
        Assert.Equal(-2.5067, result.Z, 4);
        Assert.Equal(0.01219, result.PValue, 5);
        Assert.Equal(EffectMagnitude.Large, result.Magnitude);
    }

    [Fact]
    public void Ties_use_mid_ranks_and_shrink_the_variance()
    {
        // A = {1, 2, 2}, B = {2, 3}: pairs a > b: none; ties (2,2) twice count half: U = 1, delta = 2 * 1 / 6 - 1.
        var result = MannWhitney.Test([1, 2, 2], [2, 3]);

        Assert.Equal(1, result.U);
        Assert.Equal(-2.0 / 3, result.CliffsDelta, 10);
        // variance = 6/12 * (6 - (27 - 3) / 20) = 2.4; z = -(|1 - 3| - 0.5) / sqrt(2.4).
        Assert.Equal(-1.5 / Math.Sqrt(2.4), result.Z, 10);
        Assert.Equal(MannWhitney.Erfc(1.5 / Math.Sqrt(2.4) / Math.Sqrt(2)), result.PValue, 12);
    }

    [Fact]
    public void Identical_or_constant_samples_show_no_difference()
    {
        Assert.Equal(1, MannWhitney.Test([0.5, 0.5, 0.5], [0.5, 0.5]).PValue);
        var same = MannWhitney.Test([1, 2, 3, 4], [1, 2, 3, 4]);
        Assert.Equal(0, same.CliffsDelta);
        Assert.Equal(1, same.PValue, 10);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.0, 0.15729920705028513)]
    [InlineData(3.0, 2.209049699858544e-05)]
    [InlineData(5.0, 1.5374597944280349e-12)]
    [InlineData(-1.0, 1.8427007929497148)]
    public void Erfc_has_seven_good_digits(double x, double expected)
    {
        Assert.True(Math.Abs(MannWhitney.Erfc(x) / expected - 1) < 2e-7, $"erfc({x}) = {MannWhitney.Erfc(x)}, expected {expected}");
    }

    [Fact]
    public void Empty_or_NaN_samples_are_bad_input()
    {
        Assert.Throws<BadInputException>(() => MannWhitney.Test([], [1.0]));
        Assert.Throws<BadInputException>(() => MannWhitney.Test([double.NaN], [1.0]));
    }
}
