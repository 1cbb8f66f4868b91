using static TorchSharp.torch;

namespace Intriguing.Units;

/// <summary>
/// How alike a set of K images is, the measures that turn Figures 1-4 into numbers: label purity (the share of the
/// most common label) and, independent of labels, the mean cosine similarity over all K(K-1)/2 pairs of the images'
/// feature vectors (pixels, or the activations of a layer).
/// </summary>
public static class Coherence
{
    private const int SetsPerChunk = 256;

    /// <summary>The share of the most common label among <paramref name="images"/>, and that label (the lower one on a tie).</summary>
    public static (double Purity, int Label) Purity(IReadOnlyList<int> images, IReadOnlyList<int> labels)
    {
        if (images.Count == 0)
        {
            throw new BadInputException("label purity of an empty set of images is undefined");
        }
        var counts = new Dictionary<int, int>();
        foreach (int image in images)
        {
            counts[labels[image]] = counts.GetValueOrDefault(labels[image]) + 1;
        }
        var majority = counts.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key).First();
        return ((double)majority.Value / images.Count, majority.Key);
    }

    /// <summary>
    /// Rows of <paramref name="features"/> ([pool, dim]) scaled to unit length, for <see cref="MeanPairwiseCosine"/>;
    /// a zero row stays zero (its cosine with anything counts as 0).
    /// </summary>
    public static Tensor Normalize(Tensor features)
    {
        using var scope = NewDisposeScope();
        var flat = features.detach().to(ScalarType.Float32).flatten(1);
        var norms = flat.norm(1, keepdim: true).clamp_min(1e-12);
        return (flat / norms).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For every set of image indices, the mean cosine similarity over its distinct pairs, computed from
    /// <paramref name="normalizedFeatures"/> (rows of unit length, see <see cref="Normalize"/>). Sets must hold at least two images.
    /// </summary>
    public static double[] MeanPairwiseCosine(Tensor normalizedFeatures, IReadOnlyList<int[]> sets)
    {
        if (sets.Count == 0)
        {
            return [];
        }
        int size = sets[0].Length;
        if (size < 2 || sets.Any(set => set.Length != size))
        {
            throw new BadInputException($"pairwise cosine needs sets of one size, at least 2 images each; got sizes {string.Join(", ", sets.Select(set => set.Length).Distinct())}");
        }
        var means = new double[sets.Count];
        for (int first = 0; first < sets.Count; first += SetsPerChunk)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(SetsPerChunk, sets.Count - first);
            var indices = new long[count * size];
            for (int set = 0; set < count; set++)
            {
                for (int member = 0; member < size; member++)
                {
                    indices[set * size + member] = sets[first + set][member];
                }
            }
            var gathered = normalizedFeatures.index_select(0, tensor(indices)).reshape(count, size, -1);
            var gram = gathered.bmm(gathered.transpose(1, 2));
            // Sum of all entries minus the diagonal, over the K(K-1) ordered pairs.
            var offDiagonal = gram.sum([1, 2]) - gram.diagonal(0, 1, 2).sum(1);
            var pairMeans = (offDiagonal / (size * (size - 1))).to(ScalarType.Float64).data<double>().ToArray();
            Array.Copy(pairMeans, 0, means, first, count);
        }
        return means;
    }

    /// <summary>
    /// <paramref name="samples"/> sets of <paramref name="k"/> distinct images drawn uniformly from a pool of
    /// <paramref name="pool"/> with <see cref="System.Random"/>(<paramref name="seed"/>): the chance baseline.
    /// </summary>
    public static int[][] RandomSets(int pool, int k, int samples, int seed)
    {
        if (k < 1 || k > pool)
        {
            throw new BadInputException($"cannot draw {k} distinct images from a pool of {pool}");
        }
        var random = new Random(seed);
        var sets = new int[samples][];
        for (int sample = 0; sample < samples; sample++)
        {
            var chosen = new HashSet<int>();
            var set = new int[k];
            for (int member = 0; member < k; member++)
            {
                int image;
                do
                {
                    image = random.Next(pool);
                }
                while (!chosen.Add(image));
                set[member] = image;
            }
            sets[sample] = set;
        }
        return sets;
    }
}
