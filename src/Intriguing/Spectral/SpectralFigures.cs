using Intriguing.Reporting;
using ScottPlot;

namespace Intriguing.Spectral;

/// <summary>The spectral study's pictures, rendered headless with ScottPlot 5 to PNG bytes.</summary>
public static class SpectralFigures
{
    private static readonly Color[] Palette =
    [
        Color.FromHex("#1d4ed8"), Color.FromHex("#dc2626"), Color.FromHex("#059669"), Color.FromHex("#d97706"),
        Color.FromHex("#7c3aed"), Color.FromHex("#0891b2"), Color.FromHex("#be185d"), Color.FromHex("#4b5563"),
    ];

    /// <summary>
    /// One point per correctly classified test image that an attack fooled: x = the smallest L2 perturbation the attacks
    /// (L-BFGS, C&amp;W, DeepFool) needed, y = the L2 radius the network bound certifies, both on log10 axes, one colour per
    /// model. A sound bound puts every point below the diagonal y = x (a point above it means a wrong bound; the caption,
    /// <see cref="SpectralVerdicts.ScatterCaption"/>, says whether any is); the distance below it is the gap.
    /// </summary>
    public static byte[] CertifiedVersusAttack(IReadOnlyList<(string Model, IReadOnlyList<CertifiedImage> Images)> series, int width = 900, int height = 600)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plot = new Plot();
        plot.Font.Set(ReportFonts.SansFamilyName);
        double low = double.PositiveInfinity;
        double high = double.NegativeInfinity;
        for (int index = 0; index < series.Count; index++)
        {
            var points = series[index].Images.Where(image => image.AttackL2 is > 0 && image.CertifiedL2 > 0).ToList();
            if (points.Count == 0)
            {
                continue;
            }
            double[] xs = points.Select(image => Math.Log10(image.AttackL2!.Value)).ToArray();
            double[] ys = points.Select(image => Math.Log10(image.CertifiedL2)).ToArray();
            var scatter = plot.Add.ScatterPoints(xs, ys, Palette[index % Palette.Length]);
            scatter.MarkerSize = 3;
            scatter.LegendText = series[index].Model;
            low = Math.Min(low, Math.Min(xs.Min(), ys.Min()));
            high = Math.Max(high, Math.Max(xs.Max(), ys.Max()));
        }
        if (double.IsInfinity(low))
        {
            low = -2;
            high = 1;
        }
        low = Math.Floor(low);
        high = Math.Ceiling(high);
        var diagonal = plot.Add.Line(low, low, high, high);
        diagonal.LineColor = Colors.Gray;
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LegendText = "certified = attack";

        var ticks = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Power, IntegerTicksOnly = true };
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Power, IntegerTicksOnly = true };
        plot.Axes.SetLimits(low, high, low, high);
        plot.Title("Radius certified by the spectral bound vs distortion the attacks needed (L2, per test image)");
        plot.XLabel("smallest successful attack perturbation, L2 (L-BFGS, C&W, DeepFool)");
        plot.YLabel("certified radius margin / (sqrt(2) * bound), L2");
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperLeft;
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Per layer: our bound beside the paper's Table 5 number where it gives one, as bars.</summary>
    public static byte[] BoundsBesidePaper(string title, IReadOnlyList<LayerRow> layers) =>
        BarCharts.OursVsPaper(title, "Lipschitz constant", layers.Select(layer => new ComparisonBar(layer.Name, layer.Bound, layer.Paper)).ToList(),
            width: Math.Max(700, 70 * layers.Count));

    private static string Power(double exponent) =>
        Math.Pow(10, exponent).ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
}
