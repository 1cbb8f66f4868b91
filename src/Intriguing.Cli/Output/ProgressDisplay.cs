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

    /// <summary>
    /// Runs <paramref name="work"/> with its progress drawn on <paramref name="console"/>. With <paramref name="groupPrefix"/>
    /// (e.g. <c>study </c>), a task whose name starts with it is a group: one line that stays, with its elapsed time (stopped
    /// when it ends), and the tasks reported while it runs show beneath it, indented, until it ends.
    /// </summary>
    public static T Run<T>(IAnsiConsole console, Func<IProgress<ProgressUpdate>, T> work, string? groupPrefix = null)
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
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                var board = new Board(context, groupPrefix);
                var sink = new SynchronousProgress(update =>
                {
                    if (update.IsWarning)
                    {
                        console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(update.Detail ?? update.Task)}");
                        return;
                    }
                    board.Show(update);
                });
                result = work(sink);
                board.Finish();
            });
        return result;
    }

    /// <summary>
    /// For <c>--quiet</c>: no progress at all; warnings still go to <paramref name="errors"/> (standard error), one line each.
    /// </summary>
    public static T Quiet<T>(TextWriter errors, Func<IProgress<ProgressUpdate>, T> work)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return work(new SynchronousProgress(update =>
        {
            if (update.IsWarning)
            {
                errors.WriteLine($"intriguing: warning: {update.Detail ?? update.Task}");
            }
        }));
    }

    /// <summary>
    /// The live rows: one per task name, in the order they started; with a group prefix, a group's inner rows sit beneath it
    /// and are removed when it ends, so a long run shows its groups and only the current group's work.
    /// </summary>
    private sealed class Board(ProgressContext context, string? groupPrefix)
    {
        private readonly Lock gate = new();
        private readonly Dictionary<string, ProgressTask> tasks = new(StringComparer.Ordinal);
        private readonly List<string> inner = [];
        private string? group;

        public void Show(ProgressUpdate update)
        {
            lock (gate)
            {
                bool isGroup = groupPrefix is not null && update.Task.StartsWith(groupPrefix, StringComparison.Ordinal);
                if (isGroup && !string.Equals(group, update.Task, StringComparison.Ordinal))
                {
                    EndGroup();
                    group = update.Task;
                }
                if (!tasks.TryGetValue(update.Task, out var task))
                {
                    task = context.AddTask(Markup.Escape(update.Task), maxValue: Math.Max(update.Total, 1e-9));
                    tasks[update.Task] = task;
                    if (!isGroup && group is not null)
                    {
                        inner.Add(update.Task);
                    }
                }
                task.MaxValue = Math.Max(update.Total, 1e-9);
                task.Value = Math.Min(update.Done, task.MaxValue);
                task.Description = Describe(update, isGroup);
                if (isGroup && task.Value >= task.MaxValue)
                {
                    // The group's line keeps its elapsed time; its inner rows go.
                    task.StopTask();
                    EndGroup();
                }
            }
        }

        /// <summary>Fills every bar that is still open, at the end of the work.</summary>
        public void Finish()
        {
            lock (gate)
            {
                EndGroup();
                foreach (var task in tasks.Values.Where(task => !task.IsFinished))
                {
                    task.Value = task.MaxValue;
                }
            }
        }

        private void EndGroup()
        {
            foreach (string name in inner)
            {
                if (tasks.Remove(name, out var task))
                {
                    context.RemoveTask(task);
                }
            }
            inner.Clear();
            group = null;
        }

        private string Describe(ProgressUpdate update, bool isGroup)
        {
            string name = isGroup ? $"[bold]{Markup.Escape(update.Task[groupPrefix!.Length..])}[/]" : Markup.Escape(update.Task);
            // A mark, not spaces: the description column drops leading whitespace.
            string indent = !isGroup && group is not null ? "[grey]└[/] " : "";
            return update.Detail is null ? indent + name : $"{indent}{name} [grey]{Markup.Escape(update.Detail)}[/]";
        }
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
