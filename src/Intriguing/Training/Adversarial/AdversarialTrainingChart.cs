using Intriguing.Reporting;
using ScottPlot;

namespace Intriguing.Training.Adversarial;

/// <summary>
/// The adversarial-training bar chart: per model, the clean test error, the FGSM error at eps 0.1 and the PGD-40 error
/// at eps 0.1 (beside <see cref="TrainingCurves"/>, the per-epoch chart).
/// </summary>
public static class AdversarialTrainingChart
{
    /// <summary>A PNG with one group of three bars per (label, robustness).</summary>
    public static byte[] Render(IReadOnlyList<(string Label, Robustness Robustness)> groups)
    {
        (string Name, string Colour, Func<Robustness, double> Value)[] series =
        [
            ("clean", "#1d4ed8", robustness => robustness.TestError.Value),
            ("FGSM 0.1", "#f59e0b", robustness => AdversarialVerdicts.Fgsm(robustness, 0.1).Value),
            ("PGD-40 0.1", "#dc2626", robustness => AdversarialVerdicts.Pgd(robustness, 0.1).Value),
        ];
        const double width = 0.27;
        var plot = new Plot();
        plot.Font.Set(ReportFonts.SansFamilyName);
        var bars = new List<Bar>();
        for (int group = 0; group < groups.Count; group++)
        {
            for (int index = 0; index < series.Length; index++)
            {
                double value = series[index].Value(groups[group].Robustness) * 100;
                bars.Add(new Bar
                {
                    Position = group + (index - 1) * width,
                    Value = double.IsFinite(value) ? value : 0,
                    Size = width,
                    FillColor = Color.FromHex(series[index].Colour),
                    LineWidth = 0,
                    Label = ReportFormat.Number(value, value < 10 ? 1 : 0),
                });
            }
        }
        plot.Add.Bars(bars);
        plot.Title("Clean and adversarial test error per training method");
        plot.YLabel("error (%)");
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, groups.Count).Select(group => (double)group).ToArray(), groups.Select(group => group.Label).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;
        plot.Axes.SetLimits(-0.6, groups.Count - 0.4, 0, 118);
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        foreach (var (name, colour, _) in series)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = Color.FromHex(colour) });
        }
        return plot.GetImageBytes(Math.Max(900, 150 * groups.Count), 480, ImageFormat.Png);
    }
}
