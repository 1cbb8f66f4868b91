using System.Globalization;
using Intriguing.Reporting;

namespace Intriguing.DistortionBounds;

/// <summary>What the starts of one model did: agreed, spread, neither clearly, or too few images to say.</summary>
public enum StartAgreement
{
    /// <summary>At most <see cref="ConvexityVerdicts.AgreeShare"/> of the images have starts more than the tolerance apart.</summary>
    Agree,

    /// <summary>At least <see cref="ConvexityVerdicts.SpreadShare"/> of the images have starts more than the tolerance apart.</summary>
    Spread,

    /// <summary>Between the two.</summary>
    Mixed,

    /// <summary>Fewer than <see cref="ConvexityVerdicts.MinimumImages"/> images with two successful starts.</summary>
    TooFew,
}

/// <summary>One model of the non-convexity check: its name, whether its targeted problem is convex, and its spread over starts.</summary>
/// <param name="Model">The zoo model.</param>
/// <param name="Convex">True for a softmax model (convex problem), false for a network.</param>
/// <param name="Spread">The spread of the minimal distortion over starts.</param>
public sealed record ModelStarts(string Model, bool Convex, StartSpread Spread)
{
    /// <summary>What its starts did (<see cref="ConvexityVerdicts.Agreement"/>).</summary>
    public StartAgreement Agreement => ConvexityVerdicts.Agreement(Spread);

    /// <summary>True when the starts did what the model's convexity predicts: agree for a convex problem, spread otherwise.</summary>
    public bool AsExpected => Agreement == (Convex ? StartAgreement.Agree : StartAgreement.Spread);
}

/// <summary>
/// Reads the spread over starts as a verdict on the non-convexity remark (Szegedy et al., Section 4.1: L-BFGS finds a
/// local minimum, so the distortion is an upper bound): a convex model's starts should agree (at most 20% of the
/// images with starts more than 1% apart), a network's should spread (at least half of them). A convex model's starts
/// are not identical: each run stops after a bounded number of iterations, so its residual spread (a few tenths of a
/// percent on MNIST) is the optimiser's precision, and the thresholds leave room for it. The claim holds when
/// every model does what its convexity predicts, partly when some do, and does not hold when none does.
/// </summary>
public static class ConvexityVerdicts
{
    /// <summary>A model's starts agree when at most this share of its images disagree.</summary>
    public const double AgreeShare = 0.2;

    /// <summary>A model's starts spread when at least this share of its images disagree.</summary>
    public const double SpreadShare = 0.5;

    /// <summary>Fewer compared images than this decide nothing.</summary>
    public const int MinimumImages = 5;

    /// <summary>The claim as the report's claims table gives it.</summary>
    public const string ClaimText =
        "Minimal distortion is a non-convex problem for a network, so L-BFGS finds local minima and its distortion is an upper bound; " +
        "for a softmax model the problem is convex (Szegedy et al., Section 4.1)";

    /// <summary>What <paramref name="spread"/>'s starts did.</summary>
    public static StartAgreement Agreement(StartSpread spread)
    {
        ArgumentNullException.ThrowIfNull(spread);
        return spread.Compared < MinimumImages ? StartAgreement.TooFew
            : spread.ShareDisagreeing <= AgreeShare ? StartAgreement.Agree
            : spread.ShareDisagreeing >= SpreadShare ? StartAgreement.Spread
            : StartAgreement.Mixed;
    }

    /// <summary>The agreement in words: "starts agree", "starts spread", "mixed", "too few images".</summary>
    public static string Words(StartAgreement agreement) => agreement switch
    {
        StartAgreement.Agree => "starts agree",
        StartAgreement.Spread => "starts spread",
        StartAgreement.Mixed => "mixed",
        _ => "too few images",
    };

    /// <summary>One model's numbers in a line: "fc100-100-10 (not convex): starts spread, 84% of 48 images ..., median 3.1%, max 40%".</summary>
    public static string Describe(ModelStarts model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var spread = model.Spread;
        return string.Create(CultureInfo.InvariantCulture,
            $"{model.Model} ({(model.Convex ? "convex" : "not convex")}): {Words(model.Agreement)}, {ReportFormat.Percent(spread.ShareDisagreeing, 0)} of " +
            $"{spread.Compared} images with starts more than {ReportFormat.Percent(spread.Tolerance, 0)} apart, median spread " +
            $"{ReportFormat.Percent(spread.MedianSpread)}, max {ReportFormat.Percent(spread.MaxSpread)}");
    }

    /// <summary>
    /// The claim's verdict over <paramref name="models"/>: inconclusive when any has too few images, holds when every
    /// model does what its convexity predicts, does not hold when none does, partly otherwise; not run without models.
    /// </summary>
    public static ReportClaim Claim(string id, IReadOnlyList<ModelStarts> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0)
        {
            return new ReportClaim(id, ClaimText, ReportVerdict.NotRun, "no model was attacked from several starts");
        }
        int expected = models.Count(model => model.AsExpected);
        var verdict = models.Any(model => model.Agreement == StartAgreement.TooFew) ? ReportVerdict.Inconclusive
            : expected == models.Count ? ReportVerdict.Holds
            : expected == 0 ? ReportVerdict.DoesNotHold
            : ReportVerdict.Partly;
        string starts = models[0].Spread.Starts.ToString(CultureInfo.InvariantCulture);
        return new ReportClaim(id, ClaimText, verdict,
            $"L-BFGS targeted from {starts} starts per image: " + string.Join("; ", models.Select(Describe)));
    }

    /// <summary>Where the claim stands before the study runs.</summary>
    public static ReportClaim Planned(string id) => new(id, ClaimText, ReportVerdict.NotRun, "not run yet");
}
