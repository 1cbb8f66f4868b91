using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Intriguing.Reporting;

/// <summary>
/// report.json: <c>{"environment": {...}, "claims": [...], "&lt;section key&gt;": &lt;section data&gt;, ...}</c>, camelCase, indented.
/// Only the data goes here; prose, tables and figures are for the Markdown and HTML views. docs/report.schema.json
/// describes the document.
/// </summary>
public static class JsonReportWriter
{
    /// <summary>The options every section's data is serialised with: camelCase names and enums, readable escaping, NaN allowed (as "NaN").</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // report.json is read by people and scripts, never embedded in HTML: keep "+" and "<" readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>The report.json document as a tree (handy for tests and for merging into other output).</summary>
    public static JsonObject ToJson(Report report)
    {
        var document = new JsonObject
        {
            [Report.EnvironmentKey] = JsonSerializer.SerializeToNode(report.Environment, Options),
            [Report.ClaimsKey] = new JsonArray([.. report.Claims.Select(entry => (JsonNode)ClaimJson(entry.Section, entry.Claim))]),
        };
        foreach (ReportSection section in report.Sections)
        {
            document[section.Key] = section.Data switch
            {
                null => null,
                // A node handed in may already belong to another tree; a copy keeps the caller's tree intact.
                JsonNode node => node.DeepClone(),
                object data => JsonSerializer.SerializeToNode(data, data.GetType(), Options),
            };
        }
        return document;
    }

    /// <summary>One entry of the top-level <c>claims</c> array: <c>{"id","claim","verdict","evidence","section"}</c>, the id prefixed with the section key.</summary>
    public static JsonObject ClaimJson(ReportSection section, ReportClaim claim)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(claim);
        return new JsonObject
        {
            ["id"] = $"{section.Key}.{claim.Id}",
            ["claim"] = claim.Claim,
            ["verdict"] = claim.VerdictText,
            ["evidence"] = claim.Evidence,
            ["section"] = section.Key,
        };
    }

    /// <summary>The text of report.json.</summary>
    public static string Render(Report report) => ToJson(report).ToJsonString(Options) + "\n";
}
