using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Intriguing.Reporting;

namespace Intriguing.Tests.Reporting;

public class ReportWriterTests
{
    [Fact]
    public void WriteAll_writes_markdown_html_json_and_figures_and_nothing_else()
    {
        string outDir = ReportSamples.TemporaryFolder();
        try
        {
            ReportFiles files = ReportWriter.WriteAll(ReportSamples.TwoSections(), outDir);

            string[] written = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories)
                .Select(path => Path.GetRelativePath(outDir, path).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .ToArray();
            // No temporaries left behind by the atomic writes.
            Assert.Equal(["figures/table1-errors.png", "report.html", "report.json", "report.md"], written);
            Assert.Equal(Path.Combine(outDir, "report.md"), files.Markdown);
            Assert.Single(files.Figures);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void WriteAll_overwrites_an_earlier_report_in_place()
    {
        string outDir = ReportSamples.TemporaryFolder();
        try
        {
            ReportWriter.WriteAll(ReportSamples.TwoSections("first caption"), outDir);
            ReportWriter.WriteAll(ReportSamples.TwoSections("second caption"), outDir);

            Assert.Contains("second caption", File.ReadAllText(Path.Combine(outDir, "report.md")));
            Assert.DoesNotContain(Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories), path => path.EndsWith(".tmp", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Json_has_environment_claims_and_one_camel_case_key_per_section()
    {
        string text = JsonReportWriter.Render(ReportSamples.TwoSections());
        JsonObject json = JsonNode.Parse(text)!.AsObject();

        Assert.Contains("\"startedUtc\": \"2026-01-02T03:04:05+00:00\"", text);
        Assert.Equal(["environment", "claims", "table1", "attacks"], json.Select(property => property.Key).ToArray());
        JsonObject environment = json["environment"]!.AsObject();
        Assert.Equal(42, (int)environment["seed"]!);
        Assert.Equal(75.5, (double)environment["wallTimeSeconds"]!);
        Assert.True((bool)environment["quick"]!);
        Assert.Equal("2.10.0", (string?)environment["libTorchVersion"]);
        Assert.False(environment.ContainsKey("wallTime"));
        Assert.Equal(0.071, (double)json["table1"]![0]!["testError"]!);
        Assert.Equal(0.9, (double)json["attacks"]!["fgsmErrorRate"]!);
    }

    [Fact]
    public void Json_writes_not_a_number_instead_of_failing()
    {
        Report report = ReportSamples.TwoSections() with
        {
            Sections = [new ReportSection("table3", "Table 3", "") { Data = new { minDistortion = double.NaN } }],
        };

        JsonObject json = JsonNode.Parse(JsonReportWriter.Render(report))!.AsObject();

        Assert.Equal("NaN", json["table3"]!["minDistortion"]!.ToJsonString().Trim('"'));
    }

    [Fact]
    public void Html_is_self_contained_and_embeds_the_figure()
    {
        Report report = ReportSamples.TwoSections();

        string html = HtmlReportWriter.Render(report);

        Assert.DoesNotMatch(new Regex(@"(src|href)\s*=\s*[""']?\s*(https?:)?//", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("data:image/png;base64," + Convert.ToBase64String(report.Sections[0].Figures[0].Png), html);
        Assert.Contains("<td class=\"ours\">7.10%</td><td class=\"paper\">7.40%</td>", html);
        Assert.Contains("<section id=\"attacks\">", html);
        Assert.Contains("<strong>Ours</strong> beside <em>theirs</em> with <code>--quick</code>", html);
    }

    [Fact]
    public void Html_table_cells_wrap_between_a_number_its_interval_and_the_papers_value_never_inside_them()
    {
        var table = new ReportTable("", ["examples made for", ReportCell.Ours("fc100-100-10")],
            [["Gaussian noise, stddev 0.1", ReportCell.Ours("63.7% [52.8%, 73.4%] (paper 71.9%)")], ["a <b>", "x&y"]]);
        var report = ReportSamples.TwoSections() with { Sections = [new ReportSection("table2", "Table 2", "") { Tables = [table] }] };

        string html = HtmlReportWriter.Render(report);

        Assert.Contains("<th class=\"ours\"><span class=\"nw\">fc100-100-10</span></th>", html);
        Assert.Contains("<td class=\"ours\">63.7% <span class=\"nw\">[52.8%, 73.4%]</span> <span class=\"nw\">(paper 71.9%)</span></td>", html);
        Assert.Contains("<td>Gaussian noise, stddev 0.1</td>", html);
        Assert.Contains("<td>a &lt;b&gt;</td><td>x&amp;y</td>", html);
    }

    [Fact]
    public void Markdown_has_a_pipe_table_and_a_relative_figure_link()
    {
        string markdown = MarkdownReportWriter.Render(ReportSamples.TwoSections());

        Assert.Contains("| model | test error | paper |", markdown);
        Assert.Contains("|---|---:|---:|", markdown);
        Assert.Contains("| FC100-100-10 | 1.71% | 1.64% |", markdown);
        Assert.Contains("](figures/table1-errors.png)", markdown);
        Assert.Contains("## Attacks", markdown);
        Assert.Contains("1 min 16 s", markdown);
    }

    [Fact]
    public void Text_is_escaped_in_html_and_markdown()
    {
        Report report = ReportSamples.TwoSections("<script>alert('x')</script> & more", proseExtra: " <img src=x onerror=alert(1)>");

        string html = HtmlReportWriter.Render(report);
        string markdown = MarkdownReportWriter.Render(report);

        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("<img src=x", html);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more", html);
        Assert.DoesNotContain("<script>", markdown);
        Assert.DoesNotContain("<img", markdown);
    }

    [Fact]
    public void Markdown_cells_keep_pipes_from_splitting_the_row()
    {
        Report report = ReportSamples.TwoSections() with
        {
            Sections = [new ReportSection("table1", "T", "") { Tables = [new ReportTable("c", ["a|b"], [["x\ny"]])] }],
        };

        string markdown = MarkdownReportWriter.Render(report);

        Assert.Contains("| a\\|b |", markdown);
        Assert.Contains("| x y |", markdown);
    }
}
