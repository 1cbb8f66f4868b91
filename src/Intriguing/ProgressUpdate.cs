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
    public bool IsWarning { get; init; }

    /// <summary>A warning about <paramref name="task"/>: <paramref name="message"/> names the file or setting and what was wrong.</summary>
    public static ProgressUpdate Warning(string task, string message) => new(task, 0, 0, message) { IsWarning = true };
}
