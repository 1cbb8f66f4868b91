namespace Intriguing.Data;

/// <summary>
/// The parts of a dataset the paper uses. <see cref="P1"/> and <see cref="P2"/> are the two disjoint halves of
/// the training set (first and last 30,000 MNIST images) of the cross-training-set study, Tables 3 and 4.
/// </summary>
public enum Split
{
    /// <summary>The whole training set (60,000 MNIST images).</summary>
    Train,
    /// <summary>The test set (10,000 MNIST images).</summary>
    Test,
    /// <summary>The first half of the training set (30,000).</summary>
    P1,
    /// <summary>The second half of the training set (30,000).</summary>
    P2,
}

/// <summary>The splits' command-line names: "train", "test", "p1", "p2".</summary>
public static class SplitNames
{
    /// <summary>The command-line name of <paramref name="split"/>, lower case.</summary>
    public static string Name(this Split split) => split.ToString().ToLowerInvariant();

    /// <summary>The split named <paramref name="text"/> (any case, surrounding spaces ignored).</summary>
    /// <exception cref="BadInputException">Any other name.</exception>
    public static Split Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "train" => Split.Train,
        "test" => Split.Test,
        "p1" => Split.P1,
        "p2" => Split.P2,
        _ => throw new BadInputException($"unknown split '{text}': expected train, test, p1 or p2"),
    };
}
