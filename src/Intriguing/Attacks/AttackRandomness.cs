using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>Random generators for attacks that draw noise: one per (seed, batch), so the same seed repeats exactly.</summary>
internal static class AttackRandomness
{
    public static Generator ForBatch(int seed, int batchStart) =>
        new((ulong)(uint)seed * 1_000_003UL + (ulong)batchStart, CPU);
}
