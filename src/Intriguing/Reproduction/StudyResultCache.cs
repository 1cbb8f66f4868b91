using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Intriguing.IO;
using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>
/// Keeps each finished study section on disk (one JSON file per study and settings), so that <c>reproduce</c>
/// resumes after an interruption: finished studies are read back, the rest are run. A file that cannot be read
/// back is ignored and the study runs again.
/// </summary>
public sealed class StudyResultCache(string folder)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public string Folder { get; } = folder;

    public ReportSection? TryLoad(string key, string fingerprint)
    {
        string path = PathFor(key, fingerprint);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            var stored = JsonSerializer.Deserialize<StoredSection>(File.ReadAllText(path), Options);
            if (stored is null || stored.Key != key || stored.Fingerprint != fingerprint)
            {
                return null;
            }
            var section = new ReportSection(stored.Key, stored.Title, stored.Prose)
            {
                Tables = stored.Tables.Select(table => new ReportTable(
                    table.Caption,
                    table.Headers.Select(ToCell).ToList(),
                    table.Rows.Select(row => (IReadOnlyList<ReportCell>)row.Select(ToCell).ToList()).ToList())).ToList(),
                Figures = stored.Figures.Select(figure => new ReportFigure(figure.FileName, figure.Caption, Convert.FromBase64String(figure.Png))).ToList(),
                Data = stored.Data,
            };
            section.Validate();
            return section;
        }
        catch (Exception error) when (error is JsonException or FormatException or BadInputException or NotSupportedException)
        {
            return null;
        }
    }

    public void Store(string fingerprint, ReportSection section)
    {
        var stored = new StoredSection(
            section.Key,
            fingerprint,
            section.Title,
            section.Prose,
            section.Tables.Select(table => new StoredTable(
                table.Caption,
                table.Headers.Select(FromCell).ToList(),
                table.Rows.Select(row => row.Select(FromCell).ToList()).ToList())).ToList(),
            section.Figures.Select(figure => new StoredFigure(figure.FileName, figure.Caption, Convert.ToBase64String(figure.Png))).ToList(),
            section.Data is null ? null : JsonSerializer.SerializeToNode(section.Data, section.Data.GetType(), JsonReportWriter.Options));
        AtomicFile.WriteAllText(PathFor(section.Key, fingerprint), JsonSerializer.Serialize(stored, Options));
    }

    private string PathFor(string key, string fingerprint)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint)))[..16];
        return Path.Combine(Folder, $"{key}-{hash}.json");
    }

    private static ReportCell ToCell(StoredCell cell) => new(cell.Text, cell.Kind);

    private static StoredCell FromCell(ReportCell cell) => new(cell.Text, cell.Kind);

    private sealed record StoredCell(string Text, CellKind Kind);

    private sealed record StoredTable(string Caption, List<StoredCell> Headers, List<List<StoredCell>> Rows);

    private sealed record StoredFigure(string FileName, string Caption, string Png);

    private sealed record StoredSection(string Key, string Fingerprint, string Title, string Prose, List<StoredTable> Tables, List<StoredFigure> Figures, JsonNode? Data);
}
