using System.Globalization;

namespace Intriguing.Statistics;

/// <summary>How p-values are written in the report, the docs and the terminal.</summary>
public static class PValues
{
    /// <summary>A p-value that reads at a glance: 0.41, 0.003, 2.1e-12; "&lt; 1e-300" when it underflows.</summary>
    public static string Format(double p) => p switch
    {
        <= 0 => "< 1e-300",
        < 0.001 => p.ToString("0.0e+0", CultureInfo.InvariantCulture),
        < 0.01 => p.ToString("0.0000", CultureInfo.InvariantCulture),
        _ => p.ToString("0.000", CultureInfo.InvariantCulture),
    };
}
