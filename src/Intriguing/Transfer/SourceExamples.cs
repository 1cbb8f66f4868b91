using Intriguing.Attacks;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Transfer;

/// <summary>A model in a transfer study, by the name its rows and columns carry ("fc10-1e-4", "fc100-100-10@p1").</summary>
public sealed record TransferModel(string Name, Classifier Model);

/// <summary>
/// The adversarial examples made for one source model: only the verified successes (a fresh forward pass of the
/// clipped point fooled the source) on images the source classified correctly, so the source's own error on them is
/// 100% by construction. <see cref="Indices"/> are their rows in the attacked images; <see cref="Adversarials"/> is
/// float [M, D] in the caller's dispose scope. Distortions are the paper's RMS, averaged over the examples.
/// </summary>
public sealed record SourceExamples(
    string Source,
    string Attack,
    bool Targeted,
    long[] Indices,
    Tensor Adversarials,
    int Attempted,
    double MeanDistortion,
    double MeanL2,
    double Seconds)
{
    /// <summary>M, the number of examples kept.</summary>
    public int Count => Indices.Length;

    /// <summary>The source's success rate over the images it classified correctly.</summary>
    public double SourceSuccessRate => Attempted == 0 ? 0 : (double)Count / Attempted;

    /// <summary>
    /// Keeps the verified successes of <paramref name="result"/> on correctly classified images: the one-part case of
    /// <see cref="SourcePart.Combine"/>, so an unsplit run and a run put together from shards build their examples alike.
    /// </summary>
    public static SourceExamples From(string source, Attack attack, AttackResult result) =>
        SourcePart.Combine([SourcePart.Of(source, attack, result, firstImage: 0)]);
}
