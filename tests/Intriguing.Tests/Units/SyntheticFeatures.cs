using static TorchSharp.torch;

namespace Intriguing.Tests.Units;

/// <summary>Feature maps whose answer is known by construction, for the unit analysis.</summary>
internal static class SyntheticFeatures
{
    /// <summary>Labels 0..9 in turn: pool / 10 images of each class.</summary>
    public static Tensor Labels(int pool) => tensor(Enumerable.Range(0, pool).Select(image => (long)(image % 10)).ToArray());

    /// <summary>Seeded uniform pixels in [0,1], [pool, 784].</summary>
    public static Tensor Pixels(int pool, int seed) => Uniform(pool, 784, seed, 1f);

    /// <summary>
    /// Ten units, unit i the indicator of class i (1 for images of class i, 0 otherwise) plus noise uniform in [0, 0.9):
    /// every image of class i scores above every other image on unit i, so each unit's top K is pure by construction,
    /// while a random direction mixes classes once the noise outweighs the gap between its two largest coordinates.
    /// </summary>
    public static Tensor ClassIndicators(int pool, int seed)
    {
        using var scope = NewDisposeScope();
        var noise = Uniform(pool, 10, seed, 0.9f);
        var indicators = nn.functional.one_hot(Labels(pool), 10).to(ScalarType.Float32);
        return (indicators + noise).MoveToOuterDisposeScope();
    }

    /// <summary>Standard normal features that know nothing of the labels.</summary>
    public static Tensor Noise(int pool, int units, int seed)
    {
        var random = new Random(seed);
        var values = new float[pool * units];
        for (int index = 0; index < values.Length; index++)
        {
            values[index] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return tensor(values, [pool, units]);
    }

    private static Tensor Uniform(int rows, int columns, int seed, float scale)
    {
        var random = new Random(seed);
        var values = new float[rows * columns];
        for (int index = 0; index < values.Length; index++)
        {
            values[index] = (float)random.NextDouble() * scale;
        }
        return tensor(values, [rows, columns]);
    }
}
