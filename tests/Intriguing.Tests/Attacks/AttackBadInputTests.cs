using Intriguing.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>What every attack refuses, with a message that names the field.</summary>
public class AttackBadInputTests
{
    public AttackBadInputTests() => TorchThreads.UseOne();

    private static readonly LinearClassifier Model = LinearClassifier.Random(seed: 1);

    private static BadInputException Refused(Func<Tensor> images, Func<Tensor> labels, Func<Tensor?>? targets = null)
    {
        using var scope = NewDisposeScope();
        return Assert.Throws<BadInputException>(() => new Fgsm().Run(Model, images(), labels(), targets?.Invoke()));
    }

    [Fact]
    public void Nan_pixels_are_refused()
    {
        var error = Refused(() => full(2, 784, float.NaN), () => zeros(2, dtype: ScalarType.Int64));
        Assert.Contains("inputs", error.Message);
        Assert.Contains("NaN", error.Message);
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1.5f)]
    public void Pixels_outside_the_unit_interval_are_refused(float pixel)
    {
        var error = Refused(() => full(2, 784, pixel), () => zeros(2, dtype: ScalarType.Int64));
        Assert.Contains("[0, 1]", error.Message);
    }

    [Fact]
    public void Images_of_the_wrong_shape_are_refused()
    {
        var error = Refused(() => zeros(2, 28, 28), () => zeros(2, dtype: ScalarType.Int64));
        Assert.Contains("[N, 784]", error.Message);
    }

    [Fact]
    public void Images_that_are_not_float32_are_refused()
    {
        var error = Refused(() => zeros(2, 784, dtype: ScalarType.Float64), () => zeros(2, dtype: ScalarType.Int64));
        Assert.Contains("float32", error.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    public void Labels_out_of_range_are_refused(long label)
    {
        var error = Refused(() => zeros(2, 784), () => full(2, label, dtype: ScalarType.Int64));
        Assert.Contains("labels", error.Message);
        Assert.Contains("0..9", error.Message);
    }

    [Fact]
    public void Labels_of_the_wrong_count_are_refused()
    {
        var error = Refused(() => zeros(2, 784), () => zeros(3, dtype: ScalarType.Int64));
        Assert.Contains("labels", error.Message);
    }

    [Fact]
    public void A_target_equal_to_its_label_is_refused()
    {
        var error = Refused(() => zeros(2, 784), () => tensor(new long[] { 3, 4 }), () => tensor(new long[] { 5, 4 }));
        Assert.Contains("targets", error.Message);
        Assert.Contains("input 1", error.Message);
    }

    [Fact]
    public void Targets_out_of_range_are_refused()
    {
        var error = Refused(() => zeros(2, 784), () => tensor(new long[] { 3, 4 }), () => tensor(new long[] { 12, 5 }));
        Assert.Contains("targets", error.Message);
    }

    [Fact]
    public void Nonsense_attack_settings_are_refused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<BadInputException>(() => new Fgsm { Epsilon = -1 }.Run(Model, zeros(1, 784), zeros(1, dtype: ScalarType.Int64)));
        Assert.Throws<BadInputException>(() => new PgdLinf { Steps = 0 }.Run(Model, zeros(1, 784), zeros(1, dtype: ScalarType.Int64)));
        Assert.Throws<BadInputException>(() => new GaussianNoise { StandardDeviation = -0.1 }.Run(Model, zeros(1, 784), zeros(1, dtype: ScalarType.Int64)));
        Assert.Throws<BadInputException>(() => new Fgsm().Run(Model, zeros(1, 784), zeros(1, dtype: ScalarType.Int64), batchSize: 0));
    }
}
