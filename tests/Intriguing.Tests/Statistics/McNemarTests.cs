using Intriguing.Statistics;

namespace Intriguing.Tests.Statistics;

/// <summary>McNemar's exact test and the binomial test under it, against values worked by hand and published ones.</summary>
public sealed class McNemarTests
{
    [Theory]
    [InlineData(0, 6, 0.03125)] // 2 x (1/2)^6
    [InlineData(6, 0, 0.03125)]
    [InlineData(1, 9, 0.021484375)] // 2 x (1 + 10) / 1024
    [InlineData(9, 1, 0.021484375)]
    [InlineData(5, 5, 1.0)]
    [InlineData(0, 0, 1.0)]
    [InlineData(0, 1, 1.0)]
    [InlineData(2, 3, 1.0)] // the smaller side holds more than half the mass: capped at 1
    [InlineData(3, 12, 0.03515625)] // 2 x (1 + 15 + 105 + 455) / 32768
    public void The_exact_p_value_matches_the_binomial_tail(int firstOnly, int secondOnly, double expected)
    {
        Assert.Equal(expected, McNemar.ExactPValue(firstOnly, secondOnly), 12);
    }

    [Fact]
    public void Thousands_of_pairs_neither_overflow_nor_lose_the_tail()
    {
        // 2 x P(X <= 400) for X ~ Bin(1000, 1/2), summed exactly in integers: 2.7284641560660184e-10.
        double p = McNemar.ExactPValue(400, 600);
        Assert.InRange(p / 2.7284641560660184e-10, 1 - 1e-9, 1 + 1e-9);
        // Far in the tail: (1/2)^5000 x 2 underflows a double but stays a valid p-value.
        Assert.InRange(McNemar.ExactPValue(0, 5000), 0, 1e-300);
        Assert.Equal(1.0, McNemar.ExactPValue(2500, 2500));
    }

    [Fact]
    public void Discordant_pairs_are_counted_item_by_item()
    {
        bool[] adversarial = [true, true, true, false, false, true];
        bool[] noise = [true, false, false, true, false, false];

        var counts = McNemar.Count(adversarial, noise);

        Assert.Equal(new PairedCounts(6, 3, 1), counts);
        Assert.Equal([3, 1], counts.Discordant);
        Assert.Equal(McNemar.ExactPValue(3, 1), counts.PValue);
    }

    [Fact]
    public void Bad_counts_and_unpaired_lists_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => McNemar.ExactPValue(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => BinomialTest.TwoSidedHalf(4, 3));
        Assert.Throws<ArgumentException>(() => McNemar.Count([true], [true, false]));
    }
}
