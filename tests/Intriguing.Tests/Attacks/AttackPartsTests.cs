using Intriguing.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

public class AttackPartsTests
{
    [Fact]
    public void Parts_attacked_with_the_images_own_keys_merge_into_the_unsplit_run()
    {
        TorchThreads.UseOne();
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(12, seed: 4);
        // A random start drawn per image: the keys decide whether a shard draws what the unsplit run drew.
        var attack = new PgdLinf { Epsilon = 0.1, Steps = 5, Seed = 9 };
        var whole = attack.Run(model, images, labels, batchSize: 4);
        var wholeSurvival = EightBitSurvival.Measure(model, whole);

        var parts = new List<AttackPart>();
        foreach (var (start, length) in new[] { (0, 4), (4, 8) })
        {
            var mine = images.narrow(0, start, length);
            var result = attack.Run(model, mine, labels.narrow(0, start, length), batchSize: 4,
                keys: [.. Enumerable.Range(start, length).Select(index => (long)index)]);
            parts.Add(AttackParts.Of(result, EightBitSurvival.Measure(model, result), mine, start));
        }
        var merged = AttackParts.Merge(parts);

        Assert.Equal(whole.Examples, merged.Result.Examples);
        Assert.Equal(whole.Summary with { Seconds = 0, ImagesPerSecond = 0 }, merged.Result.Summary with { Seconds = 0, ImagesPerSecond = 0 });
        Assert.Equal(whole.Adversarials.data<float>().ToArray(), merged.Result.Adversarials.data<float>().ToArray());
        Assert.Equal(wholeSurvival, merged.Survival);
        Assert.Equal(images.narrow(0, 5, 1).flatten().data<float>().ToArray(), merged.Originals[5]);
        Assert.Equal(parts.Sum(part => part.Seconds), merged.Result.Summary.Seconds);
    }

    [Fact]
    public void Survival_measured_block_by_block_counts_the_same_examples_and_a_shard_measures_its_blocks_as_the_run_does()
    {
        TorchThreads.UseOne();
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(12, seed: 4);
        var attack = new Fgsm { Epsilon = 0.2 };
        var whole = attack.Run(model, images, labels, batchSize: 4);
        var byBlock = EightBitSurvival.Measure(model, whole, block: 4);

        Assert.True(byBlock.Checked > 0);
        Assert.Equal(EightBitSurvival.Measure(model, whole), byBlock);
        var tail = attack.Run(model, images.narrow(0, 4, 8), labels.narrow(0, 4, 8), batchSize: 4);
        var head = attack.Run(model, images.narrow(0, 0, 4), labels.narrow(0, 0, 4), batchSize: 4);
        var headSurvival = EightBitSurvival.Measure(model, head, block: 4);
        var tailSurvival = EightBitSurvival.Measure(model, tail, block: 4);
        Assert.Equal(byBlock, new EightBitSurvival(headSurvival.Checked + tailSurvival.Checked, headSurvival.Survived + tailSurvival.Survived));
        Assert.Throws<BadInputException>(() => EightBitSurvival.Measure(model, whole, block: 0));
    }

    [Fact]
    public void Parts_out_of_order_or_of_another_attack_are_refused()
    {
        TorchThreads.UseOne();
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(6, seed: 4);
        AttackPart Part(Attack attack, int start) =>
            AttackParts.Of(attack.Run(model, images.narrow(0, start, 3), labels.narrow(0, start, 3)), new EightBitSurvival(0, 0), images.narrow(0, start, 3), start);
        var fgsm = new Fgsm { Epsilon = 0.1 };

        var backwards = Assert.Throws<BadInputException>(() => AttackParts.Merge([Part(fgsm, 3), Part(fgsm, 0)]));
        Assert.Contains("out of order", backwards.Message);
        var mixed = Assert.Throws<BadInputException>(() => AttackParts.Merge([Part(fgsm, 0), Part(new PgdLinf { Epsilon = 0.1, Steps = 2 }, 3)]));
        Assert.Contains("cannot be merged", mixed.Message);
        var whole = Part(fgsm, 0);
        var truncated = whole with { Adversarials = whole.Adversarials[..(whole.Adversarials.Length / 2)] };
        Assert.Contains("adversarial rows", Assert.Throws<BadInputException>(() => AttackParts.Merge([truncated])).Message);
    }
}
