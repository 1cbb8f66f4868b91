using Intriguing.Statistics;

namespace Intriguing.Tests.Statistics;

/// <summary>The Wilson score interval against published values.</summary>
public sealed class WilsonIntervalTests
{
    [Theory]
    [InlineData(0, 10, 0.0, 0.2775328)]
    [InlineData(10, 10, 0.7224672, 1.0)]
    [InlineData(5, 10, 0.2365931, 0.7634069)]
    [InlineData(81, 263, 0.2552885, 0.3662096)] // Newcombe (1998), Statistics in Medicine 17:857, example (a)
    [InlineData(1, 1000, 0.0001765, 0.0056426)]
    public void The_wilson_interval_matches_known_values(int successes, int trials, double lower, double upper)
    {
        double[] interval = WilsonInterval.Of(successes, trials);

        Assert.InRange(interval[0], lower - 1e-6, lower + 1e-6);
        Assert.InRange(interval[1], upper - 1e-6, upper + 1e-6);
    }

    [Fact]
    public void No_trials_give_the_whole_range_and_bad_counts_are_refused()
    {
        Assert.Equal([0.0, 1.0], WilsonInterval.Of(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => WilsonInterval.Of(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => WilsonInterval.Of(-1, 2));
    }
}
