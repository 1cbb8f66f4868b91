using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// What an attack did to one image. <see cref="Success"/> comes from a fresh forward pass of the clipped
/// adversarial image, never from the attack's own bookkeeping. Distances are measured on that clipped image:
/// <see cref="Distortion"/> is the paper's sqrt(sum((x'-x)^2)/D), D values per input (784 for MNIST), <see cref="L2"/> and <see cref="Linf"/> the usual norms.
/// <see cref="Target"/> is null for an untargeted attack. <see cref="OriginallyCorrect"/> says whether the model got
/// the clean image right (success rates in the paper's sense count only those).
/// </summary>
public sealed record AdversarialExample(
    int Index,
    int Label,
    int? Target,
    int CleanPrediction,
    bool OriginallyCorrect,
    bool Success,
    double Distortion,
    double L2,
    double Linf,
    int FinalPrediction,
    double FinalConfidence,
    long GradientEvaluations);

/// <summary>
/// A batch summary. Rates are fractions in [0,1]. <see cref="SuccessRate"/> and the distortion statistics count only
/// images the model classified correctly before the attack (<see cref="Attempted"/> of them); distortions average over
/// successes. <see cref="ErrorRate"/> is the model's error on all <see cref="Count"/> attacked images (what FGSM and
/// PGD results usually quote). <see cref="Verified"/> is true when every point handed out was re-classified by a fresh
/// forward pass and lies inside the model's box (success counts only from that pass); <see cref="RejectedClaims"/> counts images the attack thought it had fooled but the re-check did not confirm.
/// </summary>
public sealed record AttackSummary(
    string Method,
    bool Targeted,
    int Count,
    int Attempted,
    int Successes,
    double SuccessRate,
    double MeanDistortion,
    double MedianDistortion,
    double MeanL2,
    double MeanLinf,
    double ErrorRate,
    bool Verified,
    int RejectedClaims,
    long GradientEvaluations,
    double GradientEvaluationsPerImage,
    double Seconds,
    double ImagesPerSecond)
{
    /// <summary>
    /// The summary of <paramref name="examples"/> (one per attacked image) for an attack named <paramref name="method"/>
    /// that took <paramref name="seconds"/> of wall time; <paramref name="rejectedClaims"/> and <paramref name="verified"/>
    /// are copied as given. Statistics with no image to average over are NaN; rates with none are 0.
    /// </summary>
    public static AttackSummary From(string method, bool targeted, IReadOnlyList<AdversarialExample> examples, int rejectedClaims, bool verified, double seconds)
    {
        var attempted = examples.Where(example => example.OriginallyCorrect).ToList();
        var successes = attempted.Where(example => example.Success).ToList();
        var distortions = successes.Select(example => example.Distortion).Order().ToList();
        long gradients = examples.Sum(example => example.GradientEvaluations);
        return new AttackSummary(
            method,
            targeted,
            examples.Count,
            attempted.Count,
            successes.Count,
            attempted.Count == 0 ? 0 : (double)successes.Count / attempted.Count,
            distortions.Count == 0 ? double.NaN : distortions.Average(),
            Median(distortions),
            successes.Count == 0 ? double.NaN : successes.Average(example => example.L2),
            successes.Count == 0 ? double.NaN : successes.Average(example => example.Linf),
            examples.Count == 0 ? 0 : (double)examples.Count(example => example.FinalPrediction != example.Label) / examples.Count,
            verified,
            rejectedClaims,
            gradients,
            examples.Count == 0 ? 0 : (double)gradients / examples.Count,
            seconds,
            seconds > 0 ? examples.Count / seconds : double.PositiveInfinity);
    }

    private static double Median(IReadOnlyList<double> sorted)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        int middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

/// <summary>
/// The outcome of <see cref="Attack.Run"/>: the adversarial points float32 [N, D], inside the model's box (in the caller's dispose
/// scope; the original image where nothing was found), one <see cref="AdversarialExample"/> per image, and the summary.
/// </summary>
public sealed record AttackResult(Tensor Adversarials, IReadOnlyList<AdversarialExample> Examples, AttackSummary Summary);
