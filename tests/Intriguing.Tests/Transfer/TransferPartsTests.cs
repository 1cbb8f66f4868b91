using Intriguing.Attacks;
using Intriguing.Tests.Attacks;
using Intriguing.Transfer;
using static TorchSharp.torch;

namespace Intriguing.Tests.Transfer;

/// <summary>
/// A transfer run's examples made shard by shard (<see cref="TransferParts.Runner"/> over whole batches, keyed on the
/// run's image indices) and put together (<see cref="SourcePart.Combine"/>) are the unsplit run's to the last bit:
/// points, indices, attempts and mean distortions; parts that do not belong together are refused.
/// </summary>
public sealed class TransferPartsTests
{
    public TransferPartsTests() => TorchThreads.UseOne();

    private static readonly BoxConstrainedLbfgs Lbfgs = new() { SearchSteps = 3, MaxIterations = 10 };

    /// <summary>The source's examples over [start, start + length) of the images, as a shard makes them.</summary>
    private static SourcePart Shard(TransferModel source, Attack attack, bool targeted, Tensor images, Tensor labels, int start, int length, int batch) =>
        SourcePart.Of(source.Name, attack,
            TransferParts.Runner(images.narrow(0, start, length), labels.narrow(0, start, length), start, seed: 6, batch)(source, attack, targeted), start);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Examples_made_in_shards_of_whole_batches_and_combined_are_the_unsplit_runs(bool targeted)
    {
        using var scope = NewDisposeScope();
        var source = new TransferModel("mlp", SyntheticData.Mlp);
        var (images, labels) = SyntheticData.Images(24, seed: 9);
        // L-BFGS (targets drawn per image) and PGD-L2 (a random start per image): both keyed on the run's image index.
        Attack attack = targeted ? Lbfgs : new PgdL2 { Epsilon = 4, StepSize = 0.5, Steps = 10 };

        var whole = SourceExamples.From(source.Name, attack, TransferParts.Runner(images, labels, 0, seed: 6, batch: 8)(source, attack, targeted));
        var split = SourcePart.Combine([Shard(source, attack, targeted, images, labels, 0, 8, 8), Shard(source, attack, targeted, images, labels, 8, 16, 8)]);

        Assert.InRange(whole.Count, 4, 24);
        Assert.Equal(whole.Indices, split.Indices);
        Assert.Equal(whole.Attempted, split.Attempted);
        Assert.Equal(whole.MeanDistortion, split.MeanDistortion);
        Assert.Equal(whole.MeanL2, split.MeanL2);
        Assert.Equal(whole.Attack, split.Attack);
        Assert.Equal(whole.Targeted, split.Targeted);
        Assert.True(whole.Adversarials.equal(split.Adversarials).all().item<bool>(), "the points differ");
    }

    [Fact]
    public void A_shard_gets_the_targets_the_whole_run_draws_for_its_images()
    {
        using var scope = NewDisposeScope();
        var labels = tensor(Enumerable.Range(0, 50).Select(index => (long)(index * 7 % 10)).ToArray());
        var whole = AttackTargets.RandomWrong(labels, seed: 3);
        var tail = AttackTargets.RandomWrong(labels.narrow(0, 20, 30), seed: 3, firstIndex: 20);
        Assert.True(whole.narrow(0, 20, 30).equal(tail).all().item<bool>());
    }

    [Fact]
    public void Parts_of_other_sources_or_out_of_order_are_refused()
    {
        using var scope = NewDisposeScope();
        var source = new TransferModel("mlp", SyntheticData.Mlp);
        var (images, labels) = SyntheticData.Images(16, seed: 9);
        var first = Shard(source, Lbfgs, true, images, labels, 0, 8, 8);
        var second = Shard(source, Lbfgs, true, images, labels, 8, 8, 8);
        Assume(first.Indices.Length > 0 && second.Indices.Length > 0);

        Assert.Contains("cannot be put with", Assert.Throws<BadInputException>(() => SourcePart.Combine([first, second with { Source = "other" }])).Message);
        Assert.Contains("not in the order", Assert.Throws<BadInputException>(() => SourcePart.Combine([second, first])).Message);
        Assert.Contains("one of each per example", Assert.Throws<BadInputException>(() => SourcePart.Combine([first with { L2s = [] }])).Message);
        Assert.Throws<BadInputException>(() => SourcePart.Combine([first with { Adversarials = [1, 2, 3] }]));
    }

    private static void Assume(bool condition) => Assert.True(condition, "the synthetic source found no example in a shard");
}
