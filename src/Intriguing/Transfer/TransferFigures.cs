using System.Globalization;
using Intriguing.Reporting;
using ScottPlot;
using SkiaSharp;

namespace Intriguing.Transfer;

/// <summary>
/// The transfer study's pictures, rendered headless to PNG bytes: a heat map of each matrix (rows: sources, then noise;
/// columns: targets; the rate written in each cell) and the error-against-distortion curves, one panel per source
/// (solid: the source's adversarial perturbations scaled to each RMS; dashed: Gaussian noise of the same RMS).
/// </summary>
public static class TransferFigures
{
    /// <summary>One heat-map row: its label and a rate per column (null leaves the cell blank).</summary>
    public sealed record HeatRow(string Label, IReadOnlyList<double?> Rates);

    /// <summary>A heat map of rates in [0, 1], each cell coloured and labelled with its percentage.</summary>
    /// <exception cref="BadInputException">No rows or columns, or a row of the wrong length.</exception>
    public static byte[] HeatMap(string title, IReadOnlyList<string> columns, IReadOnlyList<HeatRow> rows, int cellWidth = 120, int cellHeight = 44)
    {
        if (columns.Count == 0 || rows.Count == 0 || rows.Any(row => row.Rates.Count != columns.Count))
        {
            throw new BadInputException($"heat map \"{title}\": needs at least one row and column, each row one rate per column");
        }
        var plot = new Plot();
        plot.Font.Set(ReportFonts.SansFamilyName);
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (int row = 0; row < rows.Count; row++)
        {
            double top = rows.Count - row;
            for (int column = 0; column < columns.Count; column++)
            {
                if (rows[row].Rates[column] is not double rate)
                {
                    continue;
                }
                double clamped = Math.Clamp(rate, 0, 1);
                var cell = plot.Add.Rectangle(column, column + 1, top - 1, top);
                cell.FillColor = colormap.GetColor(clamped);
                cell.LineWidth = 1;
                cell.LineColor = Colors.White;
                var text = plot.Add.Text((rate * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%", column + 0.5, top - 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = 15;
                text.LabelBold = true;
                text.LabelFontColor = clamped > 0.6 ? Colors.Black : Colors.White;
            }
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, columns.Count).Select(column => column + 0.5)], [.. columns]);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows.Count).Select(row => rows.Count - row - 0.5)], [.. rows.Select(row => row.Label)]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Grid.IsVisible = false;
        plot.Axes.SetLimits(0, columns.Count, 0, rows.Count);
        plot.Title(title);
        plot.XLabel("error of this model (target)");
        int labelWidth = 20 + 8 * rows.Max(row => row.Label.Length);
        return plot.GetImageBytes(labelWidth + 80 + cellWidth * columns.Count, 160 + cellHeight * rows.Count, ImageFormat.Png);
    }

    /// <summary>
    /// The curves of a matrix, one panel per source in a grid: each target's error on the source's perturbations scaled to
    /// each RMS (solid) and on Gaussian noise of the same RMS (dashed), in the target's colour.
    /// </summary>
    /// <exception cref="BadInputException">No curves.</exception>
    public static byte[] Curves(string title, IReadOnlyList<TransferCurve> curves, int panelWidth = 520, int panelHeight = 380, int panelsPerRow = 3)
    {
        if (curves.Count == 0)
        {
            throw new BadInputException($"curves \"{title}\": no source to draw");
        }
        var palette = new ScottPlot.Palettes.Category10();
        var panels = curves.Select(curve =>
        {
            var plot = new Plot();
            plot.Font.Set(ReportFonts.SansFamilyName);
            int colour = 0;
            foreach (var (target, errors) in curve.Adversarial)
            {
                var color = palette.GetColor(colour++);
                var adversarial = plot.Add.Scatter(curve.AdversarialRms, errors.Select(rate => rate * 100).ToArray());
                adversarial.Color = color;
                adversarial.LineWidth = 2;
                adversarial.MarkerSize = 4;
                adversarial.LegendText = target == curve.Source ? $"{target} (source)" : target;
                var noise = plot.Add.Scatter(curve.NoiseRms, curve.Noise[target].Select(rate => rate * 100).ToArray());
                noise.Color = color;
                noise.LineWidth = 1.5f;
                noise.MarkerSize = 0;
                noise.LinePattern = LinePattern.Dashed;
            }
            plot.Title($"examples for {curve.Source} (n = {curve.Examples})", size: 13);
            plot.XLabel("RMS distortion");
            plot.YLabel("error (%)");
            plot.Axes.SetLimits(0, curve.Rms.Max() * 1.05, 0, 102);
            plot.Legend.IsVisible = true;
            plot.Legend.Alignment = Alignment.UpperLeft;
            plot.Legend.FontSize = 10;
            return plot.GetImageBytes(panelWidth, panelHeight, ImageFormat.Png);
        }).ToList();

        int columns = Math.Min(panelsPerRow, panels.Count);
        int gridRows = (panels.Count + columns - 1) / columns;
        const int titleHeight = 40;
        using var bitmap = new SKBitmap(new SKImageInfo(columns * panelWidth, titleHeight + gridRows * panelHeight, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var font = new SKFont(ReportFonts.Sans, 16);
            using var paint = new SKPaint { Color = new SKColor(0x11, 0x18, 0x27), IsAntialias = true };
            canvas.DrawText(title + " (solid: adversarial perturbation scaled to the RMS; dashed: Gaussian noise of the same RMS)", 10, 26, SKTextAlign.Left, font, paint);
            for (int index = 0; index < panels.Count; index++)
            {
                using var panel = SKBitmap.Decode(panels[index]);
                canvas.DrawBitmap(panel, index % columns * panelWidth, titleHeight + index / columns * panelHeight);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
        return encoded.ToArray();
    }

    /// <summary>The heat-map rows of a matrix: each source's row, then each noise row.</summary>
    public static IReadOnlyList<HeatRow> Rows(IReadOnlyList<string> targets, IEnumerable<(string Label, IReadOnlyDictionary<string, double> Errors)> rows) =>
        [.. rows.Select(row => new HeatRow(row.Label, [.. targets.Select(target => row.Errors.TryGetValue(target, out double rate) ? rate : (double?)null)]))];
}
