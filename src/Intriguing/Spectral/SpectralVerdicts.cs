using System.Globalization;

namespace Intriguing.Spectral;

/// <summary>A claim the spectral report makes and whether the numbers bear it out: <paramref name="Holds"/> false means the sentence says what went wrong.</summary>
/// <param name="Holds">Whether the numbers bear the claim out.</param>
/// <param name="Sentence">The report's sentence (Markdown subset).</param>
/// <param name="Evidence">The numbers behind it in one plain line, when shorter than the sentence; null means the sentence is the evidence.</param>
public sealed record SpectralVerdict(bool Holds, string Sentence, string? Evidence = null);

/// <summary>One linear layer's bound beside the largest ratio its own worst local direction reached.</summary>
public sealed record LayerReach(string Model, string Layer, double Bound, double Measured);

/// <summary>
/// Turns the spectral study's numbers into the sentences of its report and figure captions (as <c>Units/UnitVerdicts</c> does
/// for the units): every claim is computed, and each can come out negative, saying which model, layer or image and by how much.
/// </summary>
public static class SpectralVerdicts
{
    /// <summary>A linear layer "meets" its bound when its own worst direction reaches at least this fraction of it.</summary>
    public const double MeetsFraction = 0.99;

    /// <summary>The whole network stays "far below" its bound when the largest measured ratio is under this fraction of the product.</summary>
    public const double FarBelowFraction = 0.5;

    /// <summary>Attacks needing at least this many times the certified radius (median) count as "far" from it.</summary>
    public const double FarRatio = 2;

    /// <summary>
    /// The caption of the certified-radius scatter: whether every plotted point (a correctly classified image an attack fooled)
    /// lies under the diagonal, i.e. its certified radius is below the perturbation that worked.
    /// </summary>
    public static SpectralVerdict ScatterCaption(IReadOnlyList<(string Model, IReadOnlyList<CertifiedImage> Images)> series, double tolerance = Soundness.Float64Tolerance)
    {
        ArgumentNullException.ThrowIfNull(series);
        const string What = "Per test image: the L2 radius the product of the layer bounds certifies (margin / (sqrt(2) * bound)) against the smallest L2 perturbation " +
            "L-BFGS, C&W or DeepFool needed. ";
        var points = series.SelectMany(entry => entry.Images.Where(image => image.AttackL2 is > 0 && image.CertifiedL2 > 0).Select(image => (entry.Model, Image: image))).ToList();
        if (points.Count == 0)
        {
            return new SpectralVerdict(true, What + "No test image was both classified correctly and fooled by an attack, so there is nothing to plot.");
        }
        var above = points.Where(point => point.Image.CertifiedL2 > point.Image.AttackL2!.Value * (1 + tolerance)).ToList();
        if (above.Count == 0)
        {
            double medianFactor = Median(points.Select(point => point.Image.AttackL2!.Value / point.Image.CertifiedL2));
            return new SpectralVerdict(true, What + string.Create(CultureInfo.InvariantCulture,
                $"All {points.Count} points lie under the diagonal (no certified radius exceeds a perturbation that worked); the distance below it is the gap, a factor {medianFactor:0.0} in the median."));
        }
        var worst = above.MaxBy(point => point.Image.CertifiedL2 / point.Image.AttackL2!.Value);
        return new SpectralVerdict(false, What + string.Create(CultureInfo.InvariantCulture,
            $"{above.Count} of {points.Count} points lie above the diagonal: a certified radius exceeds a perturbation that did change the class, so a bound is wrong " +
            $"(worst: {worst.Model}, test image {worst.Image.Index}, certified {worst.Image.CertifiedL2:0.####} against {worst.Image.AttackMethod ?? "an attack"}'s {worst.Image.AttackL2:0.####}, " +
            $"{Over(worst.Image.CertifiedL2, worst.Image.AttackL2!.Value)} over)."));
    }

    /// <summary>Section 4.4's bound as the claims table gives it.</summary>
    public const string BoundClaim =
        "The product of per-layer bounds (||W||_2 for linear layers, 1 or 1/4 for the nonlinearities, the Fourier bound for convolutions) bounds how far phi(x + r) moves, ||phi(x) - phi(x + r)|| <= L ||r|| (Szegedy et al., Section 4.4)";

    /// <summary>Section 4.4's remark on what the bounds say, as the claims table gives it.</summary>
    public const string RemarkClaim =
        "Large bounds permit instability but do not show it: the radii they certify are far below the perturbations that fool the networks (Szegedy et al., Section 4.4)";

    /// <summary>
    /// <paramref name="verdict"/> as a line of the report's claims table under <paramref name="id"/> and <paramref name="claim"/>:
    /// holds or does not hold, with <see cref="SpectralVerdict.Evidence"/> (or the sentence without its markup) as evidence.
    /// </summary>
    public static Reporting.ReportClaim ToReportClaim(string id, string claim, SpectralVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        string evidence = verdict.Evidence ?? verdict.Sentence.Replace("**", "", StringComparison.Ordinal).Replace("`", "", StringComparison.Ordinal);
        return new Reporting.ReportClaim(id, claim, verdict.Holds ? Reporting.ReportVerdict.Holds : Reporting.ReportVerdict.DoesNotHold, evidence);
    }

    /// <summary>Whether every measured ratio sat under its bound on every model; if not, the worst violation of each unsound model.</summary>
    public static SpectralVerdict Sound(IReadOnlyList<(string Model, SoundnessVerdict Verdict)> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var unsound = models.Where(entry => !entry.Verdict.Sound).ToList();
        if (unsound.Count == 0)
        {
            return new SpectralVerdict(true, string.Create(CultureInfo.InvariantCulture, $"Every measured ratio sits at or under its bound, on every model ({models.Count} analysed, `sound`)."));
        }
        var parts = unsound.Select(entry =>
        {
            var violations = entry.Verdict.Violations;
            if (violations.Count == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{entry.Model} is marked not sound without a recorded violation");
            }
            var worst = violations.MaxBy(violation => violation.Bound > 0 ? violation.Ratio / violation.Bound : double.PositiveInfinity)!;
            return string.Create(CultureInfo.InvariantCulture,
                $"on {entry.Model}, {worst.Where} measured {worst.Ratio:0.####} ({worst.Source}) against its bound {worst.Bound:0.####}, {Over(worst.Ratio, worst.Bound)} over " +
                $"({violations.Count} violation{(violations.Count == 1 ? "" : "s")})");
        });
        return new SpectralVerdict(false, "**Not sound**: " + string.Join("; ", parts) +
            ". A measured ratio above its bound means a bound, a layer description or the measurement is wrong there.");
    }

    /// <summary>Whether each linear layer's own worst local direction reaches its bound (the layer constants are tight).</summary>
    public static SpectralVerdict LinearLayersMeetBounds(IReadOnlyList<LayerReach> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var measured = layers.Where(layer => double.IsFinite(layer.Measured) && layer.Bound > 0).ToList();
        if (measured.Count == 0)
        {
            return new SpectralVerdict(false, "No linear layer's own worst direction was measured, so whether the layer constants are tight is not known.");
        }
        var least = measured.MinBy(layer => layer.Measured / layer.Bound)!;
        double fraction = least.Measured / least.Bound;
        if (fraction >= MeetsFraction)
        {
            return new SpectralVerdict(true, string.Create(CultureInfo.InvariantCulture,
                $"Each linear layer's own worst direction meets its bound ({measured.Count} layers; the least, {least.Model} {least.Layer}, reaches {Percent(fraction)} of it): the layer constants are tight."));
        }
        int shortCount = measured.Count(layer => layer.Measured / layer.Bound < MeetsFraction);
        return new SpectralVerdict(false, string.Create(CultureInfo.InvariantCulture,
            $"Not every linear layer's own worst direction meets its bound: {shortCount} of {measured.Count} stay under {Percent(MeetsFraction)} of it, the least " +
            $"{least.Model} {least.Layer} at {least.Measured:0.####} of {least.Bound:0.####} ({Percent(fraction)}): the local search stopped short there, or the bound is loose."));
    }

    /// <summary>How close the whole network's largest measured ratio comes to the product of its layer bounds.</summary>
    public static SpectralVerdict NetworkGap(string model, double product, double maxRatio, bool hasSigmoid)
    {
        if (!(product > 0) || !double.IsFinite(maxRatio))
        {
            return new SpectralVerdict(false, string.Create(CultureInfo.InvariantCulture, $"On {model} the network's ratio was not measured, so how close it comes to the product of the bounds is not known."));
        }
        double fraction = maxRatio / product;
        string numbers = string.Create(CultureInfo.InvariantCulture, $"on {model} the product is {product:0.0} while the largest measured ratio is {maxRatio:0.0} ({Percent(fraction)} of it)");
        if (fraction < FarBelowFraction)
        {
            return new SpectralVerdict(true, "Yet the whole network stays far below its bound: " + numbers +
                ", because the directions a layer stretches most are not the ones the previous layer hands it" +
                (hasSigmoid ? ", and the sigmoid's slope is 1/4 only at 0." : "."));
        }
        return new SpectralVerdict(false, "The whole network comes close to its bound: " + numbers + ", so the product is nearly tight here.");
    }

    /// <summary>
    /// Whether the bounds are honest (no certified radius above a perturbation that worked) and how far the certified radii are
    /// from the attacks' perturbations (median of attack / certified per model).
    /// </summary>
    public static SpectralVerdict Certification(IReadOnlyList<(string Model, IReadOnlyList<CertifiedImage> Images)> series, double tolerance = Soundness.Float64Tolerance)
    {
        ArgumentNullException.ThrowIfNull(series);
        var compared = series.Select(entry => (entry.Model, Images: entry.Images.Where(image => image.AttackL2 is > 0 && image.CertifiedL2 > 0).ToList()))
            .Where(entry => entry.Images.Count > 0).ToList();
        if (compared.Count == 0)
        {
            return new SpectralVerdict(false, "No test image was both classified correctly and fooled by an attack, so the certified radii have nothing to be compared with.");
        }
        var dishonest = compared.SelectMany(entry => entry.Images.Where(image => image.CertifiedL2 > image.AttackL2!.Value * (1 + tolerance)).Select(image => (entry.Model, Image: image))).ToList();
        if (dishonest.Count > 0)
        {
            var worst = dishonest.MaxBy(point => point.Image.CertifiedL2 / point.Image.AttackL2!.Value);
            return new SpectralVerdict(false, string.Create(CultureInfo.InvariantCulture,
                $"The bounds are not honest: on {dishonest.Count} image{(dishonest.Count == 1 ? "" : "s")} the certified radius exceeds a perturbation that changed the class " +
                $"(worst: {worst.Model}, test image {worst.Image.Index}, certified {worst.Image.CertifiedL2:0.####} against {worst.Image.AttackMethod ?? "an attack"}'s {worst.Image.AttackL2:0.####}, " +
                $"{Over(worst.Image.CertifiedL2, worst.Image.AttackL2!.Value)} over), so a bound is wrong."));
        }
        var medians = compared.Select(entry => (entry.Model, Ratio: Median(entry.Images.Select(image => image.AttackL2!.Value / image.CertifiedL2)))).ToList();
        string list = string.Join(", ", medians.Select(entry => string.Create(CultureInfo.InvariantCulture, $"{entry.Model} {entry.Ratio:0.0}x")));
        var closest = medians.MinBy(entry => entry.Ratio);
        string start = string.Create(CultureInfo.InvariantCulture, $"The attacks needed, in the median, this many times the certified radius: {list}. ");
        string evidence = string.Create(CultureInfo.InvariantCulture,
            $"median attack L2 / certified L2 radius: {list} ({compared.Sum(entry => entry.Images.Count)} fooled test images; \"far\" from {FarRatio:0.#}x); no certified radius exceeds a perturbation that worked");
        if (closest.Ratio >= FarRatio)
        {
            return new SpectralVerdict(true, start + string.Create(CultureInfo.InvariantCulture,
                $"So the bounds are honest (no certified radius exceeds a perturbation that worked) but far from explaining the adversarial examples: " +
                $"they certify radii at least {closest.Ratio:0.0} times smaller than the perturbations that work, and the paper's remark stands: large bounds permit instability, they do not measure it."),
                evidence);
        }
        return new SpectralVerdict(false, start + string.Create(CultureInfo.InvariantCulture,
            $"The bounds are honest (no certified radius exceeds a perturbation that worked), and on {closest.Model} they come within {closest.Ratio:0.0}x of the perturbations " +
            $"that work: there the bound nearly explains how small an adversarial perturbation can be."),
            evidence);
    }

    /// <summary>Whether every convolution's bound is the exact maximum over its frequencies or a certified bound just above it.</summary>
    public static SpectralVerdict FourierBounds(IReadOnlyList<(string Model, LayerRow Layer)> convolutions)
    {
        ArgumentNullException.ThrowIfNull(convolutions);
        if (convolutions.Count == 0)
        {
            return new SpectralVerdict(true, "No model here has a convolution.");
        }
        var estimates = convolutions.Where(entry => entry.Layer.BoundKind == NumberKind.Estimate || entry.Layer.Fourier is null).ToList();
        if (estimates.Count > 0)
        {
            return new SpectralVerdict(false, "The convolution bounds of " + string.Join(", ", estimates.Select(entry => $"{entry.Model} {entry.Layer.Name}")) +
                " are estimates, not upper bounds, and their products are estimates too.");
        }
        int exact = convolutions.Count(entry => entry.Layer.Fourier!.IsExact);
        double slack = convolutions.Max(entry => entry.Layer.Fourier!.Slack);
        string certified = exact == convolutions.Count ? "" : string.Create(CultureInfo.InvariantCulture,
            $"; the other {convolutions.Count - exact} have a certified bound at most {slack:0.0e+0} (relative) above that maximum");
        return new SpectralVerdict(true, string.Create(CultureInfo.InvariantCulture,
            $"Of {convolutions.Count} convolutions, {exact} have the exact maximum over their frequencies as bound (the frequencies that can reach it " +
            $"decomposed in float64, every other one proven below it by a Cholesky factorisation or its Frobenius norm){certified}. " +
            $"No bound is an estimate from below; a convolution's \"exact\" column is power iteration on the padded layer, an estimate from below, and never enters a bound."));
    }

    /// <summary>The constants of the layers without weights, as the bounds compute them, for the prose.</summary>
    public static string WeightlessConstants(LocalResponseNormSettings normalization, int poolKernel, int poolStride, long poolInput) =>
        string.Create(CultureInfo.InvariantCulture, $"ReLU and non-overlapping max-pooling add at most 1 (overlapping {poolKernel}x{poolKernel} / stride {poolStride} pooling, as in AlexNet, adds ") +
        string.Create(CultureInfo.InvariantCulture, $"{NonlinearBounds.MaxPool(poolKernel, poolStride, poolInput, poolInput):0.###}, not 1), the sigmoid {NonlinearBounds.Sigmoid:0.##}, local response normalisation ") +
        string.Create(CultureInfo.InvariantCulture, $"{NonlinearBounds.LocalResponseNorm(normalization):0.###} with AlexNet's constants (n {normalization.Size}, alpha {normalization.Alpha:G3}, beta {normalization.Beta:G3}, k {normalization.K:G3}; derived in docs/spectral.md)");

    /// <summary>Table 5's numbers in the paper's order, for the prose: "2.75, 10, 7, 7.5, 11; 3.12, 4, 4".</summary>
    public static string PaperTable5(IReadOnlyDictionary<string, double> table5)
    {
        ArgumentNullException.ThrowIfNull(table5);
        string Join(string prefix) => string.Join(", ", table5.Where(entry => entry.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(entry => entry.Value.ToString("0.##", CultureInfo.InvariantCulture)));
        return $"{Join("conv")}; {Join("fc")}";
    }

    private static string Over(double value, double reference) => reference > 0 ? Percent(value / reference - 1) : "infinitely";

    private static string Percent(double fraction) => Math.Abs(fraction) >= 1e-3 || fraction == 0
        ? (fraction * 100).ToString(Math.Abs(fraction) < 0.1 ? "0.##" : "0.#", CultureInfo.InvariantCulture) + "%"
        : (fraction * 100).ToString("0.0e+0", CultureInfo.InvariantCulture) + "%";

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
