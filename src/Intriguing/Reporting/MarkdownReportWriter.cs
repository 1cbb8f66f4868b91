using System.Text;

namespace Intriguing.Reporting;

/// <summary>
/// report.md: GitHub-flavoured Markdown with a settings list, one "##" heading per section, pipe tables
/// (ours/paper cells are not styled in Markdown; the column headers say which is which) and figures
/// as relative image links into figures/.
/// </summary>
public static class MarkdownReportWriter
{
    /// <summary>The whole report.md for <paramref name="report"/>; figures are linked as <c>figures/&lt;name&gt;.png</c>.</summary>
    public static string Render(Report report)
    {
        var markdown = new StringBuilder();
        markdown.Append("# ").AppendLine(Inline(report.Title)).AppendLine();
        AppendClaims(markdown, report);
        AppendEnvironment(markdown, report.Environment);
        foreach (ReportSection section in report.Sections)
        {
            // An explicit anchor: the claims table links to the section by its key, whatever the renderer makes of the title.
            markdown.AppendLine().Append("<a id=\"").Append(section.Key).AppendLine("\"></a>").AppendLine();
            markdown.Append("## ").AppendLine(Inline(section.Title)).AppendLine();
            if (!string.IsNullOrWhiteSpace(section.Prose))
            {
                markdown.AppendLine(EscapeAngleBrackets(section.Prose.Trim())).AppendLine();
            }
            foreach (ReportTable table in section.Tables)
            {
                AppendTable(markdown, table);
            }
            foreach (ReportFigure figure in section.Figures)
            {
                markdown.Append("![").Append(Inline(figure.Caption).Replace("]", "\\]")).Append("](")
                    .Append(ReportWriter.FigureLink(figure)).AppendLine(")");
                markdown.Append('*').Append(Inline(figure.Caption)).AppendLine("*").AppendLine();
            }
        }
        return markdown.ToString();
    }

    /// <summary>"Claims at a glance": one pipe-table row per claim (verdict, claim, evidence, link to the section).</summary>
    private static void AppendClaims(StringBuilder markdown, Report report)
    {
        var claims = report.Claims;
        if (claims.Count == 0)
        {
            return;
        }
        markdown.AppendLine("## Claims at a glance").AppendLine()
            .AppendLine("| verdict | claim | evidence (ours) | section |")
            .AppendLine("|---|---|---|---|");
        foreach (var (section, claim) in claims)
        {
            markdown.Append("| **").Append(Cell(claim.VerdictText)).Append("** | ").Append(Cell(claim.Claim)).Append(" | ")
                .Append(Cell(claim.Evidence)).Append(" | [").Append(Cell(HtmlReportWriter.ShortTitle(section.Title)).Replace("]", "\\]"))
                .Append("](#").Append(section.Key).AppendLine(") |");
        }
        markdown.AppendLine();
    }

    private static void AppendEnvironment(StringBuilder markdown, ReportEnvironment environment)
    {
        foreach ((string name, string value) in EnvironmentRows(environment))
        {
            markdown.Append("- **").Append(name).Append(":** ").AppendLine(Inline(value));
        }
        if (environment.DatasetNote is { } note)
        {
            markdown.AppendLine().Append("> **Note:** ").AppendLine(Inline(note));
        }
    }

    /// <summary>The environment as (label, value) lines, shared by the Markdown and HTML views.</summary>
    internal static IEnumerable<(string Name, string Value)> EnvironmentRows(ReportEnvironment environment)
    {
        yield return ("Command", environment.CommandLine);
        yield return ("Started (UTC)", environment.StartedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        yield return ("Wall time", ReportFormat.Duration(environment.WallTime));
        if (environment.StudyWallTimes.Count > 0)
        {
            yield return ("Wall time per study", string.Join(", ", environment.StudyWallTimes.Select(StudyWallTimeText)));
        }
        yield return ("Dataset", environment.Dataset == "mnist" ? "mnist (the paper's data)" : $"{environment.Dataset} (the paper's numbers are for MNIST)");
        yield return ("Seed", environment.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("Quick", environment.Quick ? "yes (--quick: fewer epochs and images)" : "no");
        yield return ("Software", $"{environment.DotnetVersion}, TorchSharp {environment.TorchSharpVersion}, libtorch {environment.LibTorchVersion}");
        yield return ("Machine", $"{environment.OperatingSystem}, {environment.CpuThreads} CPU threads (libtorch uses {environment.TorchThreads})");
        yield return ("Device", environment.Device);
        yield return ("Peak memory", environment.PeakMemoryBytes > 0 ? ReportFormat.Bytes(environment.PeakMemoryBytes) : ReportFormat.NotAvailable);
    }

    /// <summary>"table1 12.3 s", with "(read back)" or "(failed)" when the study did not compute in this run.</summary>
    private static string StudyWallTimeText(StudyWallTime study)
    {
        string text = $"{study.Study} {ReportFormat.Duration(TimeSpan.FromSeconds(study.Seconds))}";
        return study.Failed ? text + " (failed)" : study.Resumed ? text + " (read back)" : text;
    }

    private static void AppendTable(StringBuilder markdown, ReportTable table)
    {
        if (!string.IsNullOrWhiteSpace(table.Caption))
        {
            markdown.Append("**").Append(Cell(table.Caption)).AppendLine("**").AppendLine();
        }
        markdown.Append('|');
        foreach (ReportCell header in table.Headers)
        {
            markdown.Append(' ').Append(Cell(header.Text)).Append(" |");
        }
        markdown.AppendLine().Append('|');
        for (int column = 0; column < table.Headers.Count; column++)
        {
            // Numbers (anything but the first column, which names the row) line up on the right.
            markdown.Append(column == 0 ? "---|" : "---:|");
        }
        markdown.AppendLine();
        foreach (IReadOnlyList<ReportCell> row in table.Rows)
        {
            markdown.Append('|');
            foreach (ReportCell cell in row)
            {
                markdown.Append(' ').Append(Cell(cell.Text)).Append(" |");
            }
            markdown.AppendLine();
        }
        markdown.AppendLine();
    }

    /// <summary>A table cell: pipes would end the cell and newlines the row.</summary>
    private static string Cell(string text) =>
        EscapeAngleBrackets(text).Replace("|", "\\|").Replace("\r", "").Replace("\n", " ");

    private static string Inline(string text) => EscapeAngleBrackets(text).Replace("\r", "").Replace("\n", " ");

    /// <summary>Markdown passes raw HTML through; escaping the brackets keeps a "&lt;script&gt;" as text.</summary>
    private static string EscapeAngleBrackets(string text) => text.Replace("<", "&lt;").Replace(">", "&gt;");
}
