using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using TorchSharp;

namespace Intriguing.Reporting;

/// <summary>
/// What someone needs to rerun or judge the numbers: software versions, machine, seed, settings, wall time.
/// Serialised under the "environment" key of report.json.
/// </summary>
/// <param name="DotnetVersion">The .NET runtime, e.g. ".NET 10.0.0".</param>
/// <param name="TorchSharpVersion">The TorchSharp assembly's informational version.</param>
/// <param name="LibTorchVersion">The native libtorch version TorchSharp reports (<c>torch.__version__</c>).</param>
/// <param name="OperatingSystem">OS description and architecture.</param>
/// <param name="CpuThreads">Logical processors seen by .NET.</param>
/// <param name="TorchThreads">Intra-op threads libtorch uses.</param>
/// <param name="Seed">The seed every random choice in the run derives from.</param>
/// <param name="Quick">Whether <c>--quick</c> (fewer epochs, fewer images) was used.</param>
/// <param name="WallTime">How long the whole run took.</param>
/// <param name="CommandLine">The command as typed, for rerunning.</param>
/// <param name="StartedUtc">When the run started.</param>
/// <param name="Device">Where models trained and attacks ran ("cpu", "cuda:0").</param>
/// <param name="Dataset">The dataset the run used.</param>
/// <param name="PeakMemoryBytes">
/// The process's peak resident memory (on Linux the kernel's high-water mark, VmHWM) when the report was written: the
/// most RAM the run needed at once, native libtorch buffers included.
/// </param>
public sealed record ReportEnvironment(
    string DotnetVersion,
    string TorchSharpVersion,
    string LibTorchVersion,
    string OperatingSystem,
    int CpuThreads,
    int TorchThreads,
    int Seed,
    bool Quick,
    [property: JsonIgnore] TimeSpan WallTime,
    string CommandLine,
    DateTimeOffset StartedUtc,
    string Device = "cpu",
    string Dataset = "mnist",
    long PeakMemoryBytes = 0)
{
    /// <summary>
    /// Null on MNIST; on any other dataset a warning that the paper's numbers printed beside ours were measured on
    /// MNIST, so the two are not like for like (report.json's <c>environment.datasetNote</c>; the views show it at the top).
    /// </summary>
    public string? DatasetNote => string.Equals(Dataset, "mnist", StringComparison.Ordinal)
        ? null
        : $"This run used {Dataset}, not MNIST. The paper's numbers beside ours are for MNIST, so the two columns measure different data: " +
          "compare our numbers across models and studies, not with the paper's.";

    /// <summary>
    /// Each study's wall time in this run, in report order (report.json's <c>environment.studyWallTimes</c>); a study read
    /// back from an earlier run took only the time to read it. Empty for a report not made by <c>reproduce</c>.
    /// </summary>
    public IReadOnlyList<StudyWallTime> StudyWallTimes { get; init; } = [];

    /// <summary>Wall time in seconds (report.json keeps numbers, not "hh:mm:ss" strings).</summary>
    public double WallTimeSeconds => Math.Round(WallTime.TotalSeconds, 3);

    /// <summary>Reads versions and machine facts from the running process and combines them with the run's settings.</summary>
    public static ReportEnvironment Capture(int seed, bool quick, TimeSpan wallTime, string commandLine, DateTimeOffset startedUtc,
        string device = "cpu", string dataset = "mnist") =>
        new(
            DotnetVersion: RuntimeInformation.FrameworkDescription,
            TorchSharpVersion: InformationalVersion(typeof(torch).Assembly),
            LibTorchVersion: torch.__version__,
            OperatingSystem: $"{RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})",
            CpuThreads: System.Environment.ProcessorCount,
            TorchThreads: torch.get_num_threads(),
            Seed: seed,
            Quick: quick,
            WallTime: wallTime,
            CommandLine: commandLine,
            StartedUtc: startedUtc,
            Device: device,
            Dataset: dataset,
            PeakMemoryBytes: PeakMemory());

    /// <summary>
    /// The process's peak resident memory so far, in bytes: <see cref="System.Diagnostics.Process.PeakWorkingSet64"/>
    /// (on Linux read from VmHWM in /proc/self/status, on Windows the peak working set); 0 where the platform has no such count.
    /// </summary>
    public static long PeakMemory()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return Math.Max(0, process.PeakWorkingSet64);
    }

    private static string InformationalVersion(Assembly assembly)
    {
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        // Drop the "+commit" suffix that SourceLink appends; the package version is what people look up.
        return informational?.Split('+')[0] ?? assembly.GetName().Version?.ToString() ?? "unknown";
    }
}

/// <summary>One study's wall time in a <c>reproduce</c> run (an entry of <see cref="ReportEnvironment.StudyWallTimes"/>).</summary>
/// <param name="Study">The study's section key ("table1", "attacks", ...).</param>
/// <param name="Seconds">Its wall time in this run, in seconds.</param>
/// <param name="Resumed">True when its section was read back from an earlier run instead of computed.</param>
/// <param name="Failed">True when the study failed in this run (its section says why).</param>
public sealed record StudyWallTime(string Study, double Seconds, bool Resumed = false, bool Failed = false);
