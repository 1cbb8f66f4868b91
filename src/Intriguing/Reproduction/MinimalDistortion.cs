using Intriguing.Attacks;
using Intriguing.Data;

namespace Intriguing.Reproduction;

/// <summary>
/// The minimal-distortion measurements of Tables 1 and 3: box-constrained L-BFGS towards a random wrong class (the
/// paper's setting) and untargeted, beside C&amp;W L2 and DeepFool (untargeted), on the same test images.
/// Distortion is the paper's sqrt(sum((x'-x)^2)/784), averaged over successful examples.
/// </summary>
public static class MinimalDistortion
{
    /// <summary>One column: the report key, the attack (a value; its settings key the run), targeted or not, the label.</summary>
    public sealed record Column(string Key, Attack Attack, bool Targeted, string Label);

    /// <summary>The columns with the attacks' default settings; <paramref name="lbfgs"/> replaces L-BFGS's settings.</summary>
    public static IReadOnlyList<Column> Columns(BoxConstrainedLbfgs? lbfgs = null) =>
    [
        new("lbfgsTargeted", lbfgs ?? new BoxConstrainedLbfgs(), true, "L-BFGS targeted"),
        new("lbfgs", lbfgs ?? new BoxConstrainedLbfgs(), false, "L-BFGS untargeted"),
        new("cw", new CarliniWagnerL2(), false, "C&W L2"),
        new("deepfool", new DeepFool(), false, "DeepFool"),
    ];

    /// <summary>The default columns: targeted and untargeted L-BFGS, C&amp;W L2 and DeepFool, with their defaults.</summary>
    public static readonly IReadOnlyList<Column> Attacks = Columns();

    /// <summary>What the columns' results depend on: every attack's settings, for a study's fingerprint.</summary>
    public static string Describe(IReadOnlyList<Column> columns) =>
        string.Join(";", columns.Select(column => $"{column.Key}:{column.Attack.Describe()}:targeted={column.Targeted}"));

    /// <summary>One attack's outcome on one model: mean and median distortion over successes, and the success rate.</summary>
    public sealed record Measured(double MeanDistortion, double MedianDistortion, double SuccessRate, int Attempted, double GradientsPerImage, double Seconds);

    /// <summary>
    /// Runs each of <paramref name="columns"/> (default <see cref="Attacks"/>; only "lbfgsTargeted" when
    /// <paramref name="targetedLbfgsOnly"/>) on the first <paramref name="count"/> test images against
    /// <paramref name="model"/> trained on <paramref name="split"/>, through the context's shared runs.
    /// </summary>
    /// <returns>Each column's measurement by its key.</returns>
    public static Dictionary<string, Measured> Measure(StudyContext context, string model, Split split, int count, bool targetedLbfgsOnly = false,
        IReadOnlyList<Column>? columns = null)
    {
        var measured = new Dictionary<string, Measured>();
        foreach (var (key, attack, targeted, _) in columns ?? Attacks)
        {
            if (targetedLbfgsOnly && key != "lbfgsTargeted")
            {
                continue;
            }
            var summary = context.Attack(model, split, attack, targeted, count).Summary;
            measured[key] = new Measured(summary.MeanDistortion, summary.MedianDistortion, summary.SuccessRate, summary.Attempted,
                summary.GradientEvaluationsPerImage, summary.Seconds);
        }
        return measured;
    }
}
