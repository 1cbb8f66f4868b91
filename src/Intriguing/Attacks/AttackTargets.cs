using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>Target classes for targeted attacks (the paper attacks towards a chosen wrong label).</summary>
public static class AttackTargets
{
    /// <summary>
    /// A uniformly random wrong class (of <paramref name="classCount"/>) per label, int64 [N], from a <see cref="Random"/> seeded with
    /// <paramref name="seed"/>: the same labels and seed always give the same targets. Image i of a run takes the i-th
    /// draw; <paramref name="firstIndex"/> says which image of the run the first label belongs to (a shard's share), so
    /// the labels from there on get the targets the whole run gives them.
    /// </summary>
    public static Tensor RandomWrong(Tensor labels, int seed, int classCount = 10, long firstIndex = 0)
    {
        if (classCount < 2)
        {
            throw new BadInputException($"targets need at least 2 classes; got {classCount}");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(firstIndex);
        long[] trueClasses = labels.to_type(ScalarType.Int64).cpu().data<long>().ToArray();
        var random = new Random(seed);
        for (long skipped = 0; skipped < firstIndex; skipped++)
        {
            random.Next(classCount - 1); // the earlier images' draws
        }
        long[] targets = new long[trueClasses.Length];
        for (int i = 0; i < trueClasses.Length; i++)
        {
            // Draw from the nine other classes: skip over the true one.
            long drawn = random.Next(classCount - 1);
            targets[i] = drawn >= trueClasses[i] ? drawn + 1 : drawn;
        }
        return tensor(targets).to(labels.device);
    }
}
