namespace Intriguing.DistortionBounds;

/// <summary>
/// One image under box-constrained L-BFGS from several starts: the distortion each start reached (the paper's RMS
/// measure), null where that start found no adversarial example. Start 0 is the paper's (the image itself).
/// </summary>
/// <param name="Index">The image's index in the run (its position among the attacked test images).</param>
/// <param name="Distortions">Per start, the distortion of its verified example, or null where it failed.</param>
public sealed record ImageStarts(int Index, IReadOnlyList<double?> Distortions)
{
    /// <summary>The smallest distortion over the starts that succeeded (an upper bound on the true minimum), or null when none did.</summary>
    public double? Best => Successes.Count == 0 ? null : Successes.Min();

    /// <summary>
    /// How far the starts' minima lie apart: (max - min) / min over the starts that succeeded; null with fewer than two
    /// successes (nothing to compare) or a zero minimum.
    /// </summary>
    public double? RelativeSpread => Successes.Count < 2 || !(Successes.Min() > 0) ? null : (Successes.Max() - Successes.Min()) / Successes.Min();

    private List<double> Successes => [.. Distortions.OfType<double>()];
}

/// <summary>
/// The spread of the minimal distortion over starts, for one model: how many images and starts, and over the images
/// with at least two successful starts (<see cref="Compared"/>), the median and the largest relative spread
/// (<see cref="ImageStarts.RelativeSpread"/>) and the share of images whose starts disagree by more than
/// <see cref="Tolerance"/>. <see cref="MeanFromImage"/> is the paper's start alone and <see cref="MeanBest"/> the best
/// over starts, both over the images where the paper's start succeeded. Statistics with no image are NaN.
/// </summary>
/// <param name="Images">Images attacked (those the model classified correctly).</param>
/// <param name="Starts">Starts per image, the paper's (from the image) first.</param>
/// <param name="Compared">Images with at least two successful starts.</param>
/// <param name="MedianSpread">Median relative spread over the compared images.</param>
/// <param name="MaxSpread">Largest relative spread over the compared images.</param>
/// <param name="ShareDisagreeing">Fraction of the compared images whose spread exceeds <see cref="Tolerance"/>.</param>
/// <param name="Tolerance">Relative spread up to which starts count as agreeing (0.01 = 1%).</param>
/// <param name="MeanFromImage">Mean distortion of the start from the image (the paper's).</param>
/// <param name="MeanBest">Mean of the best distortion over starts on the same images (an upper bound on the minimum).</param>
public sealed record StartSpread(int Images, int Starts, int Compared, double MedianSpread, double MaxSpread, double ShareDisagreeing,
    double Tolerance, double MeanFromImage, double MeanBest)
{
    /// <summary>Starts whose minima lie within 1% of each other agree.</summary>
    public const double DefaultTolerance = 0.01;

    /// <summary>The statistics of <paramref name="images"/> (each with the same number of starts, the paper's first).</summary>
    /// <exception cref="ArgumentException">Images with different numbers of starts.</exception>
    public static StartSpread From(IReadOnlyList<ImageStarts> images, double tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(images);
        int starts = images.Count == 0 ? 0 : images[0].Distortions.Count;
        if (images.Any(image => image.Distortions.Count != starts))
        {
            throw new ArgumentException($"every image needs the same number of starts ({starts})", nameof(images));
        }
        var spreads = images.Select(image => image.RelativeSpread).OfType<double>().Order().ToList();
        var fromImage = images.Where(image => image.Distortions.Count > 0 && image.Distortions[0] is not null).ToList();
        return new StartSpread(
            images.Count,
            starts,
            spreads.Count,
            Median(spreads),
            spreads.Count == 0 ? double.NaN : spreads[^1],
            spreads.Count == 0 ? double.NaN : (double)spreads.Count(spread => spread > tolerance) / spreads.Count,
            tolerance,
            fromImage.Count == 0 ? double.NaN : fromImage.Average(image => image.Distortions[0]!.Value),
            fromImage.Count == 0 ? double.NaN : fromImage.Average(image => image.Best!.Value));
    }

    internal static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
