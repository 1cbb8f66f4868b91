using Intriguing.Reporting;
using ScottPlot;

namespace Intriguing.DistortionBounds;

/// <summary>The non-convexity check's picture, rendered headless with ScottPlot 5 to PNG bytes.</summary>
public static class DistortionFigures
{
    private static readonly Color[] Palette =
    [
        Color.FromHex("#1d4ed8"), Color.FromHex("#dc2626"), Color.FromHex("#059669"), Color.FromHex("#d97706"), Color.FromHex("#7c3aed"),
    ];

    /// <summary>Spreads below this (0.001%) are drawn at it, so that the log axis can show a spread of 0.</summary>
    public const double Floor = 1e-5;

    /// <summary>
    /// Per model, the relative spread of the minimal distortion over starts of every compared image, sorted, on a log10
    /// axis (in %), with a dashed line at the agreement tolerance: a convex model lies low and flat, a network higher.
    /// </summary>
    /// <param name="series">Each model's per-image spreads (fractions; nulls are skipped).</param>
    /// <param name="tolerance">The agreement tolerance, drawn as a line.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static byte[] SpreadPerImage(IReadOnlyList<(string Model, IReadOnlyList<ImageStarts> Images)> series,
        double tolerance = StartSpread.DefaultTolerance, int width = 900, int height = 450)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plot = new Plot();
        plot.Font.Set(ReportFonts.SansFamilyName);
        int longest = 1;
        for (int index = 0; index < series.Count; index++)
        {
            double[] spreads = [.. series[index].Images.Select(image => image.RelativeSpread).OfType<double>().Select(spread => Math.Log10(Math.Max(spread, Floor) * 100)).Order()];
            if (spreads.Length == 0)
            {
                continue;
            }
            longest = Math.Max(longest, spreads.Length);
            double[] ranks = [.. Enumerable.Range(1, spreads.Length).Select(rank => (double)rank)];
            var line = plot.Add.Scatter(ranks, spreads, Palette[index % Palette.Length]);
            line.MarkerSize = 4;
            line.LegendText = series[index].Model;
        }
        var threshold = plot.Add.HorizontalLine(Math.Log10(tolerance * 100));
        threshold.LineColor = Colors.Gray;
        threshold.LinePattern = LinePattern.Dashed;
        threshold.LegendText = $"{ReportFormat.Percent(tolerance, 0)} (starts agree below)";
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Power, IntegerTicksOnly = true };
        plot.Axes.SetLimitsX(0, longest + 1);
        plot.Title("Spread of the minimal distortion over L-BFGS starts, per image (sorted)");
        plot.XLabel("image (sorted by spread)");
        plot.YLabel("(max - min) / min over starts, %");
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperLeft;
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    private static string Power(double exponent) =>
        Math.Pow(10, exponent).ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
}
