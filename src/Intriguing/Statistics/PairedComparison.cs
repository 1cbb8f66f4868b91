using System.Text;

namespace Intriguing.Statistics;

/// <summary>
/// Two error rates measured on the same images (two models on one test set, two attacks on one model), compared as
/// paired outcomes: <see cref="OnlyFirst"/> images wrong under the first only, <see cref="OnlySecond"/> under the
/// second only; <see cref="Difference"/> = first rate - second rate with its 95% interval (Agresti and Min's adjusted
/// Wald interval for paired proportions: half an image added to each discordant cell), and <see cref="PValue"/> of
/// <see cref="McNemar"/>'s exact test.
/// </summary>
public sealed record PairedComparison(int Count, int OnlyFirst, int OnlySecond, double Difference, double Lower, double Upper, double PValue)
{
    /// <summary>The level at which a verdict calls a difference shown.</summary>
    public const double Level = 0.05;

    /// <summary>True when the test shows the first rate higher than the second at <see cref="Level"/>.</summary>
    public bool FirstHigher => PValue < Level && OnlyFirst > OnlySecond;

    /// <summary>True when the test shows the first rate lower than the second at <see cref="Level"/>.</summary>
    public bool FirstLower => PValue < Level && OnlyFirst < OnlySecond;

    /// <summary>Compares per-image outcomes (true = wrong, or fooled) of the same images in the same order.</summary>
    public static PairedComparison Of(IReadOnlyList<bool> first, IReadOnlyList<bool> second)
    {
        if (first.Count != second.Count)
        {
            throw new BadInputException($"paired outcomes need the same images: {first.Count} against {second.Count}");
        }
        var counts = McNemar.Count(first, second);
        return FromCounts(counts.Items, counts.FirstOnly, counts.SecondOnly);
    }

    /// <summary>The comparison from its counts: <paramref name="count"/> images, the two discordant cells.</summary>
    public static PairedComparison FromCounts(int count, int onlyFirst, int onlySecond)
    {
        if (count < 1 || onlyFirst < 0 || onlySecond < 0 || onlyFirst + onlySecond > count)
        {
            throw new BadInputException($"paired counts must fit their images: {onlyFirst} + {onlySecond} discordant of {count}");
        }
        const double z = WilsonInterval.Z95;
        double b = onlyFirst + 0.5, c = onlySecond + 0.5, n = count + 2.0;
        double adjusted = (b - c) / n;
        double half = z * Math.Sqrt(Math.Max(0, (b + c) - (b - c) * (b - c) / n)) / n;
        return new PairedComparison(count, onlyFirst, onlySecond, (double)(onlyFirst - onlySecond) / count,
            Math.Max(-1, adjusted - half), Math.Min(1, adjusted + half), McNemar.ExactPValue(onlyFirst, onlySecond));
    }

    /// <summary>"+3.1 points [1.2, 5.0], 45 vs 14 images, exact McNemar p = 0.0001".</summary>
    public string Describe(string firstOnly = "first only", string secondOnly = "second only") => FormattableString.Invariant(
        $"{Difference * 100:+0.00;-0.00;0.00} points [{Lower * 100:0.00}, {Upper * 100:0.00}], {OnlyFirst} {firstOnly} vs {OnlySecond} {secondOnly} of {Count}, exact McNemar p = {PValues.Format(PValue)}");

    /// <summary>Per-image outcomes as a compact string ('1' wrong, '0' right), for cached evaluations.</summary>
    public static string Encode(IEnumerable<bool> outcomes)
    {
        var text = new StringBuilder();
        foreach (bool outcome in outcomes)
        {
            text.Append(outcome ? '1' : '0');
        }
        return text.ToString();
    }

    /// <summary>The outcomes <see cref="Encode"/> wrote.</summary>
    public static bool[] Decode(string encoded) => encoded.Select(character => character switch
    {
        '1' => true,
        '0' => false,
        _ => throw new BadInputException($"per-image outcomes hold only 0 and 1; found '{character}'"),
    }).ToArray();
}
