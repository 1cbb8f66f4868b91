namespace Intriguing.Spectral;

/// <summary>A measured ratio above its bound: <paramref name="Where"/> is a layer's name or "network".</summary>
public sealed record Violation(string Where, string Source, double Ratio, double Bound);

/// <summary>Whether every measured ratio sat at or under its bound (the <c>sound</c> of docs/json-output.md), and where not.</summary>
/// <param name="Tolerance">Relative slack for rounding: a ratio counts as a violation above bound * (1 + tolerance).</param>
/// <param name="Sound">True when no measured ratio exceeded its bound beyond the tolerance.</param>
/// <param name="Violations">Each ratio that did, with where and from which source.</param>
public sealed record SoundnessVerdict(bool Sound, IReadOnlyList<Violation> Violations, double Tolerance);

/// <summary>
/// The check that makes the bounds testable: an upper bound that a measured amplification exceeds is wrong (a bug in a bound,
/// in the layer descriptions, or in the measurement), and the analysis says so instead of printing a number.
/// </summary>
public static class Soundness
{
    /// <summary>Rounding slack for measurements in float64: far above its error, far below any real violation.</summary>
    public const double Float64Tolerance = 1e-6;

    /// <summary>Rounding slack for measurements in float32 (AlexNet).</summary>
    public const double Float32Tolerance = 1e-4;

    /// <param name="layerBounds">L_k for each layer, in the order of <paramref name="measured"/>'s layers.</param>
    /// <param name="networkBound">The bound on the whole network's ratio (the product of the L_k).</param>
    /// <param name="measured">The measured ratios.</param>
    /// <param name="tolerance">Relative slack for rounding.</param>
    /// <param name="certified">Optional per-image certified radii beside the attacks' distortions: a certified radius above a
    /// distortion that did fool the model is a violation too.</param>
    public static SoundnessVerdict Check(IReadOnlyList<double> layerBounds, double networkBound, SensitivityResult measured,
        double tolerance = Float64Tolerance, IReadOnlyList<CertifiedImage>? certified = null)
    {
        ArgumentNullException.ThrowIfNull(layerBounds);
        ArgumentNullException.ThrowIfNull(measured);
        if (layerBounds.Count != measured.Layers.Count)
        {
            throw new BadInputException($"soundness check: {layerBounds.Count} bounds for {measured.Layers.Count} measured layers");
        }
        var violations = new List<Violation>();
        for (int k = 0; k < layerBounds.Count; k++)
        {
            foreach (var stats in measured.Layers[k].BySource)
            {
                if (Exceeds(stats.MaxRatio, layerBounds[k], tolerance))
                {
                    violations.Add(new Violation(measured.Layers[k].Name, stats.Source, stats.MaxRatio, layerBounds[k]));
                }
            }
        }
        foreach (var stats in measured.NetworkBySource)
        {
            if (Exceeds(stats.MaxRatio, networkBound, tolerance))
            {
                violations.Add(new Violation("network", stats.Source, stats.MaxRatio, networkBound));
            }
        }
        foreach (var image in certified ?? [])
        {
            if (image.AttackL2 is double attack && Exceeds(image.CertifiedL2, attack, tolerance))
            {
                violations.Add(new Violation($"certified radius of test image {image.Index}", image.AttackMethod ?? "attack", image.CertifiedL2, attack));
            }
        }
        return new SoundnessVerdict(violations.Count == 0, violations, tolerance);
    }

    /// <summary>A source without samples has a NaN maximum and nothing to check.</summary>
    private static bool Exceeds(double ratio, double bound, double tolerance) =>
        double.IsNaN(ratio) ? false : !(ratio <= bound * (1 + tolerance));
}
