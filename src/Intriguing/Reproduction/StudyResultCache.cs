using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Intriguing.IO;
using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>
/// Keeps each finished study section on disk (one JSON file per study and fingerprint, written atomically), so that
/// <c>reproduce</c> resumes after an interruption: finished studies are read back, the rest are run. A file that cannot
/// be read back is named in a warning and the study runs again. Runs sharing the folder take turns per section
/// (<see cref="Lock"/>), so a second run waits for a study the first is computing and then reads it back.
/// </summary>
public sealed class StudyResultCache(string folder)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    /// <summary>The folder the sections are kept in.</summary>
    public string Folder { get; } = folder;

    /// <summary>
    /// The section kept for <paramref name="key"/> under exactly <paramref name="fingerprint"/>, or null: none was kept, or
    /// the file cannot be read back (then a warning on <paramref name="progress"/> names it and says why).
    /// </summary>
    public ReportSection? TryLoad(string key, string fingerprint, IProgress<ProgressUpdate>? progress = null)
    {
        string path = PathFor(key, fingerprint);
        if (!File.Exists(path))
        {
            return null;
        }
        void Warn(string problem) =>
            progress?.Report(ProgressUpdate.Warning($"resume {key}", $"{path}: {problem}; running the study {key} again"));
        try
        {
            var stored = JsonSerializer.Deserialize<StoredSection>(File.ReadAllText(path), Options);
            if (stored is null || stored.Key != key || stored.Fingerprint != fingerprint)
            {
                Warn(stored is null ? "holds no section" : $"holds the section {stored.Key} of other settings");
                return null;
            }
            return ToSection(stored);
        }
        catch (Exception error) when (error is JsonException or FormatException or BadInputException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            Warn($"cannot be read back ({error.Message})");
            return null;
        }
    }

    /// <summary>
    /// <paramref name="section"/> as this cache keeps it (JSON text under <paramref name="fingerprint"/>): what a shard's part
    /// of a split run carries for each study it ran (see <see cref="ReproductionRun.RunPart"/>).
    /// </summary>
    public static string Serialize(string fingerprint, ReportSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
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
            section.Data is null ? null : JsonSerializer.SerializeToNode(section.Data, section.Data.GetType(), JsonReportWriter.Options),
            section.Claims.Select(claim => new StoredClaim(claim.Id, claim.Claim, claim.Verdict, claim.Evidence)).ToList());
        return JsonSerializer.Serialize(stored, Options);
    }

    /// <summary>The section <see cref="Serialize"/> wrote, checked to be <paramref name="key"/>'s under <paramref name="fingerprint"/>.</summary>
    /// <exception cref="BadInputException">Text that is not such a section.</exception>
    public static ReportSection Deserialize(string json, string key, string fingerprint)
    {
        try
        {
            var stored = JsonSerializer.Deserialize<StoredSection>(json ?? "", Options);
            if (stored is null || stored.Key != key || stored.Fingerprint != fingerprint)
            {
                throw new BadInputException(stored is null ? $"the kept section of {key} is empty" : $"the kept section {stored.Key} is not {key} under these settings");
            }
            if (stored.Title is null || stored.Prose is null || stored.Tables is null || stored.Figures is null
                || stored.Tables.Any(table => table?.Headers is null || table.Rows is null) || stored.Figures.Any(figure => figure?.Png is null))
            {
                throw new BadInputException($"the kept section of {key} lacks its title, prose, tables or figures");
            }
            return ToSection(stored);
        }
        catch (Exception error) when (error is JsonException or FormatException or NotSupportedException)
        {
            throw new BadInputException($"the kept section of {key} cannot be read ({error.Message})");
        }
    }

    private static ReportSection ToSection(StoredSection stored)
    {
        var section = new ReportSection(stored.Key, stored.Title, stored.Prose)
        {
            Tables = stored.Tables.Select(table => new ReportTable(
                table.Caption,
                table.Headers.Select(ToCell).ToList(),
                table.Rows.Select(row => (IReadOnlyList<ReportCell>)row.Select(ToCell).ToList()).ToList())).ToList(),
            Figures = stored.Figures.Select(figure => new ReportFigure(figure.FileName, figure.Caption, Convert.FromBase64String(figure.Png))).ToList(),
            Data = stored.Data,
            Claims = (stored.Claims ?? []).Select(claim => new ReportClaim(claim.Id, claim.Claim, claim.Verdict, claim.Evidence)).ToList(),
        };
        section.Validate();
        return section;
    }

    /// <summary>
    /// The lock a study's section takes turns on (<see cref="FileLock"/>): held while the study is looked up, run and
    /// stored, so two runs sharing this folder never compute the same section at once.
    /// </summary>
    public FileLock Lock(string key, string fingerprint, IProgress<ProgressUpdate>? progress = null) =>
        FileLock.Acquire(FileLock.PathFor(PathFor(key, fingerprint)), $"running the study {key}", progress);

    /// <summary>Keeps <paramref name="section"/> under its key and <paramref name="fingerprint"/>, atomically.</summary>
    public void Store(string fingerprint, ReportSection section) =>
        AtomicFile.WriteAllText(PathFor(section.Key, fingerprint), Serialize(fingerprint, section));

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

    private sealed record StoredClaim(string Id, string Claim, ReportVerdict Verdict, string Evidence);

    private sealed record StoredSection(string Key, string Fingerprint, string Title, string Prose, List<StoredTable> Tables, List<StoredFigure> Figures, JsonNode? Data,
        List<StoredClaim>? Claims = null);
}
