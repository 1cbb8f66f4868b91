using System.Globalization;
using Intriguing.Statistics;

namespace Intriguing.Units;

/// <summary>
/// Turns the purity comparison of a layer into the verdict and a sentence a reader can check against the numbers.
/// Every Mann-Whitney p-value reported together (each layer's three measures, over every layer of a run) is one family,
/// corrected with Holm's method (<see cref="JudgeTogether(IReadOnlyList{LayerUnits})"/>). A difference counts only when
/// the test detects it (Holm-adjusted p &lt; 0.05) and it is more than negligible (Cliff's |delta| &gt;= 0.147): with
/// hundreds of directions the test alone flags differences too small to see. "No difference detected" is only that:
/// no equivalence margin is tested, so it does not show that units and random directions are equally coherent.
/// </summary>
public static class UnitVerdicts
{
    /// <summary>The significance level of the Holm-adjusted p-values, 0.05.</summary>
    public const double Alpha = 0.05;

    /// <summary>Cliff's |delta| below this is negligible (Romano et al. 2006).</summary>
    public const double NegligibleDelta = 0.147;

    /// <summary>
    /// Holm over every comparison of every layer in <paramref name="layers"/>, and each layer's verdict again from its
    /// adjusted purity p-value. The layers come back in order, each comparison with its adjusted p and the family size.
    /// </summary>
    public static IReadOnlyList<LayerUnits> JudgeTogether(IReadOnlyList<LayerUnits> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var corrected = Correct([.. layers.Select(layer => layer.Comparisons)]);
        return [.. layers.Select((layer, index) => layer with
        {
            Comparisons = corrected[index],
            Verdict = Judge(layer.Layer, layer.LayerBelow, corrected[index], layer.Natural.Compared, layer.Random.Compared, layer.Top),
        })];
    }

    /// <summary>
    /// Holm over every comparison in <paramref name="families"/> taken as one family: the same comparisons, grouped as
    /// given, each with <see cref="MeasureComparison.AdjustedPValue"/> and <see cref="MeasureComparison.Tests"/> set.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<MeasureComparison>> Correct(IReadOnlyList<IReadOnlyList<MeasureComparison>> families)
    {
        ArgumentNullException.ThrowIfNull(families);
        var all = families.SelectMany(family => family).ToList();
        double[] adjusted = Holm.Adjust([.. all.Select(comparison => comparison.PValue)]);
        var result = new List<IReadOnlyList<MeasureComparison>>();
        int next = 0;
        foreach (var family in families)
        {
            result.Add([.. family.Select(comparison => comparison with { AdjustedPValue = adjusted[next++], Tests = all.Count })]);
        }
        return result;
    }

    /// <summary>
    /// The verdict from <paramref name="comparisons"/>' purity (the first of them, <see cref="LayerUnits.PurityMeasure"/>), read
    /// from its Holm-adjusted p-value; a label-free measure that shows a detected, non-negligible difference is added to the
    /// sentence, so it is not hidden.
    /// </summary>
    /// <exception cref="ArgumentException">Comparisons whose p-values have not been corrected (<see cref="Correct"/>).</exception>
    public static UnitVerdict Judge(string layer, string layerBelow, IReadOnlyList<MeasureComparison> comparisons, int naturalCount, int randomCount, int top)
    {
        ArgumentNullException.ThrowIfNull(comparisons);
        if (comparisons.Any(comparison => double.IsNaN(comparison.AdjustedPValue)))
        {
            throw new ArgumentException("the comparisons' p-values are not corrected for multiple tests yet (UnitVerdicts.Correct)", nameof(comparisons));
        }
        var purity = comparisons.First(comparison => comparison.Measure == LayerUnits.PurityMeasure);
        var kind = KindOf(purity);
        string finding = kind switch
        {
            UnitVerdictKind.NoDifference => "no difference in label purity detected between single units and random directions",
            UnitVerdictKind.NegligibleDifference => $"a difference in label purity is detected, but a negligible one (units {(purity.CliffsDelta > 0 ? "slightly more" : "slightly less")} pure)",
            UnitVerdictKind.UnitsMoreCoherent => $"single units are more coherent than random directions ({Words(purity.Magnitude)} effect)",
            _ => $"random directions are more coherent than single units ({Words(purity.Magnitude)} effect)",
        };
        string sentence = string.Create(CultureInfo.InvariantCulture,
            $"{layer}: {finding}: purity {purity.Natural:0.00} vs {purity.Random:0.00} (chance {purity.Chance:0.00}), " +
            $"Cliff's delta {purity.CliffsDelta:+0.00;-0.00;0.00}, p = {PValues.Format(purity.PValue)}, Holm-adjusted over {purity.Tests} tests p = {PValues.Format(purity.AdjustedPValue)} " +
            $"({naturalCount} units, {randomCount} random directions, top {top})");
        var labelFree = comparisons
            .Where(comparison => comparison.Measure != LayerUnits.PurityMeasure && comparison.AdjustedPValue < Alpha && comparison.Magnitude != EffectMagnitude.Negligible)
            // Under the first hidden layer the layer below is the pixels: say it once.
            .Where(comparison => !(comparison.Measure == LayerUnits.LayerBelowCosineMeasure && layerBelow == UnitAnalysis.PixelsLayer))
            .Select(comparison => string.Create(CultureInfo.InvariantCulture,
                $"without labels, the top images of {(comparison.CliffsDelta > 0 ? "single units" : "random directions")} are more alike in " +
                $"{(comparison.Measure == LayerUnits.PixelCosineMeasure ? "pixel space" : $"the layer below ({layerBelow})")} " +
                $"(cosine {comparison.Natural:0.000} vs {comparison.Random:0.000}, chance {comparison.Chance:0.000}, delta {comparison.CliffsDelta:+0.00;-0.00}, {Words(comparison.Magnitude)}, " +
                $"Holm-adjusted p = {PValues.Format(comparison.AdjustedPValue)})"))
            .ToList();
        sentence += labelFree.Count == 0 ? "." : "; " + string.Join("; ", labelFree) + ".";
        return new UnitVerdict(kind, sentence, purity.Tests);
    }

    /// <summary>The verdict's kind from a corrected comparison: detected (adjusted p &lt; alpha), then by the size and sign of Cliff's delta.</summary>
    public static UnitVerdictKind KindOf(MeasureComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        return (comparison.AdjustedPValue < Alpha, comparison.Magnitude, comparison.CliffsDelta > 0) switch
        {
            (false, _, _) => UnitVerdictKind.NoDifference,
            (true, EffectMagnitude.Negligible, _) => UnitVerdictKind.NegligibleDifference,
            (true, _, true) => UnitVerdictKind.UnitsMoreCoherent,
            (true, _, false) => UnitVerdictKind.RandomMoreCoherent,
        };
    }

    /// <summary>Section 3's claim as the report's claims table gives it.</summary>
    public const string PaperClaimText = "Single units are no more semantically coherent than random directions of the same layer (Szegedy et al., Section 3, Figures 1-4)";

    /// <summary>
    /// Section 3's claim over every judged layer, as a line of the report's claims table: it holds when no layer's single
    /// units come out purer than its random directions (a detected, non-negligible difference), does not hold when every
    /// layer's do, and partly holds otherwise; no layer is inconclusive. "Holds" means not contradicted: no equivalence
    /// margin is tested, which the evidence says.
    /// </summary>
    /// <param name="layers">Each layer's model, name and verdict.</param>
    /// <param name="tests">The size of the Holm family the verdicts were read from.</param>
    public static Reporting.ReportClaim PaperClaim(IReadOnlyList<(string Model, string Layer, UnitVerdictKind Kind)> layers, int tests)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            return new Reporting.ReportClaim("1", PaperClaimText, Reporting.ReportVerdict.Inconclusive, "no layer was judged");
        }
        var against = layers.Where(layer => layer.Kind == UnitVerdictKind.UnitsMoreCoherent).ToList();
        var verdict = against.Count == 0 ? Reporting.ReportVerdict.Holds
            : against.Count == layers.Count ? Reporting.ReportVerdict.DoesNotHold : Reporting.ReportVerdict.Partly;
        int Count(UnitVerdictKind kind) => layers.Count(layer => layer.Kind == kind);
        string evidence =
            $"single units purer than random directions on {against.Count} of {layers.Count} layers" +
            (against.Count == 0 ? "" : $" ({string.Join(", ", against.Select(layer => $"{layer.Model} {layer.Layer}"))})") +
            $"; no difference detected on {Count(UnitVerdictKind.NoDifference)}, negligible on {Count(UnitVerdictKind.NegligibleDifference)}, random purer on {Count(UnitVerdictKind.RandomMoreCoherent)} " +
            $"(label purity of the top images, Mann-Whitney, Holm-adjusted over {tests} tests, |Cliff's delta| >= {NegligibleDelta.ToString(CultureInfo.InvariantCulture)}; no equivalence test)";
        return new Reporting.ReportClaim("1", PaperClaimText, verdict, evidence);
    }

    /// <summary>"negligible", "small", "medium" or "large".</summary>
    public static string Words(EffectMagnitude magnitude) => magnitude switch
    {
        EffectMagnitude.Negligible => "negligible",
        EffectMagnitude.Small => "small",
        EffectMagnitude.Medium => "medium",
        _ => "large",
    };

    /// <summary>A verdict in a few words, for a table cell.</summary>
    public static string Words(UnitVerdictKind kind) => kind switch
    {
        UnitVerdictKind.NoDifference => "no difference detected",
        UnitVerdictKind.NegligibleDifference => "negligible difference detected",
        UnitVerdictKind.UnitsMoreCoherent => "units more coherent",
        _ => "random more coherent",
    };
}
