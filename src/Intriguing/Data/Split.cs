namespace Intriguing.Data;

/// <summary>
/// The parts of a dataset the paper uses. <see cref="P1"/> and <see cref="P2"/> are the two disjoint halves of
/// the training set (first and last 30,000 MNIST images) of the cross-training-set study, Tables 3 and 4.
/// </summary>
public enum Split
{
    Train,
    Test,
    P1,
    P2,
}

public static class SplitNames
{
    public static string Name(this Split split) => split.ToString().ToLowerInvariant();

    public static Split Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "train" => Split.Train,
        "test" => Split.Test,
        "p1" => Split.P1,
        "p2" => Split.P2,
        _ => throw new BadInputException($"unknown split '{text}': expected train, test, p1 or p2"),
    };
}
