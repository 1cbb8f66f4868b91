using System.Text.RegularExpressions;

namespace Intriguing.Reporting;

/// <summary>
/// One study's part of the report: its prose, tables and figures for the reader, and its data for report.json.
/// </summary>
/// <param name="Key">The top-level key in report.json (docs/json-output.md: "table1", "table3", "attacks", ...): a letter, then letters or digits.</param>
/// <param name="Title">Heading of the section.</param>
/// <param name="Prose">
/// What the paper claims and what we did, in a small Markdown subset: blank-line separated paragraphs,
/// lines starting "- " as bullets, <c>**bold**</c>, <c>*italic*</c> and <c>`code`</c>.
/// </param>
public sealed partial record ReportSection(string Key, string Title, string Prose)
{
    /// <summary>Tables in reading order.</summary>
    public IReadOnlyList<ReportTable> Tables { get; init; } = [];

    /// <summary>Figures in reading order; each is also written to figures/&lt;FileName&gt;.</summary>
    public IReadOnlyList<ReportFigure> Figures { get; init; } = [];

    /// <summary>
    /// The section's data under <see cref="Key"/> in report.json: a <see cref="System.Text.Json.Nodes.JsonNode"/>
    /// or any object (records, dictionaries), serialised with camelCase names. Null writes <c>null</c>.
    /// </summary>
    public object? Data { get; init; }

    /// <summary>
    /// The paper's claims this study judges, each with our verdict (the report's "claims at a glance" and the
    /// <c>claims</c> array of report.json); filled by the study from its library's verdict objects.
    /// </summary>
    public IReadOnlyList<ReportClaim> Claims { get; init; } = [];

    /// <summary>
    /// The section of a study that did not run (it failed): a short note saying why, <paramref name="claims"/> (the claims the
    /// study would have judged) marked "not run", and <c>{"failed": true, "reason": ...}</c> as its data.
    /// </summary>
    public static ReportSection NotRun(string key, string title, string reason, IReadOnlyList<ReportClaim> claims) =>
        new(key, title, $"**This study did not run**: {reason}. Its claims are listed as not run.")
        {
            Claims = [.. claims.Select(claim => claim.AsNotRun($"the study did not run: {reason}"))],
            Data = new { failed = true, reason },
        };

    /// <exception cref="BadInputException">The key is not a plain identifier, a table is ragged or a figure is not a named PNG.</exception>
    public void Validate()
    {
        if (!KeyPattern().IsMatch(Key ?? ""))
        {
            throw new BadInputException($"report section key \"{Key}\" must start with a letter and contain only letters and digits (e.g. \"table1\")");
        }
        foreach (ReportTable table in Tables)
        {
            table.Validate(Key!);
        }
        foreach (ReportFigure figure in Figures)
        {
            figure.Validate();
        }
        var claimIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (ReportClaim claim in Claims)
        {
            claim.Validate(Key!);
            if (!claimIds.Add(claim.Id))
            {
                throw new BadInputException($"claim id \"{claim.Id}\" is used twice in section \"{Key}\"");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]*$")]
    private static partial Regex KeyPattern();
}
