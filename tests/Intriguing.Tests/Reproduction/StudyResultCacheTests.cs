using System.Text.Json.Nodes;
using Intriguing.Reporting;
using Intriguing.Reproduction;

namespace Intriguing.Tests.Reproduction;

public class StudyResultCacheTests
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

    private static ReportSection Section() => new("table1", "Table 1", "prose **bold**")
    {
        Tables = [new ReportTable("caption", ["model", ReportCell.Ours("ours")], [["fc10-1e-4", ReportCell.Paper("7.40%")]])],
        Figures = [new ReportFigure("a.png", "a figure", Png)],
        Data = new { models = new[] { new { model = "fc10-1e-4", testError = 0.0767 } } },
    };

    [Fact]
    public void A_stored_section_reads_back_with_tables_figures_and_data()
    {
        var cache = new StudyResultCache(Path.Combine(Path.GetTempPath(), "intriguing-cache-" + Guid.NewGuid().ToString("N")));
        cache.Store("fingerprint", Section());

        var loaded = cache.TryLoad("table1", "fingerprint");

        Assert.NotNull(loaded);
        Assert.Equal("prose **bold**", loaded.Prose);
        Assert.Equal(CellKind.Paper, loaded.Tables[0].Rows[0][1].Kind);
        Assert.Equal(Png, loaded.Figures[0].Png);
        var data = Assert.IsAssignableFrom<JsonNode>(loaded.Data);
        Assert.Equal(0.0767, data["models"]![0]!["testError"]!.GetValue<double>());
        Directory.Delete(cache.Folder, recursive: true);
    }

    [Fact]
    public void Other_settings_or_a_damaged_file_mean_the_study_runs_again()
    {
        var cache = new StudyResultCache(Path.Combine(Path.GetTempPath(), "intriguing-cache-" + Guid.NewGuid().ToString("N")));
        cache.Store("seed=0", Section());
        Assert.Null(cache.TryLoad("table1", "seed=1"));

        string damaged = Assert.Single(Directory.GetFiles(cache.Folder));
        File.WriteAllText(damaged, "{ not json");
        var warnings = new List<string>();
        Assert.Null(cache.TryLoad("table1", "seed=0", new Warnings(warnings)));
        // Not read as "nothing kept" in silence: the file is named, and why it is not used.
        var warning = Assert.Single(warnings);
        Assert.Contains(damaged, warning);
        Assert.Contains("running the study table1 again", warning);
        Directory.Delete(cache.Folder, recursive: true);
    }

    private sealed class Warnings(List<string> messages) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value)
        {
            if (value.IsWarning)
            {
                messages.Add(value.Detail!);
            }
        }
    }
}
