using ScottPlot;

namespace Intriguing.Reporting;

/// <summary>One group of a comparison chart: a model (or setting) with our value and the paper's.</summary>
/// <param name="Label">Tick label under the group, e.g. "FC100-100-10".</param>
/// <param name="Ours">Our measurement; NaN draws no bar.</param>
/// <param name="Paper">The paper's value; null (not reported) draws no bar.</param>
public sealed record ComparisonBar(string Label, double Ours, double? Paper);

/// <summary>
/// Bar charts for the report, rendered headless with ScottPlot 5 to PNG bytes (wrap them in a
/// <see cref="ReportFigure"/>). Colours match report.html: blue for ours, grey for the paper.
/// </summary>
public static class BarCharts
{
    private static readonly Color OursColor = Color.FromHex("#1d4ed8");
    private static readonly Color PaperColor = Color.FromHex("#9ca3af");
    private const double BarWidth = 0.38;

    /// <summary>
    /// A grouped bar chart, ours beside the paper's per group (Table 1's error columns: one group per model).
    /// </summary>
    /// <param name="title">Chart title.</param>
    /// <param name="valueAxisLabel">Y axis label including the unit, e.g. "test error (%)".</param>
    /// <param name="groups">The groups, left to right.</param>
    /// <param name="valueLabel">Text printed above each bar; by default the value with up to 2 decimals.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>PNG bytes.</returns>
    /// <exception cref="BadInputException">No groups, a negative or infinite value, or a size below 100 pixels.</exception>
    public static byte[] OursVsPaper(
        string title,
        string valueAxisLabel,
        IReadOnlyList<ComparisonBar> groups,
        Func<double, string>? valueLabel = null,
        int width = 900,
        int height = 450)
    {
        Check(groups, width, height);
        valueLabel ??= value => ReportFormat.Number(value, 2).TrimEnd('0').TrimEnd('.');

        var plot = new Plot();
        plot.Font.Set(ReportFonts.SansFamilyName);
        var bars = new List<Bar>();
        for (int group = 0; group < groups.Count; group++)
        {
            ComparisonBar comparison = groups[group];
            if (!double.IsNaN(comparison.Ours))
            {
                bars.Add(MakeBar(group - BarWidth / 2, comparison.Ours, OursColor, valueLabel));
            }
            if (comparison.Paper is double paper)
            {
                bars.Add(MakeBar(group + BarWidth / 2, paper, PaperColor, valueLabel));
            }
        }
        plot.Add.Bars(bars);

        plot.Title(title);
        plot.YLabel(valueAxisLabel);
        plot.Axes.Bottom.SetTicks(
            Enumerable.Range(0, groups.Count).Select(group => (double)group).ToArray(),
            groups.Select(comparison => comparison.Label).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;

        // Bars grow from zero; headroom keeps the value labels inside the frame.
        double highest = bars.Count == 0 ? 1 : Math.Max(bars.Max(bar => bar.Value), 1e-9);
        plot.Axes.SetLimits(-0.6, groups.Count - 0.4, 0, highest * 1.18);

        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "ours", FillColor = OursColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "paper", FillColor = PaperColor });

        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    private static Bar MakeBar(double position, double value, Color color, Func<double, string> valueLabel) => new()
    {
        Position = position,
        Value = value,
        Size = BarWidth,
        FillColor = color,
        LineWidth = 0,
        Label = valueLabel(value),
    };

    private static void Check(IReadOnlyList<ComparisonBar> groups, int width, int height)
    {
        if (groups.Count == 0)
        {
            throw new BadInputException("bar chart: no groups to draw (expected at least one ComparisonBar)");
        }
        if (width < 100 || height < 100)
        {
            throw new BadInputException($"bar chart: size {width}x{height} is too small (expected at least 100x100 pixels)");
        }
        foreach (ComparisonBar comparison in groups)
        {
            bool oursBad = double.IsInfinity(comparison.Ours) || comparison.Ours < 0;
            bool paperBad = comparison.Paper is double paper && (!double.IsFinite(paper) || paper < 0);
            if (oursBad || paperBad)
            {
                throw new BadInputException(
                    $"bar chart group \"{comparison.Label}\": values must be finite and >= 0 (ours {comparison.Ours}, paper {comparison.Paper})");
            }
        }
    }
}
