namespace Intriguing;

/// <summary>
/// How long-running library work says how far it got, without printing anything itself:
/// <paramref name="Task"/> names the work ("download train-images", "train fc100-100-10"),
/// <paramref name="Done"/> of <paramref name="Total"/> units are finished, <paramref name="Detail"/> is optional text
/// (a loss, an error rate). A warning (<see cref="IsWarning"/>) is something the user should read even though the work
/// goes on: a cached file that could not be used, say; its <see cref="Detail"/> is the message.
/// </summary>
public readonly record struct ProgressUpdate(string Task, double Done, double Total, string? Detail = null)
{
    /// <summary>True for a warning the user should read; <see cref="Detail"/> holds the message.</summary>
    public bool IsWarning { get; init; }

    /// <summary>A warning about <paramref name="task"/>: <paramref name="message"/> names the file or setting and what was wrong.</summary>
    public static ProgressUpdate Warning(string task, string message) => new(task, 0, 0, message) { IsWarning = true };
}

/// <summary>Helpers for passing a caller's progress sink into a part of the work.</summary>
public static class ProgressSinks
{
    /// <summary>
    /// A sink that reports to <paramref name="progress"/> at once (on the caller's thread, in order) with every update's
    /// task renamed to <paramref name="task"/>; null when <paramref name="progress"/> is null.
    /// </summary>
    public static IProgress<ProgressUpdate>? Renamed(this IProgress<ProgressUpdate>? progress, string task) =>
        progress is null ? null : new Synchronous(update => progress.Report(update with { Task = task }));

    private sealed class Synchronous(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
