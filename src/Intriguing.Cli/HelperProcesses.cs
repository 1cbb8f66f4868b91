using System.Diagnostics;
using System.Reflection;

namespace Intriguing.Cli;

/// <summary>
/// The helper processes of <c>reproduce --workers N</c>: N - 1 copies of this program, each running
/// <c>reproduce --train-arms ...</c> on its share of the single-threaded adversarial-training arms while the main process
/// runs the adversarial-training study on the other core. Each arm is trained under its own lock and cached with its evaluation, so the
/// study reads back what a helper made (the same numbers: same code, seed and thread settings) or waits for it. A helper's
/// output goes to a log file; a helper that fails only costs time, as the study then trains the arm itself.
/// </summary>
internal sealed class HelperProcesses : IDisposable
{
    private readonly List<(Process Process, Task Drain, string Log)> helpers = [];

    private HelperProcesses()
    {
    }

    /// <summary>The log files, one per helper.</summary>
    public IReadOnlyList<string> Logs => [.. helpers.Select(helper => helper.Log)];

    /// <summary>
    /// Starts one helper per share of <paramref name="arms"/> (<paramref name="workers"/> - 1 of them, each taking every
    /// (workers - 1)-th arm), with <paramref name="commonArguments"/> (seed, data and mode options) and logs in
    /// <paramref name="logFolder"/>. No arms or one worker: none.
    /// </summary>
    public static HelperProcesses Start(int workers, IReadOnlyList<string> arms, IReadOnlyList<string> commonArguments, string logFolder)
    {
        var started = new HelperProcesses();
        int helperCount = Math.Min(workers - 1, arms.Count);
        if (helperCount < 1)
        {
            return started;
        }
        Directory.CreateDirectory(logFolder);
        for (int helper = 0; helper < helperCount; helper++)
        {
            var share = arms.Where((_, index) => index % helperCount == helper).ToList();
            var info = SelfStartInfo();
            foreach (var argument in new[] { "reproduce", "--train-arms", string.Join(',', share), "--quiet", "--workers", "1" }.Concat(commonArguments))
            {
                info.ArgumentList.Add(argument);
            }
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.UseShellExecute = false;
            string log = Path.Combine(logFolder, $"helper-{helper + 1}.log");
            var process = Process.Start(info) ?? throw new IOException("could not start a helper process of reproduce");
            started.helpers.Add((process, Drain(process, log), log));
        }
        return started;
    }

    /// <summary>Waits for every helper; the exit code and log of each that failed.</summary>
    public IReadOnlyList<string> WaitForAll()
    {
        var failures = new List<string>();
        foreach (var (process, drain, log) in helpers)
        {
            process.WaitForExit();
            drain.Wait();
            if (process.ExitCode != 0)
            {
                failures.Add($"a helper process exited with code {process.ExitCode} (log: {log}); the run trained its arms itself");
            }
        }
        return failures;
    }

    /// <summary>Stops helpers still running (the main run failed or was interrupted).</summary>
    public void Dispose()
    {
        foreach (var (process, _, _) in helpers)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            process.Dispose();
        }
    }

    /// <summary>How to start this very program again: the apphost itself, or <c>dotnet</c> with this assembly.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        string host = Environment.ProcessPath ?? throw new IOException("cannot tell which program is running, so no helper process can be started");
        var info = new ProcessStartInfo(host);
        if (string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location ?? typeof(HelperProcesses).Assembly.Location);
        }
        return info;
    }

    private static Task Drain(Process process, string log) => Task.Run(async () =>
    {
        await using var writer = new StreamWriter(log, append: false);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await writer.WriteAsync(await errors.ConfigureAwait(false)).ConfigureAwait(false);
        await writer.WriteAsync(await output.ConfigureAwait(false)).ConfigureAwait(false);
    });
}
