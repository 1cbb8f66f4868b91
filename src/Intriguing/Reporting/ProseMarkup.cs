using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Intriguing.Reporting;

/// <summary>
/// Turns a section's prose (the small Markdown subset described on <see cref="ReportSection.Prose"/>) into HTML.
/// Text is HTML-escaped first and only then given markup, so nothing in the prose can inject tags.
/// </summary>
internal static partial class ProseMarkup
{
    public static string ToHtml(string prose)
    {
        var html = new StringBuilder();
        string normalised = prose.Replace("\r\n", "\n").Trim();
        foreach (string block in BlankLines().Split(normalised).Where(block => block.Trim().Length > 0))
        {
            string[] lines = block.Split('\n');
            if (lines.All(line => line.TrimStart().StartsWith("- ", StringComparison.Ordinal)))
            {
                html.AppendLine("<ul>");
                foreach (string line in lines)
                {
                    html.Append("<li>").Append(Inline(line.TrimStart()[2..])).AppendLine("</li>");
                }
                html.AppendLine("</ul>");
            }
            else
            {
                html.Append("<p>").Append(Inline(string.Join(" ", lines.Select(line => line.Trim())))).AppendLine("</p>");
            }
        }
        return html.ToString();
    }

    /// <summary>Escapes, then applies `code`, **bold** and *italic* (code first so its content stays literal).</summary>
    public static string Inline(string text)
    {
        string escaped = WebUtility.HtmlEncode(text);
        var codeSpans = new List<string>();
        // Park code spans behind placeholders so the emphasis rules below do not reach into them.
        string parked = CodeSpan().Replace(escaped, match =>
        {
            codeSpans.Add(match.Groups[1].Value);
            return $"\u0000{codeSpans.Count - 1}\u0000";
        });
        parked = Bold().Replace(parked, "<strong>$1</strong>");
        parked = Italic().Replace(parked, "<em>$1</em>");
        return Placeholder().Replace(parked, match => $"<code>{codeSpans[int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)]}</code>");
    }

    [GeneratedRegex(@"\n\s*\n")]
    private static partial Regex BlankLines();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"\*\*(.+?)\*\*")]
    private static partial Regex Bold();

    [GeneratedRegex(@"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")]
    private static partial Regex Italic();

    [GeneratedRegex("\u0000(\\d+)\u0000")]
    private static partial Regex Placeholder();
}
