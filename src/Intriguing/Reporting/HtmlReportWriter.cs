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
        *, *::before, *::after { box-sizing: border-box; }
        body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 16px;
               line-height: 1.55; color: #111827; max-width: 62rem; margin: 2rem auto; padding: 0 1.25rem;
               overflow-wrap: break-word; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
        p, li { max-width: 52rem; }
        h1 { font-size: 1.9rem; line-height: 1.25; margin-bottom: .3rem; }
        h2 { font-size: 1.4rem; line-height: 1.3; margin-top: 2.6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--rule); }
        nav ol { margin: .4rem 0 0; padding-left: 1.6rem; }
        nav li { margin: .2rem 0; padding-left: .2rem; }
        a { color: var(--ours); }
        code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; background: #f3f4f6; padding: 0 .2em; border-radius: 3px; overflow-wrap: anywhere; }
        dl.environment { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; font-size: .9rem; color: #374151; }
        dl.environment dt { font-weight: 600; }
        dl.environment dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
        .legend { font-size: .85rem; color: #374151; }
        .legend span { padding: .05rem .4rem; border-radius: 3px; }
        .table-block { margin: .6rem 0 1.4rem; }
        .table-caption { font-weight: 600; margin: 0 0 .35rem; font-size: .92rem; }
        .table-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; }
        /* A wide table may use the window beyond the text column (centred on it, clear of the edges); a narrow one keeps to the column. */
        .table-block .table-scroll { width: max-content; min-width: 100%; max-width: calc(100vw - 3rem); margin-left: 50%; transform: translateX(-50%); }
        table { border-collapse: collapse; font-size: .92rem; font-variant-numeric: tabular-nums; }
        th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--rule); text-align: right; }
        .nw { white-space: nowrap; }
        th:first-child, td:first-child { text-align: left; }
        thead th { border-bottom: 2px solid #9ca3af; }
        .ours { color: var(--ours); background: var(--ours-bg); font-weight: 600; }
        .paper { color: var(--paper); background: var(--paper-bg); font-style: italic; }
        figure { margin: 1rem 0 1.6rem; }
        figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
        figcaption { font-size: .88rem; color: #374151; margin-top: .3rem; }
        #claims h2 { margin-top: 1.2rem; }
        table.claims { width: 100%; table-layout: fixed; }
        table.claims th, table.claims td { text-align: left; vertical-align: top; }
        table.claims th:nth-child(1) { width: 8.5rem; }
        table.claims th:nth-child(2) { width: 38%; }
        table.claims th:nth-child(4) { width: 9.5rem; }
        table.claims td.evidence { font-size: .85rem; color: #374151; }
        table.claims td.where { font-size: .85rem; }
        .verdict { display: inline-block; white-space: nowrap; font-size: .78rem; font-weight: 700; padding: .1rem .45rem; border-radius: 999px; border: 1px solid transparent; }
        .verdict-holds { background: #dcfce7; color: #166534; border-color: #86efac; }
        .verdict-partly { background: #fef9c3; color: #854d0e; border-color: #fde047; }
        .verdict-does-not-hold { background: #fee2e2; color: #991b1b; border-color: #fca5a5; }
        .verdict-inconclusive { background: #f3f4f6; color: #374151; border-color: #d1d5db; }
        .verdict-not-run { background: #fff; color: #6b7280; border-color: #9ca3af; border-style: dashed; }
        @media (max-width: 40rem) {
          body { margin: 1rem auto; padding: 0 .85rem; font-size: 15px; }
          h1 { font-size: 1.5rem; }
          h2 { font-size: 1.2rem; }
          dl.environment { grid-template-columns: 1fr; gap: 0; }
          dl.environment dd { margin-bottom: .35rem; }
          th, td { padding: .25rem .45rem; }
          /* Row labels stay in view while a wide table scrolls sideways. */
          .table-block th:first-child, .table-block td:first-child { position: sticky; left: 0; z-index: 1; background: #fff; box-shadow: inset -1px 0 0 var(--rule); }
          table.claims thead { display: none; }
          table.claims, table.claims tbody, table.claims tr, table.claims td { display: block; width: 100%; table-layout: auto; }
          table.claims tr { padding: .5rem 0; border-bottom: 1px solid var(--rule); }
          table.claims td { border: 0; padding: .1rem 0; }
          table.claims td.evidence { min-width: 0; }
        }
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
        AppendClaims(html, report);

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
            html.AppendLine("<nav aria-label=\"Contents\"><ol>");
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

    /// <summary>
    /// The anchor of the claims table, <c>claims</c>; a section's own anchor is its key, which can never be "claims"
    /// (<see cref="Report.ClaimsKey"/> is reserved).
    /// </summary>
    public const string ClaimsAnchor = Report.ClaimsKey;

    /// <summary>"Claims at a glance": one row per claim, verdict badge first, linking to the section that judges it.</summary>
    private static void AppendClaims(StringBuilder html, Report report)
    {
        var claims = report.Claims;
        if (claims.Count == 0)
        {
            return;
        }
        html.Append("<section id=\"").Append(ClaimsAnchor).AppendLine("\" class=\"claims\">")
            .AppendLine("<h2>Claims at a glance</h2>")
            .AppendLine("<div class=\"table-scroll\">")
            .AppendLine("<table class=\"claims\">")
            .AppendLine("<thead><tr><th>verdict</th><th>claim</th><th>evidence (ours)</th><th>section</th></tr></thead>")
            .AppendLine("<tbody>");
        foreach (var (section, claim) in claims)
        {
            html.Append("<tr id=\"claim-").Append(Escape(section.Key)).Append('-').Append(Escape(claim.Id)).Append("\">")
                .Append("<td><span class=\"verdict verdict-").Append(claim.VerdictText.Replace(' ', '-')).Append("\">")
                .Append(Escape(claim.VerdictText)).Append("</span></td>")
                .Append("<td>").Append(Escape(claim.Claim)).Append("</td>")
                .Append("<td class=\"evidence\">").Append(Escape(claim.Evidence)).Append("</td>")
                .Append("<td class=\"where\"><a href=\"#").Append(Escape(section.Key)).Append("\">").Append(Escape(ShortTitle(section.Title))).Append("</a></td>")
                .AppendLine("</tr>");
        }
        html.AppendLine("</tbody>").AppendLine("</table>").AppendLine("</div>").AppendLine("</section>");
    }

    /// <summary>A section's title up to its colon ("Table 2" of "Table 2: adversarial examples ..."), for a link in a narrow column.</summary>
    internal static string ShortTitle(string title)
    {
        int colon = title.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? title[..colon] : title;
    }

    private static void AppendTable(StringBuilder html, ReportTable table)
    {
        // The caption stays outside the scrolling box, so on a phone it wraps to the screen while a wide table scrolls.
        html.AppendLine("<div class=\"table-block\">");
        if (!string.IsNullOrWhiteSpace(table.Caption))
        {
            html.Append("<p class=\"table-caption\">").Append(Escape(table.Caption)).AppendLine("</p>");
        }
        html.AppendLine("<div class=\"table-scroll\">").AppendLine("<table>");
        html.Append("<thead><tr>");
        foreach (ReportCell header in table.Headers)
        {
            html.Append("<th").Append(ClassAttribute(header.Kind)).Append('>').Append(CellHtml(header.Text)).Append("</th>");
        }
        html.AppendLine("</tr></thead>").AppendLine("<tbody>");
        foreach (IReadOnlyList<ReportCell> row in table.Rows)
        {
            html.Append("<tr>");
            foreach (ReportCell cell in row)
            {
                html.Append("<td").Append(ClassAttribute(cell.Kind)).Append('>').Append(CellHtml(cell.Text)).Append("</td>");
            }
            html.AppendLine("</tr>");
        }
        html.AppendLine("</tbody>").AppendLine("</table>").AppendLine("</div>").AppendLine("</div>");
    }

    /// <summary>
    /// A table cell's text, escaped, that wraps only between its parts: a bracketed or parenthesised group ("[96.1%, 100.0%]",
    /// "(paper 7.40%)") and a hyphenated name ("fc100-100-10") never break inside, so a narrow cell reads as
    /// "63.7%" / "[52.8%, 73.4%]" / "(paper 71.9%)" rather than splitting at every space and hyphen.
    /// </summary>
    internal static string CellHtml(string? text)
    {
        var html = new StringBuilder();
        var part = new StringBuilder();
        int depth = 0;
        foreach (char character in text ?? "")
        {
            if (character == ' ' && depth == 0)
            {
                AppendPart(html, part);
                html.Append(' ');
                continue;
            }
            depth += character is '(' or '[' ? 1 : character is ')' or ']' && depth > 0 ? -1 : 0;
            part.Append(character);
        }
        AppendPart(html, part);
        return html.ToString();

        static void AppendPart(StringBuilder html, StringBuilder part)
        {
            string text = part.ToString();
            part.Clear();
            bool breakable = text.Contains(' ', StringComparison.Ordinal) || text.Contains('-', StringComparison.Ordinal);
            html.Append(breakable ? "<span class=\"nw\">" + Escape(text) + "</span>" : Escape(text));
        }
    }

    private static string ClassAttribute(CellKind kind) => kind switch
    {
        CellKind.Ours => " class=\"ours\"",
        CellKind.Paper => " class=\"paper\"",
        _ => "",
    };

    private static string Escape(string? text) => WebUtility.HtmlEncode(text ?? "");
}
