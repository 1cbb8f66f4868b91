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

    /// <summary>
    /// The verdict from <paramref name="comparisons"/>' purity (the first of them, <see cref="LayerUnits.PurityMeasure"/>); a
    /// label-free measure that shows a detected, non-negligible difference is added to the sentence, so it is not hidden.
    /// </summary>
    public static UnitVerdict Judge(string layer, string layerBelow, IReadOnlyList<MeasureComparison> comparisons, int naturalCount, int randomCount, int top)
    {
        var purity = comparisons.First(comparison => comparison.Measure == LayerUnits.PurityMeasure);
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
            $"Cliff's delta {purity.CliffsDelta:+0.00;-0.00;0.00}, p = {FormatP(purity.PValue)} ({naturalCount} units, {randomCount} random directions, top {top})");
        var labelFree = comparisons
            .Where(comparison => comparison.Measure != LayerUnits.PurityMeasure && comparison.PValue < Alpha && comparison.Magnitude != EffectMagnitude.Negligible)
            // Under the first hidden layer the layer below is the pixels: say it once.
            .Where(comparison => !(comparison.Measure == LayerUnits.LayerBelowCosineMeasure && layerBelow == UnitAnalysis.PixelsLayer))
            .Select(comparison => string.Create(CultureInfo.InvariantCulture,
                $"without labels, the top images of {(comparison.CliffsDelta > 0 ? "single units" : "random directions")} are more alike in " +
                $"{(comparison.Measure == LayerUnits.PixelCosineMeasure ? "pixel space" : $"the layer below ({layerBelow})")} " +
                $"(cosine {comparison.Natural:0.000} vs {comparison.Random:0.000}, chance {comparison.Chance:0.000}, delta {comparison.CliffsDelta:+0.00;-0.00}, {Words(comparison.Magnitude)}, p = {FormatP(comparison.PValue)})"))
            .ToList();
        sentence += labelFree.Count == 0 ? "." : "; " + string.Join("; ", labelFree) + ".";
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
