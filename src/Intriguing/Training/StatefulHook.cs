namespace Intriguing.Training;

/// <summary>
/// A training hook with state that outlives a batch (the pools of <see cref="Adversarial.PoolTraining"/>): the resumable loop
/// writes it into each epoch's checkpoint and reads it back on resume, so a resumed run equals an uninterrupted one.
/// </summary>
public interface IStatefulHook
{
    /// <summary>Writes the state into a checkpoint.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Reads back what <see cref="SaveState"/> wrote, into a hook made with the same settings.</summary>
    void LoadState(BinaryReader reader);
}

/// <summary>
/// Random streams that depend only on (seed, position, stream), never on what ran before: every batch, epoch and
/// pool draws from its own, so a run resumed at an epoch draws exactly what the uninterrupted run drew.
/// </summary>
public static class SeededStreams
{
    /// <summary>A generator for stream <paramref name="stream"/> at <paramref name="position"/> of <paramref name="seed"/>.</summary>
    public static Random For(int seed, long position, int stream = 0) => new(Mix(seed, position, stream));

    /// <summary>A 32-bit seed from the three numbers (SplitMix64's finaliser).</summary>
    public static int Mix(int seed, long position, int stream = 0)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)position * 0xBF58476D1CE4E5B9UL + (ulong)stream * 0x94D049BB133111EBUL + 0x2545F4914F6CDD1DUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
