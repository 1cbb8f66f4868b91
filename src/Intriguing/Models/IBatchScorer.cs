namespace Intriguing.Models;

/// <summary>
/// A classifier that can score a batch straight from caller-owned memory into caller-owned memory, with no tensors and
/// no allocation per call. Score-only attacks that query a model thousands of times (Square) use it when the model
/// offers it and run their bookkeeping on plain arrays; the logits must be exactly those
/// <c>forward</c> gives for the same inputs, so both paths produce the same results.
/// </summary>
public interface IBatchScorer
{
    /// <summary>
    /// Logits of <paramref name="rows"/> inputs into <paramref name="logits"/> (the first rows * classes values,
    /// row after row): the same numbers <c>forward</c> gives for the same batch.
    /// </summary>
    /// <param name="inputs">The inputs in the model's declared space (pixels in [0,1] for images), flattened: the
    /// first rows * D values, row after row. Read only; the caller keeps it unchanged until the call returns.</param>
    /// <param name="rows">How many inputs, at least 0.</param>
    /// <param name="logits">Where the scores go, at least rows * classes values.</param>
    /// <exception cref="ArgumentException">A span shorter than <paramref name="rows"/> needs, or a negative count.</exception>
    /// <exception cref="BadInputException">The model fails on the inputs (for example it returns NaN).</exception>
    void Score(ReadOnlyMemory<float> inputs, int rows, Span<float> logits);
}
