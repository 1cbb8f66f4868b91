namespace Intriguing;

/// <summary>
/// How long-running library work says how far it got, without printing anything itself:
/// <paramref name="Task"/> names the work ("download train-images", "train fc100-100-10"),
/// <paramref name="Done"/> of <paramref name="Total"/> units are finished, <paramref name="Detail"/> is optional text
/// (a loss, an error rate).
/// </summary>
public readonly record struct ProgressUpdate(string Task, double Done, double Total, string? Detail = null);
