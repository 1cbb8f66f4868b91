using Intriguing.Units;
using static TorchSharp.torch;

namespace Intriguing.Tests.Units;

/// <summary>Random directions are unit-norm and seeded; the top-K cut breaks ties by image index.</summary>
public sealed class DirectionsAndTopImagesTests
{
    [Fact]
    public void Random_directions_are_unit_norm_and_reproducible_by_seed()
    {
        using var scope = NewDisposeScope();
        var directions = RandomDirections.Draw(100, 37, seed: 0);

        Assert.Equal(new long[] { 100, 37 }, directions.shape);
        var norms = directions.norm(1).data<float>().ToArray();
        Assert.All(norms, norm => Assert.InRange(norm, 1 - 1e-5, 1 + 1e-5));
        Assert.Equal(directions.data<float>().ToArray(), RandomDirections.Draw(100, 37, seed: 0).data<float>().ToArray());
        Assert.NotEqual(directions.data<float>().ToArray(), RandomDirections.Draw(100, 37, seed: 1).data<float>().ToArray());
        // Spread over the sphere: the mean direction of many is near the origin.
        Assert.True(directions.mean([0]).norm().item<float>() < 0.2f);
    }

    [Fact]
    public void Ties_are_broken_by_the_lower_image_index()
    {
        using var scope = NewDisposeScope();
        // One column per case: three images tie for the best score; every image ties; ascending scores.
        var scores = tensor(new float[,]
        {
            { 1, 0, 0 },
            { 3, 0, 1 },
            { 3, 0, 2 },
            { 2, 0, 3 },
            { 3, 0, 4 },
        });

        var selections = TopImages.Select(scores, 2);

        Assert.Equal([1, 2], selections[0].Images);
        Assert.Equal([3f, 3f], selections[0].Scores);
        Assert.True(selections[0].TiedAtCut);
        Assert.False(selections[0].Inactive);
        Assert.Equal([0, 1], selections[1].Images);
        Assert.True(selections[1].Inactive);
        Assert.Equal([4, 3], selections[2].Images);
        Assert.False(selections[2].TiedAtCut);
    }

    [Fact]
    public void The_selection_matches_a_full_stable_sort()
    {
        using var scope = NewDisposeScope();
        var random = new Random(11);
        // Coarse values so that ties are common.
        var values = new float[500 * 7];
        for (int index = 0; index < values.Length; index++)
        {
            values[index] = random.Next(20);
        }

        var selections = TopImages.Select(tensor(values, [500, 7]), 9);

        for (int column = 0; column < 7; column++)
        {
            int[] expected = [.. Enumerable.Range(0, 500).OrderByDescending(row => values[row * 7 + column]).ThenBy(row => row).Take(9)];
            Assert.Equal(expected, selections[column].Images);
        }
    }

    [Fact]
    public void K_larger_than_the_pool_or_NaN_scores_are_bad_input()
    {
        using var scope = NewDisposeScope();
        Assert.Contains("1..3", Assert.Throws<BadInputException>(() => TopImages.Select(zeros(3, 2), 4)).Message);
        Assert.Contains("NaN", Assert.Throws<BadInputException>(() => TopImages.Select(full(3, 2, float.NaN), 2)).Message);
    }

    [Fact]
    public void Purity_and_pairwise_cosine_measure_what_they_say()
    {
        using var scope = NewDisposeScope();
        int[] labels = [3, 3, 3, 1, 1, 0];
        Assert.Equal((0.5, 3), Coherence.Purity([0, 1, 2, 3, 4, 5], labels));
        Assert.Equal((0.5, 1), Coherence.Purity([3, 4, 0, 1], labels)); // a tie goes to the lower label

        var features = Coherence.Normalize(tensor(new float[,] { { 1, 0 }, { 2, 0 }, { 0, 3 }, { 0, 0 } }));
        double[] pairs = Coherence.MeanPairwiseCosine(features, [[0, 1], [0, 2], [0, 3]]);
        double[] triple = Coherence.MeanPairwiseCosine(features, [[0, 1, 2]]);

        Assert.Equal(1.0, pairs[0], 6);
        Assert.Equal(0.0, pairs[1], 6);
        Assert.Equal(0.0, pairs[2], 6); // a zero vector is similar to nothing
        Assert.Equal(1.0 / 3, triple[0], 6);
        Assert.Throws<BadInputException>(() => Coherence.MeanPairwiseCosine(features, [[0, 1], [0, 1, 2]]));
    }

    [Fact]
    public void Chance_sets_hold_distinct_images_and_follow_the_seed()
    {
        var sets = Coherence.RandomSets(pool: 20, k: 8, samples: 50, seed: 3);
        Assert.All(sets, set => Assert.Equal(8, set.Distinct().Count()));
        Assert.All(sets, set => Assert.All(set, image => Assert.InRange(image, 0, 19)));
        Assert.Equal(sets, Coherence.RandomSets(20, 8, 50, 3));
    }
}
