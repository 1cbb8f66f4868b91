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
