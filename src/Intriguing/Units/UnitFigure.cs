using System.Globalization;
using Intriguing.Reporting;
using SkiaSharp;
using static TorchSharp.torch;

namespace Intriguing.Units;

/// <summary>
/// A picture in the style of the paper's Figures 1-4: one row per direction with its top-K images of the pool,
/// single units (natural basis, Figures 1 and 3) on the left and random directions (Figures 2 and 4) on the right,
/// each row headed by the direction's name and its label purity, each image captioned with its true label.
/// The units shown are drawn at random with the seed (not picked by hand), and the random directions are the first ones.
/// </summary>
public static class UnitFigure
{
    /// <summary>Directions shown per panel by default: 6.</summary>
    public const int DefaultRows = 6;
    private const float TitleFontSize = 15f;
    private const float HeaderFontSize = 13f;
    private const int PanelGap = 28;
    private const int Margin = 8;

    /// <summary>PNG bytes of the two panels for <paramref name="layer"/>, images taken from the pool (<paramref name="images"/> [pool, 784], <paramref name="labels"/> [pool]).</summary>
    public static byte[] Render(LayerUnits layer, Tensor images, Tensor labels, string title, int rows = DefaultRows)
    {
        var naturalShown = NaturalRowsShown(layer, rows);
        var randomShown = layer.Random.PerDirection.Where(direction => !direction.Inactive).Take(rows).ToList();
        byte[] left = ImageGrid.Render(Rows(naturalShown, images, labels));
        byte[] right = ImageGrid.Render(Rows(randomShown, images, labels));
        return Compose(title,
            $"single units e_i (mean purity {Number(layer.Natural.MeanPurity)})", left,
            $"random directions v (mean purity {Number(layer.Random.MeanPurity)})", right);
    }

    /// <summary>The units a figure shows: <paramref name="rows"/> units active on at least K images drawn with Random(seed + 2), in index order.</summary>
    public static IReadOnlyList<DirectionCoherence> NaturalRowsShown(LayerUnits layer, int rows)
    {
        var candidates = layer.Natural.PerDirection.Where(direction => !direction.Inactive).ToList();
        var random = new Random(unchecked(layer.Seed + 2));
        return [.. candidates.OrderBy(_ => random.Next()).Take(rows).OrderBy(direction => direction.Index)];
    }

    private static List<ImageGridRow> Rows(IReadOnlyList<DirectionCoherence> directions, Tensor images, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var rows = new List<ImageGridRow>();
        foreach (var direction in directions)
        {
            var index = tensor(direction.TopImages.Select(image => (long)image).ToArray());
            float[] pixels = images.index_select(0, index).cpu().contiguous().data<float>().ToArray();
            long[] imageLabels = labels.index_select(0, index).cpu().data<long>().ToArray();
            rows.Add(new ImageGridRow(
                $"{direction.Name}: purity {Number(direction.Purity)}",
                ImageGrid.SplitRows(pixels),
                [.. imageLabels.Select(label => label.ToString(CultureInfo.InvariantCulture))]));
        }
        return rows;
    }

    private static byte[] Compose(string title, string leftHeader, byte[] leftPng, string rightHeader, byte[] rightPng)
    {
        using var left = SKBitmap.Decode(leftPng);
        using var right = SKBitmap.Decode(rightPng);
        using var titleFont = new SKFont(ReportFonts.Sans, TitleFontSize);
        using var headerFont = new SKFont(ReportFonts.Sans, HeaderFontSize);
        int titleHeight = (int)Math.Ceiling(titleFont.Spacing) + 4;
        int headerHeight = (int)Math.Ceiling(headerFont.Spacing) + 2;
        int width = Math.Max(Margin * 2 + left.Width + PanelGap + right.Width, Margin * 2 + (int)Math.Ceiling(titleFont.MeasureText(title)));
        int height = Margin + titleHeight + headerHeight + Math.Max(left.Height, right.Height) + Margin;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var text = new SKPaint { Color = new SKColor(0x11, 0x18, 0x27), IsAntialias = true };
            using var rule = new SKPaint { Color = new SKColor(0xD1, 0xD5, 0xDB), StrokeWidth = 1 };
            canvas.DrawText(title, Margin, Margin - titleFont.Metrics.Ascent, SKTextAlign.Left, titleFont, text);
            float headerBaseline = Margin + titleHeight - headerFont.Metrics.Ascent;
            int panelTop = Margin + titleHeight + headerHeight;
            int rightLeft = Margin + left.Width + PanelGap;
            canvas.DrawText(leftHeader, Margin + 6, headerBaseline, SKTextAlign.Left, headerFont, text);
            canvas.DrawText(rightHeader, rightLeft + 6, headerBaseline, SKTextAlign.Left, headerFont, text);
            canvas.DrawBitmap(left, Margin, panelTop);
            canvas.DrawBitmap(right, rightLeft, panelTop);
            float divider = Margin + left.Width + PanelGap / 2f;
            canvas.DrawLine(divider, panelTop, divider, panelTop + Math.Max(left.Height, right.Height), rule);
        }
        using SKImage image = SKImage.FromBitmap(bitmap);
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static string Number(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
