using Intriguing.Reporting;
using ScottPlot;

namespace Intriguing.Training.Adversarial;

/// <summary>
/// The plot of a run's history: clean test error (10,000 images) and FGSM error at eps 0.1 (first 500 test images)
/// after each epoch, in percent, rendered headless with ScottPlot 5 to PNG bytes.
/// </summary>
public static class TrainingCurves
{
    /// <summary>The plot of <paramref name="history"/> titled <paramref name="title"/>, <paramref name="width"/> x <paramref name="height"/> pixels (default 900 x 450), as PNG bytes.</summary>
    public static byte[] Render(string title, IReadOnlyList<EpochRecord> history, int width = 900, int height = 450)
    {
        if (history.Count == 0)
        {
            throw new BadInputException("no epochs to plot");
        }
        var plot = new Plot();
        plot.Font.Set(ReportFonts.SansFamilyName);
        double[] epochs = history.Select(record => (double)record.Epoch).ToArray();
        var clean = plot.Add.Scatter(epochs, history.Select(record => record.TestError * 100).ToArray());
        clean.LegendText = "clean test error (10,000)";
        clean.Color = Color.FromHex("#1d4ed8");
        var robust = plot.Add.Scatter(epochs, history.Select(record => record.RobustError * 100).ToArray());
        robust.LegendText = "FGSM eps 0.1 error (500)";
        robust.Color = Color.FromHex("#dc2626");
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("error (%)");
        plot.Axes.SetLimitsY(0, Math.Max(1, history.Max(record => Math.Max(record.TestError, double.IsFinite(record.RobustError) ? record.RobustError : 0)) * 110));
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}
