using Intriguing.Reporting;

namespace Intriguing.Cli.Tests;

/// <summary>
/// The browser check itself, without a reproduce run: it must see what a reader would (a broken figure, an error, a page
/// wider than a phone), and a report with a wide table and a figure must pass it at a phone's width.
/// </summary>
public sealed class HeadlessChromiumTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-browser-" + Guid.NewGuid().ToString("N"));

    public HeadlessChromiumTests() => Directory.CreateDirectory(folder);

    [Fact]
    public void The_check_sees_a_broken_figure_an_error_and_a_page_wider_than_a_phone()
    {
        string page = Path.Combine(folder, "broken.html");
        File.WriteAllText(page, """
            <!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>
            <body><img alt="broken" src="data:image/png;base64,AAAA"><div style="width:600px">wide</div>
            <script>console.error("boom");</script></body></html>
            """);

        var check = Assert.Single(HeadlessChromium.Check(page, [390], TimeSpan.FromSeconds(90)));

        Assert.Equal(390, check.ViewportWidth);
        Assert.Equal(0, Assert.Single(check.Images).NaturalWidth);
        Assert.Contains("console.error: boom", check.Errors);
        Assert.Contains(check.Errors, error => error.StartsWith("failed to load IMG", StringComparison.Ordinal));
        Assert.True(check.ScrollWidth > 390, $"scroll width {check.ScrollWidth}");
        Assert.Equal(["src=\"https://example.org/a.png", "url(//example.org/font.woff)"],
            HeadlessChromium.OutsideLoads("""<img src="https://example.org/a.png"> <a href="https://example.org/">ok</a> <style>@font-face{src:url(//example.org/font.woff)}</style>"""));
    }

    [Fact]
    public void A_report_with_a_wide_table_and_a_figure_reads_at_a_phones_width()
    {
        string[] models = ["fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10", "conv"];
        var table = new ReportTable(
            "Error of each column model on each row model's examples, with 95% intervals and the paper's value",
            ["examples made for", .. models.Select(model => ReportCell.Ours(model))],
            [.. models.Select(row => (IReadOnlyList<ReportCell>)[row, .. models.Select(_ => ReportCell.Ours("100.0% [96.1%, 100.0%] (paper 100.0%)"))])]);
        byte[] png = ImageGrid.Render([new ImageGridRow("a row", [Enumerable.Repeat(0.5f, 28 * 28).ToArray()])]);
        var section = new ReportSection("table2", "Table 2: adversarial examples transfer across models", "Some prose with a long word: fc100-100-10.")
        {
            Tables = [table],
            Figures = [new ReportFigure("table2-grid.png", "A grid", png)],
        };
        var environment = new ReportEnvironment(".NET 10", "0.107.0", "2.10.0", "Linux (X64)", 2, 2, 0, true, TimeSpan.FromSeconds(75),
            "intriguing reproduce --quick --out /a/very/long/path/that/goes/on/and/on/without/any/space/in/it/at/all", DateTimeOffset.UnixEpoch)
        {
            StudyWallTimes = [new StudyWallTime("table1", 12), new StudyWallTime("table2", 30)],
        };
        string page = Path.Combine(folder, "report.html");
        File.WriteAllText(page, HtmlReportWriter.Render(new Report("A report", environment, [section])));

        foreach (var check in HeadlessChromium.Check(page, [390, 1280], TimeSpan.FromSeconds(90)))
        {
            Assert.Empty(check.Errors);
            Assert.True(Assert.Single(check.Images).NaturalWidth > 0);
            Assert.True(check.ScrollWidth <= check.ViewportWidth, $"at {check.Width} px the page is {check.ScrollWidth} px wide");
            Assert.True(check.SmallestFontPixels >= 11, $"at {check.Width} px some text is {check.SmallestFontPixels} px");
        }
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
