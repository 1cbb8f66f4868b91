namespace Intriguing.Reporting;

/// <summary>The files one <see cref="ReportWriter.WriteAll"/> call produced.</summary>
public sealed record ReportFiles(string Markdown, string Html, string Json, IReadOnlyList<string> Figures);

/// <summary>
/// Writes a <see cref="Report"/> as <c>report.md</c>, a self-contained <c>report.html</c>, <c>report.json</c>
/// and <c>figures/*.png</c>. Every file goes through <see cref="IO.AtomicFile"/>, so an interrupted run
/// leaves the previous report or the new one, never half of either.
/// </summary>
public static class ReportWriter
{
    /// <summary>The Markdown report's file name, <c>report.md</c>.</summary>
    public const string MarkdownFileName = "report.md";
    /// <summary>The HTML report's file name, <c>report.html</c>.</summary>
    public const string HtmlFileName = "report.html";
    /// <summary>The JSON report's file name, <c>report.json</c>.</summary>
    public const string JsonFileName = "report.json";
    /// <summary>The folder of the figures beside the reports, <c>figures</c>.</summary>
    public const string FiguresFolderName = "figures";

    /// <summary>Validates the report, then writes the figures, report.json, report.md and report.html into <paramref name="outDir"/>.</summary>
    /// <exception cref="BadInputException">The report breaks a rule in <see cref="Report.Validate"/>.</exception>
    public static ReportFiles WriteAll(Report report, string outDir)
    {
        report.Validate();
        string folder = Path.GetFullPath(outDir);
        Directory.CreateDirectory(folder);

        // Figures first: report.md links to them, so they should exist by the time it does.
        var figurePaths = new List<string>();
        foreach (ReportFigure figure in report.Sections.SelectMany(section => section.Figures))
        {
            string path = Path.Combine(folder, FiguresFolderName, figure.FileName);
            IO.AtomicFile.WriteAllBytes(path, figure.Png);
            figurePaths.Add(path);
        }

        string jsonPath = Path.Combine(folder, JsonFileName);
        IO.AtomicFile.WriteAllText(jsonPath, JsonReportWriter.Render(report));
        string markdownPath = Path.Combine(folder, MarkdownFileName);
        IO.AtomicFile.WriteAllText(markdownPath, MarkdownReportWriter.Render(report));
        string htmlPath = Path.Combine(folder, HtmlFileName);
        IO.AtomicFile.WriteAllText(htmlPath, HtmlReportWriter.Render(report));
        return new ReportFiles(markdownPath, htmlPath, jsonPath, figurePaths);
    }

    /// <summary>Relative link from a report file to a figure, e.g. "figures/table1-errors.png".</summary>
    public static string FigureLink(ReportFigure figure) => $"{FiguresFolderName}/{figure.FileName}";
}
