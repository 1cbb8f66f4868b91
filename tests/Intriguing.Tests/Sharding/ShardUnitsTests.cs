using Intriguing.Sharding;

namespace Intriguing.Tests.Sharding;

/// <summary>Parts of a run split by named units of work (reproduce's studies and arms), as merge checks them.</summary>
public sealed class ShardUnitsTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-shard-units-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string Part(int index, string[] units, Dictionary<string, string> models, string into = "parts") =>
        ShardParts.Write(Path.Combine(folder, into), new ShardManifest("reproduce", new Dictionary<string, string> { ["seed"] = "0" }, $"{index}/2", 5, 0, units.Length,
            "mnist", models, "build", Units: units), new { });

    [Fact]
    public void Parts_may_use_different_models_but_a_model_both_use_must_be_the_same_weights()
    {
        Part(0, ["arm:pgd", "study:table1"], new() { ["conv (train)"] = "aa", ["arm pgd"] = "bb" });
        Part(1, ["study:table2", "study:spectral", "study:units"], new() { ["conv (train)"] = "aa", ["fc10-1e-4 (train)"] = "cc" });
        Assert.Equal(2, ShardParts.ReadSet([Path.Combine(folder, "parts")]).Count);

        Part(0, ["arm:pgd", "study:table1"], new() { ["conv (train)"] = "aa" }, "other");
        Part(1, ["study:table2", "study:spectral", "study:units"], new() { ["conv (train)"] = "dd" }, "other");
        var error = Assert.Throws<BadInputException>(() => ShardParts.ReadSet([Path.Combine(folder, "other")]));
        Assert.Contains("weights of model 'conv (train)'", error.Message);
        Assert.Contains("reproduce.part-1-of-2.json", error.Message);
    }

    [Fact]
    public void A_unit_covered_by_two_parts_is_refused_naming_it()
    {
        Part(0, ["arm:pgd", "study:table1"], []);
        Part(1, ["study:table1", "study:spectral", "study:units"], []);
        var error = Assert.Throws<BadInputException>(() => ShardParts.ReadSet([Path.Combine(folder, "parts")]));
        Assert.Contains("cover study:table1", error.Message);
    }
}
