using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The checks every attack applies before it runs: images float32 [N, 784], finite, in [0,1]; labels [N] in 0..9;
/// targets (optional) [N] in 0..9 and different from their labels. Each failure says which field and what was expected.
/// </summary>
internal static class AttackInputs
{
    public sealed record Checked(Tensor Images, Tensor Labels, Tensor? Targets);

    public static Checked Check(Tensor images, Tensor labels, Tensor? targets)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.dim() != 2 || images.shape[1] != Classifier.PixelCount || images.shape[0] == 0)
        {
            throw new BadInputException(
                $"images: expected float32 [N, {Classifier.PixelCount}] with N >= 1; got [{string.Join(", ", images.shape)}]");
        }
        if (images.dtype != ScalarType.Float32)
        {
            throw new BadInputException($"images: expected float32 pixels; got {images.dtype}");
        }
        long count = images.shape[0];
        if (!images.isfinite().all().item<bool>())
        {
            throw new BadInputException("images: contain NaN or infinite pixels; expected finite values in [0,1]");
        }
        double lowest = images.min().item<float>();
        double highest = images.max().item<float>();
        if (lowest < 0 || highest > 1)
        {
            throw new BadInputException($"images: pixels must lie in [0,1]; found values from {lowest} to {highest}");
        }
        var checkedLabels = CheckClasses("labels", labels, count);
        Tensor? checkedTargets = null;
        if (targets is not null)
        {
            checkedTargets = CheckClasses("targets", targets, count);
            long equal = checkedTargets.eq(checkedLabels).sum().item<long>();
            if (equal > 0)
            {
                long first = checkedTargets.eq(checkedLabels).nonzero()[0, 0].item<long>();
                throw new BadInputException(
                    $"targets: {equal} target(s) equal their true label (first at image {first}); a target must be a different class");
            }
        }
        return new Checked(images.detach(), checkedLabels, checkedTargets);
    }

    private static Tensor CheckClasses(string field, Tensor classes, long count)
    {
        if (classes.dim() != 1 || classes.shape[0] != count)
        {
            throw new BadInputException($"{field}: expected [{count}] (one per image); got [{string.Join(", ", classes.shape)}]");
        }
        if (classes.is_floating_point() || classes.dtype == ScalarType.Bool)
        {
            throw new BadInputException($"{field}: expected integer classes; got {classes.dtype}");
        }
        var asLong = classes.to_type(ScalarType.Int64);
        long lowest = asLong.min().item<long>();
        long highest = asLong.max().item<long>();
        if (lowest < 0 || highest >= Classifier.ClassCount)
        {
            throw new BadInputException(
                $"{field}: classes must be 0..{Classifier.ClassCount - 1}; found values from {lowest} to {highest}");
        }
        return asLong;
    }
}
