using System.Text.Json.Nodes;
using Intriguing.Reporting;

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
