using Intriguing.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>
/// One test image: its logit margin, the L2 radius the network bound certifies around it, and the smallest L2 perturbation
/// that an attack needed to change its class (null if no attack succeeded on it).
/// </summary>
public sealed record CertifiedImage(int Index, int Label, double Margin, double CertifiedL2, double? AttackL2, string? AttackMethod);

/// <summary>Medians over the correctly classified images that an attack fooled, and how far apart the two radii are.</summary>
/// <param name="Images">Test images looked at.</param>
/// <param name="Correct">Images the model classified correctly (only they have a margin and a radius).</param>
/// <param name="Compared">Correct images with a successful attack, the ones the medians and the gap are over.</param>
/// <param name="MedianRatio">Median over images of attack L2 / certified L2: how many times larger the perturbation that
/// works is than the one the bound rules out.</param>
/// <param name="MedianGapL2">Median of attack L2 - certified L2.</param>
/// <param name="MedianCertifiedL2">Median certified L2 radius over the correct images.</param>
/// <param name="MedianAttackL2">Median L2 of the smallest successful attack over the compared images.</param>
/// <param name="MinRatio">Smallest attack L2 / certified L2 over the compared images; below 1 would contradict the bound.</param>
public sealed record CertifiedSummary(
    int Images,
    int Correct,
    int Compared,
    double MedianCertifiedL2,
    double MedianAttackL2,
    double MedianRatio,
    double MedianGapL2,
    double MinRatio);

/// <summary>
/// What the network's bound L certifies: if ||phi(x) - phi(x + r)|| &lt;= L ||r||, a change of class needs logits z_y and z_j
/// (j != y) to trade places, and |delta z_y - delta z_j| &lt;= sqrt(2) ||delta z||, so no r with
/// ||r||_2 &lt; margin / (sqrt(2) L) can change the class (margin = z_y - max_{j != y} z_j).
/// </summary>
public static class CertifiedRadius
{
    /// <param name="logits">The network's logits [N, classes] on the images.</param>
    /// <param name="labels">True labels [N].</param>
    /// <param name="networkBound">The product of the per-layer bounds.</param>
    /// <param name="attacks">Attack results on the same images (in the same order), by method name.</param>
    public static IReadOnlyList<CertifiedImage> Compute(Tensor logits, Tensor labels, double networkBound, IReadOnlyDictionary<string, AttackResult> attacks)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(attacks);
        if (!(networkBound > 0))
        {
            throw new BadInputException($"certified radius: the network bound must be positive; got {networkBound}");
        }
        using var scope = NewDisposeScope();
        var z = logits.detach().to_type(ScalarType.Float64).cpu();
        var y = labels.cpu().to_type(ScalarType.Int64);
        var own = z.gather(1, y.unsqueeze(1)).squeeze(1);
        var others = z.scatter(1, y.unsqueeze(1), full_like(own.unsqueeze(1), double.NegativeInfinity));
        var margins = (own - others.max(1).values).data<double>().ToArray();
        var labelValues = y.data<long>().ToArray();
        var images = new List<CertifiedImage>();
        for (int i = 0; i < margins.Length; i++)
        {
            if (!(margins[i] > 0))
            {
                continue;
            }
            double? attackL2 = null;
            string? method = null;
            foreach (var (name, result) in attacks)
            {
                var example = result.Examples[i];
                if (example.Success && example.OriginallyCorrect && (attackL2 is null || example.L2 < attackL2))
                {
                    attackL2 = example.L2;
                    method = name;
                }
            }
            images.Add(new CertifiedImage(i, (int)labelValues[i], margins[i], margins[i] / (Math.Sqrt(2) * networkBound), attackL2, method));
        }
        return images;
    }

    /// <summary>The medians and ratios over <paramref name="images"/> (the correct ones) out of <paramref name="imageCount"/> looked at; NaN where there is nothing to take a median of.</summary>
    public static CertifiedSummary Summarise(int imageCount, IReadOnlyList<CertifiedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var compared = images.Where(image => image.AttackL2 is > 0).ToList();
        return new CertifiedSummary(
            imageCount,
            images.Count,
            compared.Count,
            Median(images.Select(image => image.CertifiedL2)),
            Median(compared.Select(image => image.AttackL2!.Value)),
            Median(compared.Select(image => image.AttackL2!.Value / image.CertifiedL2)),
            Median(compared.Select(image => image.AttackL2!.Value - image.CertifiedL2)),
            compared.Count == 0 ? double.NaN : compared.Min(image => image.AttackL2!.Value / image.CertifiedL2));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
