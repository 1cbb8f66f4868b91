using System.Text.Json;
using Intriguing.Sharding;

namespace Intriguing.Tests.Sharding;

/// <summary>
/// Shards of whole batches (<see cref="Shard.Range(int, int)"/>): every image exactly once, every shard's range a run of
/// whole batches of the unsplit run, and a part's manifest read back and checked against its batch.
/// </summary>
public sealed class ShardTests
{
    [Theory]
    [InlineData(40, 10, 3)]
    [InlineData(1000, 500, 2)]
    [InlineData(37, 8, 4)]
    [InlineData(5, 1, 5)]
    [InlineData(24, 8, 5)]
    public void Shards_of_whole_batches_cover_every_image_once_and_start_on_a_batch(int total, int block, int count)
    {
        int next = 0;
        for (int index = 0; index < count; index++)
        {
            var (start, length) = new Shard(index, count).Range(total, block);
            Assert.Equal(next, start);
            Assert.True(start % block == 0 || length == 0, $"shard {index}/{count} starts at {start}, inside a batch of {block}");
            Assert.True(start + length == total || length % block == 0, $"shard {index}/{count} ends inside a batch");
            next = start + length;
        }
        Assert.Equal(total, next);
    }

    [Fact]
    public void A_batch_of_one_is_the_split_by_images()
    {
        for (int index = 0; index < 7; index++)
        {
            var shard = new Shard(index, 7);
            Assert.Equal(shard.Range(100), shard.Range(100, 1));
        }
    }

    [Fact]
    public void More_shards_than_batches_leave_some_empty()
    {
        var lengths = Enumerable.Range(0, 5).Select(index => new Shard(index, 5).Range(24, 8).Length).ToList();
        Assert.Equal(3, lengths.Count(length => length > 0));
        Assert.Equal(24, lengths.Sum());
    }

    [Fact]
    public void A_part_is_checked_against_its_batch_and_an_old_manifest_reads_as_batches_of_one()
    {
        string folder = Path.Combine(Path.GetTempPath(), "intriguing-shard-unit-" + Guid.NewGuid().ToString("N"));
        try
        {
            var settings = new Dictionary<string, string> { ["seed"] = "0" };
            var models = new Dictionary<string, string> { ["m"] = "00" };
            // Shard 1/2 of 24 images in batches of 8 owns 8..23; by images it would own 12..23.
            string good = ShardParts.Write(folder, new ShardManifest("units", settings, "1/2", 24, 8, 16, "mnist", models, "test", Block: 8), new { });
            Assert.Equal(8, ShardParts.Read(good).Manifest.Block);

            string wrong = ShardParts.Write(Path.Combine(folder, "wrong"), new ShardManifest("units", settings, "1/2", 24, 12, 12, "mnist", models, "test", Block: 8), new { });
            var refused = Assert.Throws<BadInputException>(() => ShardParts.Read(wrong));
            Assert.Contains("owns 8..23", refused.Message);

            string old = Path.Combine(folder, "old.part-0-of-1.json");
            File.WriteAllText(old, """{"manifest":{"command":"evaluate","settings":{},"shard":"0/1","total":3,"start":0,"length":3,"dataset":"mnist","models":{},"product":"x"},"payload":{}}""");
            Assert.Equal(1, ShardParts.Read(old).Manifest.Block);

            string zero = Path.Combine(folder, "zero.part-0-of-1.json");
            File.WriteAllText(zero, JsonSerializer.Serialize(new { manifest = new { command = "units", settings = new { }, shard = "0/1", total = 3, start = 0, length = 3, dataset = "mnist", models = new { }, product = "x", block = 0 }, payload = new { } }));
            Assert.Contains("batch of 0", Assert.Throws<BadInputException>(() => ShardParts.Read(zero)).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
