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
        Assert.Empty(environment.StudyWallTimes);
    }

    [Fact]
    public void Peak_memory_is_the_kernels_high_water_mark_of_resident_memory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // VmHWM is Linux's; elsewhere .NET reads the platform's own peak working set.
        }
        long before = VmHwmBytes();
        long peak = ReportEnvironment.PeakMemory();
        long after = VmHwmBytes();

        // The kernel's resident-set counters are per-CPU approximations, so two readings of VmHWM can disagree by a few
        // pages (CI once saw the peak one 4 KiB page below the earlier reading); a wrong source (VmPeak's virtual size,
        // zero) is off by far more than a megabyte.
        const long Slack = 1 << 20;
        Assert.InRange(peak, before - Slack, after + Slack);
    }

    [Fact]
    public void Every_view_shows_the_wall_time_per_study_the_device_and_the_peak_memory()
    {
        var report = ReportSamples.TwoSections() with
        {
            Environment = ReportSamples.Environment() with
            {
                Device = "cuda:0",
                PeakMemoryBytes = 1_610_612_736,
                StudyWallTimes = [new StudyWallTime("table1", 12.34), new StudyWallTime("table3", 0.08, Resumed: true), new StudyWallTime("units", 125, Failed: true)],
            },
        };

        string markdown = MarkdownReportWriter.Render(report);
        Assert.Contains("- **Wall time:** 1 min 16 s", markdown);
        Assert.Contains("- **Wall time per study:** table1 12.3 s, table3 80 ms (read back), units 2 min 05 s (failed)", markdown);
        Assert.Contains("- **Device:** cuda:0", markdown);
        Assert.Contains("- **Peak memory:** 1.50 GiB", markdown);
        Assert.Contains("- **Seed:** 42", markdown);
        Assert.Contains("2 CPU threads (libtorch uses 2)", markdown);
        string html = HtmlReportWriter.Render(report);
        Assert.Contains("<dt>Wall time per study</dt><dd>table1 12.3 s, table3 80 ms (read back), units 2 min 05 s (failed)</dd>", html);
        Assert.Contains("<dt>Peak memory</dt><dd>1.50 GiB</dd>", html);
        var environment = JsonReportWriter.ToJson(report)["environment"]!;
        Assert.Equal(1_610_612_736, environment["peakMemoryBytes"]!.GetValue<long>());
        Assert.Equal(75.5, environment["wallTimeSeconds"]!.GetValue<double>());
        var studies = environment["studyWallTimes"]!.AsArray();
        Assert.Equal("""{"study":"table3","seconds":0.08,"resumed":true,"failed":false}""", studies[1]!.ToJsonString());
    }

    private static long VmHwmBytes()
    {
        string line = File.ReadLines("/proc/self/status").Single(line => line.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
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
