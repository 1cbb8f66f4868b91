using Intriguing.Reporting;

namespace Intriguing.Tests.Reporting;

public class ReportEnvironmentTests
{
    [Fact]
    public void Capture_reads_versions_from_the_running_process()
    {
        var started = DateTimeOffset.UtcNow;

        ReportEnvironment environment = ReportEnvironment.Capture(seed: 7, quick: false, TimeSpan.FromMinutes(2), "./intriguing reproduce", started, "cpu", "mnist");

        Assert.StartsWith(".NET", environment.DotnetVersion);
        Assert.StartsWith("0.107", environment.TorchSharpVersion);
        Assert.Matches(@"^\d+\.\d+", environment.LibTorchVersion);
        Assert.True(environment.CpuThreads >= 1);
        Assert.True(environment.TorchThreads >= 1);
        Assert.Equal(7, environment.Seed);
        Assert.Equal(120.0, environment.WallTimeSeconds);
        Assert.Equal("cpu", environment.Device);
        Assert.Equal("mnist", environment.Dataset);
        Assert.True(environment.PeakMemoryBytes > 10_000_000, $"peak memory {environment.PeakMemoryBytes}");
    }
}

public class DatasetNoteTests
{
    [Fact]
    public void A_report_on_mnist_has_no_note_and_says_its_dataset()
    {
        var report = ReportSamples.TwoSections();

        Assert.Null(report.Environment.DatasetNote);
        string markdown = MarkdownReportWriter.Render(report);
        Assert.Contains("- **Dataset:** mnist (the paper's data)", markdown);
        Assert.DoesNotContain("**Note:**", markdown);
    }

    [Fact]
    public void A_report_on_other_data_says_the_papers_numbers_are_for_mnist_in_every_view()
    {
        var report = ReportSamples.TwoSections() with { Environment = ReportSamples.Environment() with { Dataset = "fashion-mnist" } };

        string note = report.Environment.DatasetNote!;
        Assert.StartsWith("This run used fashion-mnist, not MNIST. The paper's numbers beside ours are for MNIST", note);
        string markdown = MarkdownReportWriter.Render(report);
        Assert.Contains("- **Dataset:** fashion-mnist (the paper's numbers are for MNIST)", markdown);
        Assert.Contains("> **Note:** This run used fashion-mnist, not MNIST.", markdown);
        Assert.Contains("<strong>Note:</strong> This run used fashion-mnist, not MNIST.", HtmlReportWriter.Render(report));
        Assert.Contains("\"datasetNote\": \"This run used fashion-mnist", JsonReportWriter.Render(report));
    }
}
