using System.Globalization;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// The box of valid inputs of a model, one interval [lower_i, upper_i] per input value (flattened), infinite bounds
/// allowed: [0,1] for image pixels (the paper's box constraint x + r in [0,1]^m), [0, inf) for a ReLU layer's
/// activations, (-inf, inf) for an unbounded input. Attacks project onto it and never hand out a point outside it.
/// </summary>
public sealed class InputBox : IEquatable<InputBox>
{
    private readonly float[] lower;
    private readonly float[] upper;

    private InputBox(float[] lower, float[] upper)
    {
        if (lower.Length != upper.Length || lower.Length == 0)
        {
            throw new BadInputException($"input box: need as many lower as upper bounds (at least one); got {lower.Length} and {upper.Length}");
        }
        for (int i = 0; i < lower.Length; i++)
        {
            if (float.IsNaN(lower[i]) || float.IsNaN(upper[i]) || lower[i] > upper[i] || float.IsPositiveInfinity(lower[i]) || float.IsNegativeInfinity(upper[i]))
            {
                throw new BadInputException($"input box: value {i} has bounds [{lower[i]}, {upper[i]}]; expected lower <= upper, no NaN");
            }
        }
        this.lower = lower;
        this.upper = upper;
        IsUniform = lower.All(value => value == lower[0]) && upper.All(value => value == upper[0]);
        IsFinite = lower.All(float.IsFinite) && upper.All(float.IsFinite);
    }

    /// <summary>The same interval [<paramref name="lowerBound"/>, <paramref name="upperBound"/>] for each of <paramref name="features"/> values.</summary>
    public static InputBox Uniform(float lowerBound, float upperBound, int features) =>
        new(Enumerable.Repeat(lowerBound, features).ToArray(), Enumerable.Repeat(upperBound, features).ToArray());

    /// <summary>One interval per value.</summary>
    public static InputBox PerValue(IReadOnlyList<float> lowerBounds, IReadOnlyList<float> upperBounds) =>
        new([.. lowerBounds], [.. upperBounds]);

    /// <summary>How many values the box bounds (the model's flattened input size D).</summary>
    public int Features => lower.Length;

    /// <summary>True when every value has the same interval (a scalar clamp does).</summary>
    public bool IsUniform { get; }

    /// <summary>True when no bound is infinite.</summary>
    public bool IsFinite { get; }

    /// <summary>The lower bound of each value, [D]; may be negative infinity.</summary>
    public ReadOnlySpan<float> Lower => lower;

    /// <summary>The upper bound of each value, [D]; may be positive infinity.</summary>
    public ReadOnlySpan<float> Upper => upper;

    /// <summary>True for [0,1] on every value: the pixel box of images.</summary>
    public bool IsUnitInterval => IsUniform && lower[0] == 0f && upper[0] == 1f;

    /// <summary>Projects float [N, D] onto the box (a new tensor).</summary>
    public Tensor Clamp(Tensor flat)
    {
        if (IsUniform)
        {
            return flat.clamp(lower[0], upper[0]);
        }
        using var low = tensor(lower).to(flat.device).to_type(flat.dtype);
        using var high = tensor(upper).to(flat.device).to_type(flat.dtype);
        return flat.clamp(low, high);
    }

    /// <summary>Lower and upper bounds as float [D] tensors on <paramref name="device"/>.</summary>
    public (Tensor Lower, Tensor Upper) Tensors(Device device) => (tensor(lower).to(device), tensor(upper).to(device));

    /// <summary>
    /// Throws unless every value of float [N, D] <paramref name="flat"/> lies in the box; the message names
    /// <paramref name="field"/> and the first value outside it. (One read back to the host.)
    /// </summary>
    public void CheckContains(Tensor flat, string field)
    {
        using var scope = NewDisposeScope();
        var (low, high) = Tensors(flat.device);
        var outside = flat.lt(low.to_type(flat.dtype)).logical_or(flat.gt(high.to_type(flat.dtype)));
        if (outside.any().item<bool>())
        {
            long position = outside.flatten().nonzero()[0, 0].item<long>();
            long row = position / Features, column = position % Features;
            float value = flat[row, column].item<float>();
            throw new BadInputException(
                $"{field}: value {column} of row {row} is {value.ToString(CultureInfo.InvariantCulture)}, outside the model's input box " +
                $"[{Format(lower[column])}, {Format(upper[column])}]{(IsUniform ? "" : " for that value")}");
        }
    }

    /// <summary>"[0, 1]" for a uniform box, "per-value bounds" otherwise (for messages and settings).</summary>
    public override string ToString() => IsUniform ? $"[{Format(lower[0])}, {Format(upper[0])}]" : "per-value bounds";

    /// <summary>True when both boxes have exactly the same bounds.</summary>
    public bool Equals(InputBox? other) =>
        other is not null && lower.AsSpan().SequenceEqual(other.lower) && upper.AsSpan().SequenceEqual(other.upper);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as InputBox);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Features, lower[0], upper[0], lower[^1], upper[^1]);

    private static string Format(float bound) =>
        float.IsPositiveInfinity(bound) ? "inf" : float.IsNegativeInfinity(bound) ? "-inf" : bound.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// What a model takes and gives: the shape of one input (e.g. [1, 28, 28] for an MNIST digit, [3, 8, 8] for a small
/// colour image, [100] for a hidden layer's activations), the number of classes, and the box of valid inputs.
/// Attacks, criteria and distances work on inputs flattened to [N, D], D = the product of <see cref="Shape"/>, and
/// models accept either [N, D] or [N, ...Shape].
/// </summary>
public sealed record InputSpace
{
    /// <summary>
    /// Inputs of <paramref name="shape"/> (one input, e.g. [1, 28, 28]) with <paramref name="classCount"/> classes,
    /// each value inside <paramref name="box"/>.
    /// </summary>
    /// <exception cref="BadInputException">An empty shape or a size below 1, fewer than 2 classes, or a box of another size than the shape.</exception>
    public InputSpace(long[] shape, int classCount, InputBox box)
    {
        if (shape.Length == 0 || shape.Any(size => size < 1))
        {
            throw new BadInputException($"input shape must have at least one dimension, each >= 1; got [{string.Join(", ", shape)}]");
        }
        if (classCount < 2)
        {
            throw new BadInputException($"a classifier needs at least 2 classes; got {classCount}");
        }
        long features = shape.Aggregate(1L, (product, size) => product * size);
        if (features != box.Features)
        {
            throw new BadInputException($"input box bounds {box.Features} values but shape [{string.Join(", ", shape)}] has {features}");
        }
        Shape = shape;
        ClassCount = classCount;
        Box = box;
    }

    /// <summary>MNIST and Fashion-MNIST: 28x28 grey pixels in [0,1], 10 classes (the paper's zoo).</summary>
    public static InputSpace Mnist { get; } = Images(1, 28, 28, 10);

    /// <summary>Images of <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/> pixels in [0,1].</summary>
    public static InputSpace Images(int channels, int height, int width, int classCount) =>
        new([channels, height, width], classCount, InputBox.Uniform(0f, 1f, channels * height * width));

    /// <summary>The shape of one input.</summary>
    public long[] Shape { get; }

    /// <summary>K, the number of classes (the logits' width).</summary>
    public int ClassCount { get; }

    /// <summary>The box of valid values, one interval per flattened value.</summary>
    public InputBox Box { get; }

    /// <summary>D: values per input once flattened.</summary>
    public int Features => Box.Features;

    /// <summary>[batch, ...Shape], for reshaping a flat batch.</summary>
    public long[] BatchShape(long batch) => [batch, .. Shape];

    /// <summary>Grey or colour images (shape [1 or 3, H, W]) in [0,1]: what PNG figures and 8-bit rounding apply to.</summary>
    public bool IsImage => Shape.Length == 3 && Shape[0] is 1 or 3 && Box.IsUnitInterval;

    /// <summary>"[1, 28, 28] in [0, 1], 10 classes".</summary>
    public string Describe() => $"[{string.Join(", ", Shape)}] in {Box}, {ClassCount} classes";

    /// <summary>True for the same shape, class count and box.</summary>
    public bool Equals(InputSpace? other) =>
        other is not null && Shape.AsSpan().SequenceEqual(other.Shape) && ClassCount == other.ClassCount && Box.Equals(other.Box);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Shape.Length, Features, ClassCount, Box);
}
