using Intriguing.Reporting;

namespace Intriguing.Transfer;

/// <summary>How the transfer sentences and tables write their numbers: rates to one decimal, with their interval.</summary>
public static class TransferText
{
    /// <summary>A rate as a percentage to one decimal: 0.0742 -> "7.4%".</summary>
    public static string Percent(double rate) => ReportFormat.Percent(rate, 1);

    /// <summary>A rate with its interval: "7.4% [5.9%, 9.2%]".</summary>
    public static string Rate(double rate, double[] interval) => $"{Percent(rate)} [{Percent(interval[0])}, {Percent(interval[1])}]";

    /// <summary>A difference of two rates in percentage points: 0.022 -> "2.2 points".</summary>
    public static string Points(double difference) => ReportFormat.Number(difference * 100, 1) + " points";

    /// <summary>A number with a fixed count of decimals.</summary>
    public static string Number(double value, int decimals = 3) => ReportFormat.Number(value, decimals);

    /// <summary>Rates joined by " / ".</summary>
    public static string Rates(IEnumerable<double> rates) => string.Join(" / ", rates.Select(Percent));
}
