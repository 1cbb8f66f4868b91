using Intriguing;
using Spectre.Console;

namespace Intriguing.Cli.Output;

/// <summary>
/// Draws the library's <see cref="ProgressUpdate"/>s as Spectre.Console progress bars, one bar per task name.
/// On a console that is not interactive it prints nothing live, so logs stay clean. Warnings are always printed,
/// one line each.
/// </summary>
public static class ProgressDisplay
{
    public static T Run<T>(IAnsiConsole console, Func<IProgress<ProgressUpdate>, T> work)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return work(new SynchronousProgress(update =>
            {
                if (update.IsWarning)
                {
                    console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(update.Detail ?? update.Task)}");
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

    /// <summary>Unlike <see cref="Progress{T}"/>, reports on the caller's thread, in order.</summary>
    private sealed class SynchronousProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
