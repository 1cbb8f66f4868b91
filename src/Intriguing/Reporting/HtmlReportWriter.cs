using System.Net;
using System.Text;

namespace Intriguing.Reporting;

/// <summary>
/// report.html: one self-contained page (inline CSS, figures as base64 data URIs, no scripts, no external
/// resources) that opens from a file, offline. Our numbers and the paper's are shaded apart in every table.
/// All text is HTML-escaped.
/// </summary>
public static class HtmlReportWriter
{
    private const string Css = """
        :root { --ours: #1d4ed8; --ours-bg: #eff6ff; --paper: #6b7280; --paper-bg: #f9fafb; --rule: #e5e7eb; }
        body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 16px;
               line-height: 1.55; color: #111827; max-width: 62rem; margin: 2rem auto; padding: 0 1.25rem; }
        h1 { font-size: 1.9rem; margin-bottom: .3rem; }
        h2 { font-size: 1.4rem; margin-top: 2.6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--rule); }
        nav ol { columns: 2; padding-left: 1.2rem; }
        a { color: var(--ours); }
        code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; background: #f3f4f6; padding: 0 .2em; border-radius: 3px; }
        dl.environment { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; font-size: .9rem; color: #374151; }
        dl.environment dt { font-weight: 600; }
        dl.environment dd { margin: 0; }
        .legend { font-size: .85rem; color: #374151; }
        .legend span { padding: .05rem .4rem; border-radius: 3px; }
        table { border-collapse: collapse; margin: .6rem 0 1.4rem; font-size: .92rem; font-variant-numeric: tabular-nums; }
        caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: .35rem; }
        th, td { padding: .3rem .7rem; border-bottom: 1px solid var(--rule); text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        thead th { border-bottom: 2px solid #9ca3af; }
        .ours { color: var(--ours); background: var(--ours-bg); font-weight: 600; }
        .paper { color: var(--paper); background: var(--paper-bg); font-style: italic; }
        figure { margin: 1rem 0 1.6rem; }
        figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
        figcaption { font-size: .88rem; color: #374151; margin-top: .3rem; }
        """;

    /// <summary>The whole report.html for <paramref name="report"/>: one self-contained page, styles and figures inline.</summary>
    public static string Render(Report report)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>")
            .AppendLine("<html lang=\"en\">")
            .AppendLine("<head>")
            .AppendLine("<meta charset=\"utf-8\">")
            .AppendLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(Escape(report.Title)).AppendLine("</title>")
            .Append("<style>\n").Append(Css).AppendLine("</style>")
            .AppendLine("</head>")
            .AppendLine("<body>")
            .Append("<h1>").Append(Escape(report.Title)).AppendLine("</h1>");

        html.AppendLine("<dl class=\"environment\">");
        foreach ((string name, string value) in MarkdownReportWriter.EnvironmentRows(report.Environment))
        {
            html.Append("<dt>").Append(Escape(name)).Append("</dt><dd>").Append(Escape(value)).AppendLine("</dd>");
        }
        html.AppendLine("</dl>");
        if (report.Environment.DatasetNote is { } note)
        {
            html.Append("<p class=\"legend\"><strong>Note:</strong> ").Append(Escape(note)).AppendLine("</p>");
        }
        html.AppendLine("<p class=\"legend\">In the tables: <span class=\"ours\">our measurement</span> <span class=\"paper\">the paper's number</span></p>");

        if (report.Sections.Count > 1)
        {
            html.AppendLine("<nav><ol>");
            foreach (ReportSection section in report.Sections)
            {
                html.Append("<li><a href=\"#").Append(Escape(section.Key)).Append("\">").Append(Escape(section.Title)).AppendLine("</a></li>");
            }
            html.AppendLine("</ol></nav>");
        }

        foreach (ReportSection section in report.Sections)
        {
            html.Append("<section id=\"").Append(Escape(section.Key)).AppendLine("\">");
            html.Append("<h2>").Append(Escape(section.Title)).AppendLine("</h2>");
            html.Append(ProseMarkup.ToHtml(section.Prose ?? ""));
            foreach (ReportTable table in section.Tables)
            {
                AppendTable(html, table);
            }
            foreach (ReportFigure figure in section.Figures)
            {
                html.AppendLine("<figure>")
                    .Append("<img src=\"data:image/png;base64,").Append(Convert.ToBase64String(figure.Png))
                    .Append("\" alt=\"").Append(Escape(figure.Caption)).AppendLine("\">")
                    .Append("<figcaption>").Append(Escape(figure.Caption)).AppendLine("</figcaption>")
                    .AppendLine("</figure>");
            }
            html.AppendLine("</section>");
        }
        html.AppendLine("</body>").AppendLine("</html>");
        return html.ToString();
    }

    private static void AppendTable(StringBuilder html, ReportTable table)
    {
        html.AppendLine("<table>");
        if (!string.IsNullOrWhiteSpace(table.Caption))
        {
            html.Append("<caption>").Append(Escape(table.Caption)).AppendLine("</caption>");
        }
        html.Append("<thead><tr>");
        foreach (ReportCell header in table.Headers)
        {
            html.Append("<th").Append(ClassAttribute(header.Kind)).Append('>').Append(Escape(header.Text)).Append("</th>");
        }
        html.AppendLine("</tr></thead>").AppendLine("<tbody>");
        foreach (IReadOnlyList<ReportCell> row in table.Rows)
        {
            html.Append("<tr>");
            foreach (ReportCell cell in row)
            {
                html.Append("<td").Append(ClassAttribute(cell.Kind)).Append('>').Append(Escape(cell.Text)).Append("</td>");
            }
            html.AppendLine("</tr>");
        }
        html.AppendLine("</tbody>").AppendLine("</table>");
    }

    private static string ClassAttribute(CellKind kind) => kind switch
    {
        CellKind.Ours => " class=\"ours\"",
        CellKind.Paper => " class=\"paper\"",
        _ => "",
    };

    private static string Escape(string? text) => WebUtility.HtmlEncode(text ?? "");
}
