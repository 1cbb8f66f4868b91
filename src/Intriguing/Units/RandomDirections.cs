using static TorchSharp.torch;

namespace Intriguing.Units;

/// <summary>
/// The random directions v of Section 3: unit vectors drawn uniformly on the sphere of a layer's activation space
/// (standard normal coordinates, normalised). Drawn with <see cref="System.Random"/> from the seed alone, in double
/// precision, so the same seed gives the same directions on every machine and for every layer size asked.
/// </summary>
public static class RandomDirections
{
    /// <summary>float32 [<paramref name="count"/>, <paramref name="dimension"/>], every row of norm 1.</summary>
    /// <exception cref="BadInputException">A count or dimension below 1.</exception>
    public static Tensor Draw(int count, int dimension, int seed)
    {
        if (count < 1 || dimension < 1)
        {
            throw new BadInputException($"random directions: need at least one direction of at least one dimension; got {count} x {dimension}");
        }
        var random = new Random(seed);
        var values = new float[(long)count * dimension];
        var row = new double[dimension];
        for (int direction = 0; direction < count; direction++)
        {
            double squaredNorm = 0;
            for (int coordinate = 0; coordinate < dimension; coordinate++)
            {
                row[coordinate] = StandardNormal(random);
                squaredNorm += row[coordinate] * row[coordinate];
            }
            double norm = Math.Sqrt(squaredNorm);
            for (int coordinate = 0; coordinate < dimension; coordinate++)
            {
                values[(long)direction * dimension + coordinate] = (float)(row[coordinate] / norm);
            }
        }
        return tensor(values, [count, dimension]);
    }

    /// <summary>Box-Muller: one standard normal draw from two uniform ones.</summary>
    private static double StandardNormal(Random random)
    {
        double uniform1 = 1.0 - random.NextDouble(); // (0, 1], so the logarithm is finite
        double uniform2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(uniform1)) * Math.Cos(2.0 * Math.PI * uniform2);
    }
}
