namespace Intriguing;

/// <summary>
/// Input that the library refuses: a corrupt file, a tensor of the wrong shape, a pixel outside [0,1],
/// an unknown model name. The message names the file or field and what was expected; the command line
/// turns it into exit code 2.
/// </summary>
public sealed class BadInputException : Exception
{
    /// <summary>Bad input, described by <paramref name="message"/>: which file or field, and what was expected.</summary>
    public BadInputException(string message) : base(message) { }

    /// <summary>Bad input described by <paramref name="message"/>, caused by <paramref name="inner"/> (a parser's error, say).</summary>
    public BadInputException(string message, Exception inner) : base(message, inner) { }
}
