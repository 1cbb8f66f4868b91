using Intriguing.Attacks;

namespace Intriguing.DistortionBounds;

/// <summary>
/// One attack's verified successes by image: image index to distortion (the paper's RMS measure), over the images the
/// model classified correctly; an image it failed on is absent.
/// </summary>
/// <param name="Key">Short key ("lbfgsTargeted", "cw", ...).</param>
/// <param name="Label">Column label for the report.</param>
/// <param name="PerImage">Distortion of each image the attack fooled.</param>
/// <param name="Attempted">Images the attack ran on that the model classified correctly.</param>
public sealed record AttackDistortions(string Key, string Label, IReadOnlyDictionary<int, double> PerImage, int Attempted)
{
    /// <summary>The successes among <paramref name="examples"/> (correctly classified images only), by image index.</summary>
    public static AttackDistortions FromExamples(string key, string label, IEnumerable<AdversarialExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var attempted = examples.Where(example => example.OriginallyCorrect).ToList();
        return new AttackDistortions(key, label,
            attempted.Where(example => example.Success).ToDictionary(example => example.Index, example => example.Distortion), attempted.Count);
    }
}

/// <summary>
/// One attack beside the tightest bound: its own mean distortion over its successes, and on the images where it
/// succeeded the mean of its distortion divided by the tightest bound (1 = it found the smallest perturbation every
/// time) and the share of those images where it is the tightest (ties count for each attack that reaches the bound).
/// </summary>
/// <param name="Key">The attack's key.</param>
/// <param name="Label">Its label.</param>
/// <param name="Attempted">Images it ran on that the model classified correctly.</param>
/// <param name="Successes">Images it fooled.</param>
/// <param name="MeanDistortion">Mean distortion over its successes (NaN without any).</param>
/// <param name="MeanRatio">Mean of distortion / tightest bound over its successes (NaN without any).</param>
/// <param name="MedianRatio">Median of the same ratios: one image close to the boundary (a tiny bound) can dominate the mean.</param>
/// <param name="ShareTightest">Share of its successes where it reaches the tightest bound.</param>
public sealed record BoundComparison(string Key, string Label, int Attempted, int Successes, double MeanDistortion, double MeanRatio, double MedianRatio, double ShareTightest);

/// <summary>
/// The tightest upper bound per image on one model: the smallest distortion any attack reached on it, and each
/// attack beside it.
/// </summary>
/// <param name="Images">Images with a bound (some attack fooled them).</param>
/// <param name="MeanBound">Mean of the per-image bound.</param>
/// <param name="MedianBound">Median of the per-image bound.</param>
/// <param name="Attacks">Each attack against the bound, in the order given.</param>
public sealed record TightestBoundResult(int Images, double MeanBound, double MedianBound, IReadOnlyList<BoundComparison> Attacks);

/// <summary>
/// The tightest upper bound on an image's minimal distortion: every verified adversarial example is an upper bound on
/// the smallest perturbation that changes the model's decision (targeted examples too: the target is a wrong class),
/// so the smallest over the attacks run on the image is the tightest we have. Each attack's mean ratio to it shows how
/// far a single attack is from what the attacks together found. It reuses the attacks' results; nothing runs again.
/// </summary>
public static class TightestBound
{
    /// <summary>Per image, the smallest distortion over <paramref name="attacks"/>; images no attack fooled are absent.</summary>
    public static IReadOnlyDictionary<int, double> PerImage(IReadOnlyList<AttackDistortions> attacks)
    {
        ArgumentNullException.ThrowIfNull(attacks);
        var bound = new SortedDictionary<int, double>();
        foreach (var (index, distortion) in attacks.SelectMany(attack => attack.PerImage))
        {
            bound[index] = bound.TryGetValue(index, out double current) ? Math.Min(current, distortion) : distortion;
        }
        return bound;
    }

    /// <summary>The per-image bound over <paramref name="attacks"/> and each attack beside it.</summary>
    public static TightestBoundResult Compute(IReadOnlyList<AttackDistortions> attacks)
    {
        var bound = PerImage(attacks);
        var sorted = bound.Values.Order().ToList();
        var comparisons = attacks.Select(attack =>
        {
            var ratios = attack.PerImage.Where(image => bound[image.Key] > 0).Select(image => image.Value / bound[image.Key]).Order().ToList();
            return new BoundComparison(attack.Key, attack.Label, attack.Attempted, attack.PerImage.Count,
                attack.PerImage.Count == 0 ? double.NaN : attack.PerImage.Values.Average(),
                ratios.Count == 0 ? double.NaN : ratios.Average(),
                StartSpread.Median(ratios),
                attack.PerImage.Count == 0 ? 0 : (double)attack.PerImage.Count(image => image.Value <= bound[image.Key]) / attack.PerImage.Count);
        }).ToList();
        return new TightestBoundResult(bound.Count, sorted.Count == 0 ? double.NaN : sorted.Average(), StartSpread.Median(sorted), comparisons);
    }
}
