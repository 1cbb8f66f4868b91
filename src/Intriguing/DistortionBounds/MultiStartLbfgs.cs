using Intriguing.Attacks;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.DistortionBounds;

/// <summary>
/// How many images and starts per image the non-convexity check runs, and how far from the image the random starts
/// lie (half-width of the uniform noise, <see cref="BoxConstrainedLbfgs.RandomStart"/>).
/// </summary>
/// <param name="Images">The first this many test images.</param>
/// <param name="Starts">Starts per image: the paper's (from the image) and <c>Starts - 1</c> random ones.</param>
/// <param name="Radius">Half-width of the uniform noise of a random start.</param>
public sealed record MultiStartSettings(int Images, int Starts, double Radius = MultiStartLbfgs.DefaultRadius)
{
    /// <exception cref="BadInputException">Fewer than one image or two starts, or a radius that is not finite and positive.</exception>
    public void Validate()
    {
        if (Images < 1 || Starts < 2 || !(Radius > 0) || !double.IsFinite(Radius))
        {
            throw new BadInputException($"multi-start L-BFGS needs at least 1 image, 2 starts and a finite radius > 0; got {Images}, {Starts} and {Radius}");
        }
    }
}

/// <summary>
/// Box-constrained L-BFGS (<see cref="BoxConstrainedLbfgs"/>, targeted, the paper's setting) from several starts per
/// image: start 0 from the image itself (the paper's), starts 1.. from the image plus uniform noise drawn from the
/// image's own random stream (seed, image index, start), so the same seed gives the same starts in any batch.
/// Szegedy et al. minimise a non-convex objective for a network: L-BFGS finds a local minimum, and different starts
/// may find different ones. For a softmax model the targeted problem (c|r|^2 plus the cross-entropy of an affine
/// function, over a box) is convex, so every start must reach the same minimum; the spread over starts shows which
/// case a model is in, and the best over starts is a tighter upper bound on the true minimal distortion.
/// </summary>
public static class MultiStartLbfgs
{
    /// <summary>
    /// The default half-width of a random start's noise, 0.3: a start well outside the neighbourhood of the image that
    /// the minimal perturbations occupy (RMS 0.04-0.12 on MNIST), so a start can fall into another basin.
    /// </summary>
    public const double DefaultRadius = 0.3;

    /// <summary>
    /// The attacks of <paramref name="starts"/> starts: <paramref name="lbfgs"/> from the image (the paper's), then the same
    /// settings with <see cref="BoxConstrainedLbfgs.RandomStart"/> = <paramref name="radius"/> and start 1, 2, ...
    /// </summary>
    public static IReadOnlyList<BoxConstrainedLbfgs> Starts(BoxConstrainedLbfgs lbfgs, int starts, double radius = DefaultRadius)
    {
        ArgumentNullException.ThrowIfNull(lbfgs);
        new MultiStartSettings(1, starts, radius).Validate();
        return [lbfgs with { RandomStart = 0, Start = 0 }, .. Enumerable.Range(1, starts - 1).Select(start => lbfgs with { RandomStart = radius, Start = start })];
    }

    /// <summary>
    /// Per image, the distortion each start reached, from one result per start (in start order) over the same images:
    /// only the first <paramref name="images"/> images, and only those the model classified correctly.
    /// </summary>
    /// <exception cref="ArgumentException">No result, or results that do not cover the first <paramref name="images"/> images.</exception>
    public static IReadOnlyList<ImageStarts> Collect(IReadOnlyList<AttackResult> perStart, int images)
    {
        ArgumentNullException.ThrowIfNull(perStart);
        if (perStart.Count == 0 || perStart.Any(result => result.Examples.Count < images))
        {
            throw new ArgumentException($"need one result per start, each over at least {images} images", nameof(perStart));
        }
        return [.. Enumerable.Range(0, images)
            .Where(index => perStart[0].Examples[index].OriginallyCorrect)
            .Select(index => new ImageStarts(index, [.. perStart.Select(result => result.Examples[index] is { Success: true } example ? example.Distortion : (double?)null)]))];
    }

    /// <summary>
    /// Runs <paramref name="settings"/>' starts on <paramref name="images"/> (float32 [N, ...] in the model's box; the
    /// first <see cref="MultiStartSettings.Images"/> are attacked) with true <paramref name="labels"/> towards
    /// <paramref name="targets"/> (int64 [N], each a wrong class), every start seeded with <paramref name="seed"/>.
    /// </summary>
    /// <returns>Each image's distortions per start and their spread.</returns>
    public static (IReadOnlyList<ImageStarts> Images, StartSpread Spread) Run(Classifier model, Tensor images, Tensor labels, Tensor targets,
        MultiStartSettings settings, int seed, BoxConstrainedLbfgs? lbfgs = null, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        using var scope = NewDisposeScope();
        long count = Math.Min(settings.Images, images.shape[0]);
        var results = Starts(lbfgs ?? new BoxConstrainedLbfgs(), settings.Starts, settings.Radius)
            .Select(attack => attack.WithSeed(seed).Run(model, images.narrow(0, 0, count), labels.narrow(0, 0, count), targets.narrow(0, 0, count), progress: progress))
            .ToList();
        var perImage = Collect(results, (int)count);
        return (perImage, StartSpread.From(perImage));
    }
}
