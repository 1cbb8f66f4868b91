using Intriguing.Reporting;

namespace Intriguing.Tests.Reporting;

public class ReportFormatTests
{
    [Theory]
    [InlineData(0.0164, 2, "1.64%")]
    [InlineData(0.1, 2, "10.00%")]
    [InlineData(0.2, 1, "20.0%")]
    [InlineData(0.0, 2, "0.00%")]
    [InlineData(double.NaN, 2, "n/a")]
    public void Percent_formats_fractions(double fraction, int decimals, string expected) =>
        Assert.Equal(expected, ReportFormat.Percent(fraction, decimals));

    [Theory]
    [InlineData(0.0582, "0.058")]
    [InlineData(0.1, "0.100")]
    [InlineData(double.PositiveInfinity, "n/a")]
    public void Distortion_has_three_decimals(double distortion, string expected) =>
        Assert.Equal(expected, ReportFormat.Distortion(distortion));

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(3_500_000L, "3.34 MiB")]
    [InlineData(891_289_600L, "850 MiB")]
    [InlineData(2_147_483_648L, "2.00 GiB")]
    [InlineData(13_421_772_800L, "12.5 GiB")]
    public void Bytes_read_in_binary_units_with_three_figures(long bytes, string expected) =>
        Assert.Equal(expected, ReportFormat.Bytes(bytes));

    [Fact]
    public void Ours_vs_paper_names_both()
    {
        Assert.Equal("1.71% (paper 1.64%)", ReportFormat.OursVsPaper("1.71%", "1.64%"));
        Assert.Equal("1.71% (paper n/a)", ReportFormat.OursVsPaper("1.71%", null));
        Assert.Equal([CellKind.Ours, CellKind.Paper], ReportFormat.OursAndPaperCells("1", null).Select(cell => cell.Kind));
        Assert.Equal("n/a", ReportFormat.OursAndPaperCells("1", null)[1].Text);
    }

    [Theory]
    [InlineData(0.85, "850 ms")]
    [InlineData(12.34, "12.3 s")]
    [InlineData(245, "4 min 05 s")]
    [InlineData(3720, "1 h 02 min")]
    [InlineData(-2, "-2.0 s")]
    public void Durations_read_at_a_glance(double seconds, string expected) =>
        Assert.Equal(expected, ReportFormat.Duration(TimeSpan.FromSeconds(seconds)));
}
