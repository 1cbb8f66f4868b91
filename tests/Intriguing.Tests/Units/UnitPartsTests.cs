using System.Text.Json;
using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Sharding;
using Intriguing.Units;
using static TorchSharp.torch;

namespace Intriguing.Tests.Units;

/// <summary>
/// A unit analysis whose pool is computed in shards of whole batches and put back together from the parts
/// (<see cref="UnitParts"/>) is the unsplit analysis to the last bit: top images and scores, purities, chance levels,
/// tests; a part that does not fit its manifest is refused.
/// </summary>
public sealed class UnitPartsTests
{
    public UnitPartsTests() => Attacks.TorchThreads.UseOne();

    private static readonly UnitAnalysisOptions Options = new(Top: 5, RandomDirections: 12, Seed: 2, ChanceSamples: 200);

    private static Classifier SeededMlp()
    {
        random.manual_seed(11);
        var model = ModelZoo.Get("fc100-100-10").Create();
        model.eval();
        return model;
    }

    /// <summary>The part file's content for the pool of images [start, start + length), read back as merge reads it.</summary>
    private static ShardPart Part(Classifier model, LabeledImages images, Shard shard, int batch)
    {
        var (start, length) = shard.Range(images.Count, batch);
        using var mine = images.Slice(start, length);
        using var pool = UnitPool.Of(model, "mlp", mine, [0, 1], batch);
        var manifest = new ShardManifest("units", new Dictionary<string, string>(), shard.ToString(), images.Count, start, length, "synthetic",
            new Dictionary<string, string>(), "test", batch);
        return new ShardPart($"part-{shard.Index}", manifest, JsonSerializer.SerializeToElement(UnitParts.Of(pool), ShardParts.Json));
    }

    private static string WithoutTimes(ModelUnits units) => JsonSerializer.Serialize(
        units with { ActivationSeconds = 0, Seconds = 0, Layers = [.. units.Layers.Select(layer => layer with { Seconds = 0 })] }, ShardParts.Json);

    [Fact]
    public void A_pool_computed_in_shards_and_merged_gives_the_unsplit_analysis()
    {
        using var scope = NewDisposeScope();
        var model = SeededMlp();
        var (pixels, labels) = Attacks.SyntheticData.Images(90, seed: 3);
        using var images = new LabeledImages(pixels, labels);

        using var whole = UnitPool.Of(model, "mlp", images, [0, 1], batchSize: 20);
        var expected = WithoutTimes(UnitAnalysis.Analyze(whole, Options));
        foreach (int shards in new[] { 2, 3 })
        {
            var parts = Enumerable.Range(0, shards).Select(index => Part(model, images, new Shard(index, shards), batch: 20)).ToList();
            using var merged = UnitParts.Merge(parts);
            Assert.True(merged.Pixels.equal(whole.Pixels).all().item<bool>());
            Assert.Equal(expected, WithoutTimes(UnitAnalysis.Analyze(merged, Options)));
        }
    }

    [Fact]
    public void A_part_whose_rows_do_not_fit_its_manifest_is_refused()
    {
        using var scope = NewDisposeScope();
        var model = SeededMlp();
        var (pixels, labels) = Attacks.SyntheticData.Images(40, seed: 3);
        using var images = new LabeledImages(pixels, labels);
        var part = Part(model, images, new Shard(0, 2), batch: 20);
        var shorter = part with { Manifest = part.Manifest with { Length = 10 } };

        Assert.Contains("should hold 10 images", Assert.Throws<BadInputException>(() => UnitParts.Merge([shorter])).Message);
        var notUnits = part with { Payload = JsonSerializer.SerializeToElement(new { model = "mlp" }) };
        Assert.Contains("does not hold a complete units part", Assert.Throws<BadInputException>(() => UnitParts.Merge([notUnits])).Message);
    }
}
