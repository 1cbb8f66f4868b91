using Intriguing;
using Spectre.Console;

namespace Intriguing.Cli.Output;

/// <summary>
/// Draws the library's <see cref="ProgressUpdate"/>s as Spectre.Console progress bars, one bar per task name.
/// On a console that is not interactive it prints nothing live, so logs stay clean, unless the environment variable
/// <c>INTRIGUING_PROGRESS=lines</c> asks for plain lines (<see cref="LinesVariable"/>). Warnings are always printed,
/// one line each.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>
    /// Set to <c>lines</c>, a console that is not interactive gets one line per task as it starts and as it ends (and per
    /// step of tasks of at most 100 steps, such as epochs or studies): progress for logs, and marks a test can wait for.
    /// </summary>
    public const string LinesVariable = "INTRIGUING_PROGRESS";

    public static T Run<T>(IAnsiConsole console, Func<IProgress<ProgressUpdate>, T> work)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            bool lines = string.Equals(Environment.GetEnvironmentVariable(LinesVariable), "lines", StringComparison.OrdinalIgnoreCase);
            var shown = new Dictionary<string, (double Done, bool Ended)>();
            // Straight to the stream, not through the console's layout: a log line is never wrapped in the middle of a path.
            var log = console.Profile.Out.Writer;
            return work(new SynchronousProgress(update =>
            {
                if (update.IsWarning)
                {
                    log.WriteLine($"intriguing: warning: {update.Detail ?? update.Task}");
                }
                else if (lines)
                {
                    WriteLine(log, shown, update);
                }
            }));
        }
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var sink = new SynchronousProgress(update =>
                {
                    if (update.IsWarning)
                    {
                        console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(update.Detail ?? update.Task)}");
                        return;
                    }
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue(update.Task, out var task))
                        {
                            task = context.AddTask(Markup.Escape(update.Task), maxValue: Math.Max(update.Total, 1e-9));
                            tasks[update.Task] = task;
                        }
                        task.MaxValue = Math.Max(update.Total, 1e-9);
                        task.Value = Math.Min(update.Done, task.MaxValue);
                        task.Description = update.Detail is null ? Markup.Escape(update.Task) : $"{Markup.Escape(update.Task)} [grey]{Markup.Escape(update.Detail)}[/]";
                    }
                });
                result = work(sink);
                lock (tasks)
                {
                    foreach (var task in tasks.Values)
                    {
                        task.Value = task.MaxValue;
                    }
                }
            });
        return result;
    }

    /// <summary>A progress line when a task starts (or starts again), ends, or, with at most 100 steps, takes a step.</summary>
    private static void WriteLine(TextWriter log, Dictionary<string, (double Done, bool Ended)> shown, ProgressUpdate update)
    {
        bool ended = update.Total > 0 && update.Done >= update.Total;
        if (shown.TryGetValue(update.Task, out var last))
        {
            bool step = update.Total <= 100 && Math.Floor(update.Done) != Math.Floor(last.Done);
            bool again = last.Ended && !ended;
            if (last.Ended == ended && !step && !again)
            {
                return;
            }
        }
        shown[update.Task] = (update.Done, ended);
        string detail = update.Detail is null ? "" : $" ({update.Detail})";
        log.WriteLine(FormattableString.Invariant($"progress: {update.Task} {update.Done:0.###}/{update.Total:0.###}{detail}{(ended ? " done" : "")}"));
    }

    /// <summary>Unlike <see cref="Progress{T}"/>, reports on the caller's thread, in order.</summary>
    private sealed class SynchronousProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
