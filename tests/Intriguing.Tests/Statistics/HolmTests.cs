using Intriguing.Statistics;

namespace Intriguing.Tests.Statistics;

/// <summary>Holm's step-down correction against an example worked by hand.</summary>
public sealed class HolmTests
{
    [Fact]
    public void Adjusted_p_values_match_the_hand_worked_example_and_keep_the_input_order()
    {
        // m = 4. Sorted: 0.005, 0.01, 0.03, 0.04 -> 4 x 0.005 = 0.02; 3 x 0.01 = 0.03; 2 x 0.03 = 0.06; 1 x 0.04 = 0.04, raised to 0.06
        // by the running maximum. The step-down stops at 0.03 > 0.05 / 2, so 0.04 is not rejected although 0.04 < 0.05 / 1.
        double[] pValues = [0.01, 0.04, 0.03, 0.005];

        double[] adjusted = Holm.Adjust(pValues);

        Assert.Equal([0.03, 0.06, 0.06, 0.02], adjusted.Select(value => Math.Round(value, 12)));
        Assert.Equal([true, false, false, true], Holm.Reject(pValues, 0.05));
    }

    [Fact]
    public void Large_products_are_capped_at_one_and_a_single_test_is_left_alone()
    {
        Assert.Equal([1.0, 1.0], Holm.Adjust([0.6, 0.9]));
        Assert.Equal([0.04], Holm.Adjust([0.04]));
        Assert.Empty(Holm.Adjust([]));
    }

    [Fact]
    public void Holm_rejects_at_least_what_Bonferroni_rejects()
    {
        double[] pValues = [0.001, 0.012, 0.013, 0.2, 0.0124];
        bool[] holm = Holm.Reject(pValues, 0.05);
        bool[] bonferroni = [.. pValues.Select(p => p * pValues.Length < 0.05)];
        Assert.All(Enumerable.Range(0, pValues.Length), index => Assert.True(holm[index] || !bonferroni[index]));
        Assert.Equal([true, true, true, false, true], holm); // 0.001x5, 0.012x4, 0.0124x3, 0.013x2 all below 0.05
        Assert.Equal([true, false, false, false, false], bonferroni);
    }

    [Fact]
    public void A_p_value_outside_zero_to_one_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Holm.Adjust([0.1, double.NaN]));
        Assert.Throws<ArgumentException>(() => Holm.Adjust([1.5]));
    }
}
