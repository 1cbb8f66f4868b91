using System.Text.Json.Nodes;
using Intriguing.DistortionBounds;
using Intriguing.Reporting;
using Intriguing.Reproduction;

namespace Intriguing.Tests.Reporting;

/// <summary>docs/report.schema.json against what the writers produce, and against reports with a field missing or renamed.</summary>
public sealed class ReportSchemaTests
{
    private static readonly TinyJsonSchema Schema = TinyJsonSchema.Load(Path.Combine(AppContext.BaseDirectory, "report.schema.json"));

    private static JsonObject WrittenReport()
    {
        string folder = ReportSamples.TemporaryFolder();
        try
        {
            var files = ReportWriter.WriteAll(ReportClaimsTests.FullReport(), folder);
            return (JsonObject)JsonNode.Parse(File.ReadAllText(files.Json))!;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_report_json_the_writers_produce_is_valid()
    {
        Assert.Empty(Schema.Validate(WrittenReport()));
    }

    /// <summary>A report whose table1 carries the non-convexity check and the tightest bound as Table1Study writes them.</summary>
    private static JsonObject ReportWithTable1Bounds()
    {
        var json = WrittenReport();
        ImageStarts[] images = [new(0, [0.05, 0.051, null]), new(3, [0.04, 0.04, 0.041])];
        var spreads = new[] { new ModelStarts("fc10-1e-4", true, StartSpread.From(images)) };
        var bound = TightestBound.Compute([new AttackDistortions("cw", "C&W", new Dictionary<int, double> { [0] = 0.03 }, 2)]);
        var data = new
        {
            models = Array.Empty<object>(),
            nonConvexity = Table1Study.NonConvexityData(new MultiStartSettings(2, 3), 1.5, [images], spreads),
            tightestBound = Table1Study.TightestBoundData([("fc10-1e-4", bound)]),
        };
        json["table1"] = System.Text.Json.JsonSerializer.SerializeToNode(data, JsonReportWriter.Options);
        return json;
    }

    [Fact]
    public void Table1s_non_convexity_check_and_tightest_bound_are_valid()
    {
        var json = ReportWithTable1Bounds();
        Assert.Empty(Schema.Validate(json));

        json["table1"]!["nonConvexity"]!.AsObject().Remove("seconds");
        json["table1"]!["tightestBound"]![0]!["bound"]!["attacks"]![0]!.AsObject().Remove("meanRatio");
        var errors = Schema.Validate(JsonNode.Parse(json.ToJsonString()));
        Assert.Contains(errors, error => error.Contains("required field \"seconds\" is missing", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("required field \"meanRatio\" is missing", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> Mutations => new()
    {
        { "environment missing", "required field \"environment\" is missing" },
        { "table2 renamed", "required field \"table2\" is missing" },
        { "claims missing", "required field \"claims\" is missing" },
        { "claim without verdict", "required field \"verdict\" is missing" },
        { "claim with an unknown verdict", "is not one of" },
        { "claim with an extra field", "field \"confidence\" is not allowed" },
        { "study not an object", "$.units: expected object" },
        { "environment without seed", "required field \"seed\" is missing" },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public void A_mutated_report_fails_with_the_reason(string mutation, string expected)
    {
        var json = WrittenReport();
        var claim = json["claims"]![0]!.AsObject();
        switch (mutation)
        {
            case "environment missing": json.Remove("environment"); break;
            case "table2 renamed": json["tableTwo"] = json["table2"]!.DeepClone(); json.Remove("table2"); break;
            case "claims missing": json.Remove("claims"); break;
            case "claim without verdict": claim.Remove("verdict"); break;
            case "claim with an unknown verdict": claim["verdict"] = "mostly"; break;
            case "claim with an extra field": claim["confidence"] = 0.9; break;
            case "study not an object": json["units"] = "n/a"; break;
            case "environment without seed": json["environment"]!.AsObject().Remove("seed"); break;
            default: throw new ArgumentException(mutation);
        }
        var errors = Schema.Validate(JsonNode.Parse(json.ToJsonString()));
        Assert.Contains(errors, error => error.Contains(expected, StringComparison.Ordinal));
    }
}
