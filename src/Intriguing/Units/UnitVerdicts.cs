using System.Globalization;

namespace Intriguing.Units;

/// <summary>
/// Turns the purity comparison of a layer into the verdict and a sentence a reader can check against the numbers.
/// A difference counts only when the test detects it (two-sided p &lt; 0.05) and it is more than negligible
/// (Cliff's |delta| &gt;= 0.147): with hundreds of directions the test alone flags differences too small to see.
/// </summary>
public static class UnitVerdicts
{
    public const double Alpha = 0.05;

    public static UnitVerdict Judge(string layer, MeasureComparison purity, int naturalCount, int randomCount, int top)
    {
        var kind = (purity.PValue < Alpha, purity.Magnitude, purity.CliffsDelta > 0) switch
        {
            (false, _, _) => UnitVerdictKind.NoDifference,
            (true, EffectMagnitude.Negligible, _) => UnitVerdictKind.NegligibleDifference,
            (true, _, true) => UnitVerdictKind.UnitsMoreCoherent,
            (true, _, false) => UnitVerdictKind.RandomMoreCoherent,
        };
        string finding = kind switch
        {
            UnitVerdictKind.NoDifference => "random directions are as coherent as single units (no difference detected)",
            UnitVerdictKind.NegligibleDifference => $"random directions are about as coherent as single units (the test detects a difference, but a negligible one: units {(purity.CliffsDelta > 0 ? "slightly more" : "slightly less")} pure)",
            UnitVerdictKind.UnitsMoreCoherent => $"single units are more coherent than random directions ({Words(purity.Magnitude)} effect)",
            _ => $"random directions are more coherent than single units ({Words(purity.Magnitude)} effect)",
        };
        string sentence = string.Create(CultureInfo.InvariantCulture,
            $"{layer}: {finding}: purity {purity.Natural:0.00} vs {purity.Random:0.00} (chance {purity.Chance:0.00}), " +
            $"Cliff's delta {purity.CliffsDelta:+0.00;-0.00;0.00}, p = {FormatP(purity.PValue)} ({naturalCount} units, {randomCount} random directions, top {top}).");
        return new UnitVerdict(kind, sentence);
    }

    /// <summary>A p-value that reads at a glance: 0.41, 0.003, 2.1e-12; "&lt; 1e-300" when it underflows.</summary>
    public static string FormatP(double p) => p switch
    {
        <= 0 => "< 1e-300",
        < 0.001 => p.ToString("0.0e+0", CultureInfo.InvariantCulture),
        < 0.01 => p.ToString("0.0000", CultureInfo.InvariantCulture),
        _ => p.ToString("0.000", CultureInfo.InvariantCulture),
    };

    public static string Words(EffectMagnitude magnitude) => magnitude switch
    {
        EffectMagnitude.Negligible => "negligible",
        EffectMagnitude.Small => "small",
        EffectMagnitude.Medium => "medium",
        _ => "large",
    };
}
