using SkiaSharp;

namespace Intriguing.Reporting;

/// <summary>One row of an <see cref="ImageGrid"/>: a label on the left, then images left to right.</summary>
/// <param name="Label">Row label drawn left of the images (e.g. "original", "difference x10", "adversarial"); null for none.</param>
/// <param name="Images">Each image's pixels row-major, values in [0,1] (0 black, 1 white, as MNIST); a colour image
/// holds its R, G and B planes one after the other ([3, H, W] flattened).</param>
/// <param name="Captions">One caption per image drawn under it (e.g. the predicted label), or null.</param>
public sealed record ImageGridRow(string? Label, IReadOnlyList<float[]> Images, IReadOnlyList<string>? Captions = null);

/// <summary>How an <see cref="ImageGrid"/> is laid out.</summary>
/// <param name="ImageWidth">Pixels per image row (28 for MNIST).</param>
/// <param name="ImageHeight">Pixel rows per image (28 for MNIST).</param>
/// <param name="Scale">Each pixel becomes a Scale x Scale block (nearest neighbour, so pixels stay crisp).</param>
/// <param name="Gap">Space between images and rows, in output pixels.</param>
/// <param name="Margin">White border around the whole grid, in output pixels.</param>
/// <param name="Channels">1: grey images; 3: colour images drawn in RGB.</param>
public sealed record ImageGridOptions(int ImageWidth = 28, int ImageHeight = 28, int Scale = 3, int Gap = 4, int Margin = 6, int Channels = 1);

/// <summary>
/// Draws grey images (e.g. MNIST digits as [N,784] rows) or colour ones (<see cref="ImageGridOptions.Channels"/> 3) into one PNG: rows of enlarged images with
/// optional row labels and per-image captions. Used for the paper's Figure 5 (original / magnified
/// difference / adversarial) and the top-8 image grids of Figures 1-4. Takes plain float arrays, so callers
/// convert tensors with <c>tensor.data&lt;float&gt;().ToArray()</c> and <see cref="SplitRows"/>.
/// </summary>
public static class ImageGrid
{
    private const float LabelFontSize = 13f;
    private const float CaptionFontSize = 11f;

    /// <summary>Renders the rows to PNG bytes on a white background.</summary>
    /// <exception cref="BadInputException">No images, an image of the wrong length, a pixel outside [0,1], or captions not matching images.</exception>
    public static byte[] Render(IReadOnlyList<ImageGridRow> rows, ImageGridOptions? options = null)
    {
        options ??= new ImageGridOptions();
        Check(rows, options);

        using var labelFont = new SKFont(ReportFonts.Sans, LabelFontSize);
        using var captionFont = new SKFont(ReportFonts.Sans, CaptionFontSize);
        int cellWidth = options.ImageWidth * options.Scale;
        int cellHeight = options.ImageHeight * options.Scale;
        bool anyCaptions = rows.Any(row => row.Captions is not null);
        int captionHeight = anyCaptions ? (int)Math.Ceiling(captionFont.Spacing) + 2 : 0;
        bool anyLabels = rows.Any(row => !string.IsNullOrEmpty(row.Label));
        int labelWidth = anyLabels
            ? (int)Math.Ceiling(rows.Max(row => string.IsNullOrEmpty(row.Label) ? 0f : labelFont.MeasureText(row.Label))) + options.Gap * 2
            : 0;
        int columns = rows.Max(row => row.Images.Count);
        int rowHeight = cellHeight + captionHeight;
        int width = options.Margin * 2 + labelWidth + columns * cellWidth + (columns - 1) * options.Gap;
        int height = options.Margin * 2 + rows.Count * rowHeight + (rows.Count - 1) * options.Gap;

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var textPaint = new SKPaint { Color = new SKColor(0x11, 0x18, 0x27), IsAntialias = true };
            for (int rowIndex = 0; rowIndex < rows.Count; rowIndex++)
            {
                ImageGridRow row = rows[rowIndex];
                int top = options.Margin + rowIndex * (rowHeight + options.Gap);
                if (!string.IsNullOrEmpty(row.Label))
                {
                    // Baseline placed so the label sits centred against the images.
                    float baseline = top + cellHeight / 2f - (labelFont.Metrics.Ascent + labelFont.Metrics.Descent) / 2f;
                    canvas.DrawText(row.Label, options.Margin, baseline, SKTextAlign.Left, labelFont, textPaint);
                }
                for (int column = 0; column < row.Images.Count; column++)
                {
                    int left = options.Margin + labelWidth + column * (cellWidth + options.Gap);
                    DrawImage(bitmap, row.Images[column], left, top, options);
                    if (row.Captions is not null)
                    {
                        float baseline = top + cellHeight + 1 - captionFont.Metrics.Ascent;
                        canvas.DrawText(row.Captions[column], left + cellWidth / 2f, baseline, SKTextAlign.Center, captionFont, textPaint);
                    }
                }
            }
        }
        using SKImage image = SKImage.FromBitmap(bitmap);
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>
    /// The perturbation made visible, as in the paper's Figure 5: 0.5 + magnification * (adversarial - original),
    /// clipped to [0,1], so grey means unchanged, lighter brighter and darker dimmer.
    /// </summary>
    /// <exception cref="BadInputException">The two images differ in length.</exception>
    public static float[] MagnifiedDifference(float[] original, float[] adversarial, float magnification = 10f)
    {
        if (original.Length != adversarial.Length)
        {
            throw new BadInputException($"magnified difference: original has {original.Length} pixels, adversarial {adversarial.Length}; expected the same");
        }
        var difference = new float[original.Length];
        for (int pixel = 0; pixel < difference.Length; pixel++)
        {
            difference[pixel] = Math.Clamp(0.5f + magnification * (adversarial[pixel] - original[pixel]), 0f, 1f);
        }
        return difference;
    }

    /// <summary>Cuts a flat buffer of <paramref name="pixelsPerImage"/>-long images (a [N,784] tensor's data) into one array per image.</summary>
    /// <exception cref="BadInputException">The buffer length is not a multiple of <paramref name="pixelsPerImage"/>.</exception>
    public static IReadOnlyList<float[]> SplitRows(ReadOnlySpan<float> pixels, int pixelsPerImage = 784)
    {
        if (pixelsPerImage <= 0 || pixels.Length % pixelsPerImage != 0)
        {
            throw new BadInputException($"image buffer of {pixels.Length} values is not a whole number of {pixelsPerImage}-pixel images");
        }
        var images = new float[pixels.Length / pixelsPerImage][];
        for (int image = 0; image < images.Length; image++)
        {
            images[image] = pixels.Slice(image * pixelsPerImage, pixelsPerImage).ToArray();
        }
        return images;
    }

    private static void DrawImage(SKBitmap bitmap, float[] pixels, int left, int top, ImageGridOptions options)
    {
        // Written pixel by pixel rather than scaled by Skia: nearest neighbour with no filtering, exact by construction.
        int plane = options.ImageWidth * options.ImageHeight;
        int green = options.Channels == 3 ? plane : 0;
        int blue = options.Channels == 3 ? 2 * plane : 0;
        for (int y = 0; y < options.ImageHeight; y++)
        {
            for (int x = 0; x < options.ImageWidth; x++)
            {
                int pixel = y * options.ImageWidth + x;
                var color = new SKColor(Level(pixels[pixel]), Level(pixels[green + pixel]), Level(pixels[blue + pixel]));
                for (int dy = 0; dy < options.Scale; dy++)
                {
                    for (int dx = 0; dx < options.Scale; dx++)
                    {
                        bitmap.SetPixel(left + x * options.Scale + dx, top + y * options.Scale + dy, color);
                    }
                }
            }
        }
    }

    private static byte Level(float value) => (byte)Math.Round(value * 255f);

    private static void Check(IReadOnlyList<ImageGridRow> rows, ImageGridOptions options)
    {
        if (options.ImageWidth <= 0 || options.ImageHeight <= 0 || options.Scale <= 0 || options.Gap < 0 || options.Margin < 0)
        {
            throw new BadInputException($"image grid options {options}: sizes and scale must be positive, gap and margin not negative");
        }
        if (options.Channels is not (1 or 3))
        {
            throw new BadInputException($"image grid options {options}: channels must be 1 (grey) or 3 (RGB)");
        }
        if (rows.Count == 0 || rows.All(row => row.Images.Count == 0))
        {
            throw new BadInputException("image grid: no images to draw (expected at least one row with one image)");
        }
        int expectedLength = options.Channels * options.ImageWidth * options.ImageHeight;
        for (int rowIndex = 0; rowIndex < rows.Count; rowIndex++)
        {
            ImageGridRow row = rows[rowIndex];
            string rowName = row.Label is null ? $"row {rowIndex}" : $"row {rowIndex} (\"{row.Label}\")";
            if (row.Captions is not null && row.Captions.Count != row.Images.Count)
            {
                throw new BadInputException($"image grid {rowName}: {row.Captions.Count} captions for {row.Images.Count} images; expected one per image");
            }
            for (int column = 0; column < row.Images.Count; column++)
            {
                float[] pixels = row.Images[column];
                if (pixels.Length != expectedLength)
                {
                    throw new BadInputException(
                        $"image grid {rowName}, image {column}: {pixels.Length} values, expected {options.Channels}x{options.ImageWidth}x{options.ImageHeight} = {expectedLength}");
                }
                int bad = Array.FindIndex(pixels, value => !(value >= 0f && value <= 1f));
                if (bad >= 0)
                {
                    throw new BadInputException($"image grid {rowName}, image {column}: pixel {bad} is {pixels[bad]}, expected a value in [0,1]");
                }
            }
        }
    }
}
