using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The checks on an attack's inputs, against the model's declared <see cref="InputSpace"/>. <see cref="CheckShapes"/>
/// reads nothing back from the device (the batch API runs it on every batch); <see cref="Check"/> adds the value
/// checks of <see cref="Attack.Run"/>: finite inputs inside the model's box, classes in range, targets different
/// from their labels. Each failure says which field and what was expected.
/// </summary>
internal static class AttackInputs
{
    public sealed record Checked(Tensor Inputs, Tensor Labels, Tensor? Targets);

    /// <summary>Shapes and types only: inputs [N, D] or [N, ...shape] float32 with N >= 1, labels and targets [N] integers.</summary>
    public static Checked CheckShapes(InputSpace space, Tensor inputs, Tensor labels, Tensor? targets)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        bool flat = inputs.dim() == 2 && inputs.shape[1] == space.Features;
        bool shaped = inputs.dim() == space.Shape.Length + 1 && inputs.shape.AsSpan(1).SequenceEqual(space.Shape);
        if ((!flat && !shaped) || inputs.shape[0] == 0)
        {
            throw new BadInputException(
                $"inputs: expected [N, {space.Features}] or [N, {string.Join(", ", space.Shape)}] with N >= 1 (the model's input); got [{string.Join(", ", inputs.shape)}]");
        }
        if (inputs.dtype != ScalarType.Float32)
        {
            throw new BadInputException($"inputs: expected float32 values; got {inputs.dtype}");
        }
        long count = inputs.shape[0];
        var checkedLabels = CheckClassShape("labels", labels, count);
        var checkedTargets = targets is null ? null : CheckClassShape("targets", targets, count);
        return new Checked(inputs.detach().reshape(count, space.Features), checkedLabels, checkedTargets);
    }

    /// <summary>Shapes, then values: finite, inside the box; classes 0..K-1; targets unlike their labels.</summary>
    public static Checked Check(InputSpace space, Tensor inputs, Tensor labels, Tensor? targets)
    {
        var shaped = CheckShapes(space, inputs, labels, targets);
        if (!shaped.Inputs.isfinite().all().item<bool>())
        {
            throw new BadInputException($"inputs: contain NaN or infinite values; expected finite values in {space.Box}");
        }
        space.Box.CheckContains(shaped.Inputs, "inputs");
        CheckClassRange("labels", shaped.Labels, space.ClassCount);
        if (shaped.Targets is not null)
        {
            CheckClassRange("targets", shaped.Targets, space.ClassCount);
            var equal = shaped.Targets.eq(shaped.Labels);
            long equalCount = equal.sum().item<long>();
            if (equalCount > 0)
            {
                long first = equal.nonzero()[0, 0].item<long>();
                throw new BadInputException(
                    $"targets: {equalCount} target(s) equal their true label (first at input {first}); a target must be a different class");
            }
        }
        return shaped;
    }

    private static Tensor CheckClassShape(string field, Tensor classes, long count)
    {
        if (classes.dim() != 1 || classes.shape[0] != count)
        {
            throw new BadInputException($"{field}: expected [{count}] (one per input); got [{string.Join(", ", classes.shape)}]");
        }
        if (classes.is_floating_point() || classes.dtype == ScalarType.Bool)
        {
            throw new BadInputException($"{field}: expected integer classes; got {classes.dtype}");
        }
        return classes.dtype == ScalarType.Int64 ? classes : classes.to_type(ScalarType.Int64);
    }

    private static void CheckClassRange(string field, Tensor classes, int classCount)
    {
        long lowest = classes.min().item<long>();
        long highest = classes.max().item<long>();
        if (lowest < 0 || highest >= classCount)
        {
            throw new BadInputException($"{field}: classes must be 0..{classCount - 1}; found values from {lowest} to {highest}");
        }
    }
}
