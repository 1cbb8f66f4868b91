using System.Diagnostics;
using System.Text;
using Intriguing.Cli.Output;
using Intriguing.IO;

namespace Intriguing.Cli.Tests;

/// <summary>
/// The command line as a real child process (<c>dotnet Intriguing.Cli.dll …</c>, the build next to the tests), for what
/// an in-process run cannot show: two processes sharing one cache, and a process killed with SIGKILL in the middle of its
/// work. Both streams are captured as they come. The child prints a progress line per task as it starts and ends, and
/// per step of tasks of at most 100 steps (<c>INTRIGUING_PROGRESS=lines</c>), on standard error under <c>--json</c>: e.g.
/// <c>progress: attack lbfgs 50/600</c>, <c>progress: studies 2/8 (table3)</c>, or per epoch
/// <c>progress: train fc100-100-10 (train, seed 0) 2/12 (…)</c>. So a test waits for a moment of the run and kills it there:
/// <code>
/// using (var child = CliProcess.Start(home, "train", "--model", "fc100-100-10", "--epochs", "12", "--data-dir", mnist, "--json"))
/// {
///     Assert.True(child.WaitForStandardError("progress: train fc100-100-10 (train, seed 0) 2/", TimeSpan.FromMinutes(2)), child.StandardError);
///     child.Kill();
/// }
/// var rerun = CliProcess.Run(home, ["train", …]);            // or CliRun.Of in-process
/// Assert.Empty(CliProcess.Temporaries(home));
/// </code>
/// <see cref="WaitFor"/> takes any condition instead (a file or folder appearing).
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder standardOutput = new();
    private readonly StringBuilder standardError = new();
    private readonly Lock gate = new();

    private CliProcess(Process process) => this.process = process;

    /// <summary>The command line's assembly, built beside the tests.</summary>
    public static string Assembly => Path.Combine(AppContext.BaseDirectory, "Intriguing.Cli.dll");

    public string StandardError
    {
        get
        {
            lock (gate)
            {
                return standardError.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    /// <summary>Starts the command line with <c>$INTRIGUING_HOME</c> at <paramref name="home"/> and progress lines on.</summary>
    public static CliProcess Start(string home, params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Assembly);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment[IntriguingHome.EnvironmentVariable] = home;
        start.Environment[ProgressDisplay.LinesVariable] = "lines";
        var process = new Process { StartInfo = start };
        var child = new CliProcess(process);
        process.OutputDataReceived += (_, line) => child.Append(child.standardOutput, line.Data);
        process.ErrorDataReceived += (_, line) => child.Append(child.standardError, line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs the command line to its end (at most <paramref name="timeout"/>, default 5 minutes) and returns what it printed.</summary>
    public static CliRun Run(string home, string[] arguments, TimeSpan? timeout = null)
    {
        using var child = Start(home, arguments);
        return child.WaitForExit(timeout ?? TimeSpan.FromMinutes(5));
    }

    /// <summary>Waits until standard error holds <paramref name="marker"/>; false when the child ended or time ran out first.</summary>
    public bool WaitForStandardError(string marker, TimeSpan timeout) => WaitFor(() => StandardError.Contains(marker, StringComparison.Ordinal), timeout);

    /// <summary>Waits until <paramref name="condition"/> holds (a file appears, say), polling every 10 ms; false when the child ended or time ran out first.</summary>
    public bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition())
            {
                return true;
            }
            if (process.HasExited)
            {
                process.WaitForExit();
                return condition();
            }
            Thread.Sleep(10);
        }
        return false;
    }

    /// <summary>SIGKILL (on Unix <see cref="Process.Kill()"/> sends it): no handler runs, as in a crash or an out-of-memory kill.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
    }

    /// <summary>Waits for the end (killing the child after <paramref name="timeout"/>) and returns its exit code and streams.</summary>
    public CliRun WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            Kill();
            throw new TimeoutException($"the command line did not finish in {timeout}: {StandardError}");
        }
        process.WaitForExit(); // lets the stream readers reach the end
        lock (gate)
        {
            return new CliRun(process.ExitCode, standardOutput.ToString(), standardError.ToString());
        }
    }

    /// <summary>
    /// The temporaries of <see cref="AtomicFile"/> (<c>.&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.tmp</c>) anywhere under
    /// <paramref name="folder"/>: what a killed writer leaves and the next write of the same file must remove.
    /// </summary>
    public static IReadOnlyList<string> Temporaries(string folder) =>
        Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*" + AtomicFile.TemporarySuffix, new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            : [];

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }

    private void Append(StringBuilder stream, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (gate)
        {
            stream.AppendLine(line);
        }
    }

    /// <summary>The dotnet host running these tests (so the child uses the same runtime), else the one on the PATH.</summary>
    private static string DotnetHost()
    {
        string? host = Environment.ProcessPath;
        return host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
    }
}
