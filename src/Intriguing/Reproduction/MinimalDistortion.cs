using Intriguing.Data;

namespace Intriguing.Reproduction;

/// <summary>
/// The minimal-distortion measurements of Tables 1 and 3: box-constrained L-BFGS towards a random wrong class (the
/// paper's setting) and untargeted, beside C&amp;W L2 and DeepFool (untargeted), on the same test images.
/// Distortion is the paper's sqrt(sum((x'-x)^2)/784), averaged over successful examples.
/// </summary>
public static class MinimalDistortion
{
    public static readonly IReadOnlyList<(string Key, string Method, bool Targeted, string Label)> Attacks =
    [
        ("lbfgsTargeted", "lbfgs", true, "L-BFGS targeted"),
        ("lbfgs", "lbfgs", false, "L-BFGS untargeted"),
        ("cw", "cw", false, "C&W L2"),
        ("deepfool", "deepfool", false, "DeepFool"),
    ];

    /// <summary>One attack's outcome on one model: mean and median distortion over successes, and the success rate.</summary>
    public sealed record Measured(double MeanDistortion, double MedianDistortion, double SuccessRate, int Attempted, double GradientsPerImage, double Seconds);

    public static Dictionary<string, Measured> Measure(StudyContext context, string model, Split split, int count, bool targetedLbfgsOnly = false)
    {
        var measured = new Dictionary<string, Measured>();
        foreach (var (key, method, targeted, _) in Attacks)
        {
            if (targetedLbfgsOnly && key != "lbfgsTargeted")
            {
                continue;
            }
            var summary = context.Attack(model, split, method, targeted, count).Summary;
            measured[key] = new Measured(summary.MeanDistortion, summary.MedianDistortion, summary.SuccessRate, summary.Attempted,
                summary.GradientEvaluationsPerImage, summary.Seconds);
        }
        return measured;
    }
}
