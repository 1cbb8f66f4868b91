using System.Globalization;
using Intriguing.Reporting;

namespace Intriguing.Attacks.Figures;

/// <summary>
/// The paper's Figure 5 layout for our own examples: a row of originals, a row of perturbations magnified by a
/// factor written in the row label (mid-grey is zero change), and a row of adversarial images, with the true label
/// under each original and the model's new prediction under each adversarial image. Grey images ([1, H, W]) are drawn
/// grey and colour ones ([3, H, W]) in colour; the perturbation row is magnified per
/// channel around mid-grey. Draws through <see cref="ImageGrid"/>; returns PNG bytes.
/// </summary>
public static class AdversarialFigure
{
    /// <summary>
    /// The figure for up to <paramref name="columns"/> (default 8) successful examples of <paramref name="result"/>
    /// (the first examples when none succeeded), beside <paramref name="originals"/> (one flat float array per attacked
    /// image); each image is <paramref name="width"/> x <paramref name="height"/> pixels (default 28 x 28) of
    /// <paramref name="channels"/> channels: 1 drawn in grey, 3 in colour (RGB).
    /// </summary>
    /// <returns>PNG bytes.</returns>
    public static byte[] Render(AttackResult result, float[][] originals, int columns = 8, int width = DigitPng.Side, int height = DigitPng.Side, int channels = 1)
    {
        var shown = result.Examples.Where(example => example.Success && example.OriginallyCorrect).Take(columns).ToList();
        if (shown.Count == 0)
        {
            shown = result.Examples.Take(columns).ToList();
        }
        var originalImages = shown.Select(example => originals[example.Index]).ToList();
        var adversarialImages = shown.Select(example => result.Adversarials[example.Index].cpu().data<float>().ToArray()).ToList();
        // Magnify so a typical change is clearly visible (a whole number the reader can use); the extremes may clip.
        float largestDistortion = shown.Count == 0 ? 0 : (float)shown.Max(example => example.Distortion);
        float magnification = largestDistortion > 0 ? MathF.Max(1, MathF.Round(0.25f / largestDistortion)) : 1;
        var differences = originalImages
            .Zip(adversarialImages, (original, adversarial) => ImageGrid.MagnifiedDifference(original, adversarial, magnification))
            .ToList();
        var rows = new List<ImageGridRow>
        {
            new("original", originalImages, shown.Select(example => $"true {example.Label}").ToList()),
            new(string.Create(CultureInfo.InvariantCulture, $"perturbation x{magnification:0}"), differences,
                shown.Select(example => string.Create(CultureInfo.InvariantCulture, $"d={example.Distortion:0.000}")).ToList()),
            new("adversarial", adversarialImages, shown.Select(example => $"pred {example.FinalPrediction}").ToList()),
        };
        return ImageGrid.Render(rows, new ImageGridOptions(ImageWidth: width, ImageHeight: height, Scale: 3, Channels: channels));
    }
}
