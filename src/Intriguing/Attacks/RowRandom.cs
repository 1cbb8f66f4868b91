using System.Runtime.CompilerServices;

namespace Intriguing.Attacks;

/// <summary>
/// Random numbers that belong to one input row: the stream for (seed, row index, purpose) is fixed, whatever batch
/// the row is in and whatever else runs. Random attacks (PGD's start, Gaussian noise) draw from it, so a result
/// depends only on the attack's settings and the row's position in the run, never on the batch size.
/// A counter-based generator (SplitMix64 over a per-stream key): value j of a stream is a pure function of (key, j).
/// </summary>
internal static class RowRandom
{
    /// <summary>Uniform values in [-1, 1) into <paramref name="destination"/>.</summary>
    public static void FillSymmetricUniform(Span<float> destination, int seed, long row, int stream)
    {
        ulong key = Key(seed, row, stream);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)(2.0 * Unit(Mix(key + (ulong)i)) - 1.0);
        }
    }

    /// <summary>Standard normal values into <paramref name="destination"/> (Box-Muller on pairs of uniforms).</summary>
    public static void FillNormal(Span<float> destination, int seed, long row, int stream)
    {
        ulong key = Key(seed, row, stream);
        for (int i = 0; i < destination.Length; i += 2)
        {
            // 1 - u keeps the logarithm's argument in (0, 1].
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - Unit(Mix(key + (ulong)i))));
            double angle = 2.0 * Math.PI * Unit(Mix(key + (ulong)i + 1));
            destination[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < destination.Length)
            {
                destination[i + 1] = (float)(radius * Math.Sin(angle));
            }
        }
    }

    /// <summary>A stream's key: the three numbers mixed, each step through the finaliser, so nearby keys share nothing.</summary>
    private static ulong Key(int seed, long row, int stream) =>
        Mix(Mix(Mix((ulong)(uint)seed) ^ (ulong)row) ^ (ulong)(uint)stream) * 0x9E3779B97F4A7C15UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The top 53 bits as a double in [0, 1).</summary>
    private static double Unit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));
}
