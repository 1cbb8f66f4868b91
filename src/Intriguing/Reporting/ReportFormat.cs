using System.Globalization;

namespace Intriguing.Reporting;

/// <summary>
/// The number formats every study uses in its tables, so that Table 1 and Table 3 read alike.
/// Always invariant culture; NaN and infinities (a study that could not measure) print as "n/a".
/// </summary>
public static class ReportFormat
{
    /// <summary>Shown for numbers that are missing or not finite.</summary>
    public const string NotAvailable = "n/a";

    /// <summary>A fraction as a percentage: 0.0164 -> "1.64%".</summary>
    public static string Percent(double fraction, int decimals = 2) =>
        double.IsFinite(fraction) ? (fraction * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + "%" : NotAvailable;

    /// <summary>
    /// An average distortion, the paper's sqrt(sum (x' - x)^2 / n) on [0,1] pixels, to 3 decimals: 0.0582 -> "0.058".
    /// </summary>
    public static string Distortion(double distortion) =>
        double.IsFinite(distortion) ? distortion.ToString("F3", CultureInfo.InvariantCulture) : NotAvailable;

    /// <summary>A number with a fixed count of decimals, invariant culture.</summary>
    public static string Number(double value, int decimals = 2) =>
        double.IsFinite(value) ? value.ToString("F" + decimals, CultureInfo.InvariantCulture) : NotAvailable;

    /// <summary>One cell holding both numbers when a table has no room for two columns: "1.71% (paper 1.64%)".</summary>
    public static string OursVsPaper(string ours, string? paper) =>
        paper is null ? $"{ours} (paper {NotAvailable})" : $"{ours} (paper {paper})";

    /// <summary>
    /// The usual pair of cells: ours then the paper's, marked so the HTML tells them apart.
    /// A null paper value (the paper did not report it) becomes "n/a".
    /// </summary>
    public static ReportCell[] OursAndPaperCells(string ours, string? paper) =>
        [ReportCell.Ours(ours), ReportCell.Paper(paper ?? NotAvailable)];

    /// <summary>A size in bytes in binary units: 512 -> "512 B", 3_500_000 -> "3.34 MiB", 2_147_483_648 -> "2.00 GiB".</summary>
    public static string Bytes(long bytes)
    {
        if (bytes < 1024)
        {
            return $"{Math.Max(0, bytes).ToString(CultureInfo.InvariantCulture)} B";
        }
        string[] units = ["KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        // Three significant figures at most, so "3.34 MiB", "850 MiB" and "2.00 GiB" read alike.
        string format = value >= 100 ? "F0" : value >= 10 ? "F1" : "F2";
        return $"{value.ToString(format, CultureInfo.InvariantCulture)} {units[unit]}";
    }

    /// <summary>A wall time that reads at a glance: "850 ms", "12.3 s", "4 min 05 s", "1 h 02 min".</summary>
    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            return "-" + Duration(duration.Negate());
        }
        if (duration.TotalSeconds < 1)
        {
            return $"{Math.Round(duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)} ms";
        }
        if (duration.TotalMinutes < 1)
        {
            return $"{duration.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s";
        }
        // Whole seconds from here on, so that 59.6 s past a minute does not print as "60 s".
        long totalSeconds = (long)Math.Round(duration.TotalSeconds);
        if (totalSeconds < 3600)
        {
            return $"{totalSeconds / 60} min {totalSeconds % 60:00} s";
        }
        long totalMinutes = (long)Math.Round(duration.TotalMinutes);
        return $"{totalMinutes / 60} h {totalMinutes % 60:00} min";
    }
}
