using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// The sanity checks of AutoAttack's reference implementation (its <c>checks.py</c>), as warnings with their numbers:
/// a model whose outputs change between calls on the same inputs (randomised: the cascade's numbers do not apply), outputs
/// that look like probabilities instead of logits (gradients through a softmax vanish), images with an exactly zero
/// input gradient (gradient attacks learn nothing there), and the score-based Square attack breaking images every
/// gradient attack failed on (a sign of gradient masking). They never change a number.
/// </summary>
public static class AutoAttackChecks
{
    /// <summary>How many images the checks before the cascade look at (the reference uses its first batch).</summary>
    public const int SampleSize = 250;

    /// <summary>The share of images Square may break after the gradient attacks before the masking warning (the reference's 0.2%).</summary>
    public const double SquareMargin = 0.002;

    /// <summary>
    /// The checks that need only the model and the images (float [N, D] or [N, ...shape]; the first
    /// <see cref="SampleSize"/> are used): randomness, probabilities, zero gradients. The model runs in eval mode.
    /// </summary>
    public static IReadOnlyList<string> Before(Classifier model, Tensor images, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            return BeforeInEvalMode(model, images.reshape(images.shape[0], -1), labels);
        }
        finally
        {
            if (wasTraining)
            {
                model.train();
            }
        }
    }

    private static List<string> BeforeInEvalMode(Classifier model, Tensor images, Tensor labels)
    {
        var warnings = new List<string>();
        long n = Math.Min(SampleSize, images.shape[0]);
        var sample = images.narrow(0, 0, n);
        var sampleLabels = labels.narrow(0, 0, n);

        var first = GradientOracle.Logits(model, sample);
        double largestChange = 0;
        for (int call = 0; call < 2; call++)
        {
            var again = GradientOracle.Logits(model, sample);
            largestChange = Math.Max(largestChange, Normalised(again).sub(Normalised(first)).square().sum(1).sqrt().max().item<float>());
        }
        if (largestChange > 1e-4)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"the model's outputs change between calls on the same {n} images (largest change {largestChange:G3} of the normalised logits): it looks randomised, and a deterministic evaluation such as this one overstates its robustness (an evaluation with expectation over its randomness is needed)"));
        }

        float maximum = first.max().item<float>(), minimum = first.min().item<float>();
        double sumError = first.sum(1).sub(1).abs().max().item<float>();
        if (maximum < 1 + 1e-5 && minimum > -1e-5 && sumError < 1e-5)
        {
            warnings.Add($"the model's outputs on {n} images are in [0, 1] and sum to 1: it seems to return probabilities, not logits; the attacks' losses expect logits (gradients through a softmax can vanish), so remove the final softmax");
        }

        if (!model.ProvidesInputGradients)
        {
            warnings.Add($"model '{model.GetName()}' gives scores only (no input gradients): only the score-based Square attack ran, so the robust accuracy is what a black-box attack leaves, an upper bound on what the gradient attacks of the full cascade would leave; a white-box copy of the model (TorchScript) gives the full evaluation");
        }
        else
        {
            var gradient = GradientOracle.Evaluate(model, sample,
                (_, logits) => nn.functional.cross_entropy(logits, sampleLabels, reduction: nn.Reduction.None)).Gradient;
            long zero = gradient.abs().sum(1).eq(0).sum().item<long>();
            if (zero > 0)
            {
                warnings.Add($"{zero} of {n} images have an input gradient of exactly zero: gradient attacks learn nothing there, so their robust accuracy may be overstated (Square does not need gradients)");
            }
        }
        return warnings;
    }

    /// <summary>The check after the cascade: did Square break images the gradient attacks could not?</summary>
    public static IReadOnlyList<string> After(IReadOnlyList<StageResult> stages, int count)
    {
        var square = stages.FirstOrDefault(stage => stage.Name.StartsWith("square", StringComparison.Ordinal));
        if (square is null || stages.Count < 2 || count == 0)
        {
            return [];
        }
        double decrease = (double)square.BrokeImages / count;
        return decrease > SquareMargin
            ? [string.Create(CultureInfo.InvariantCulture,
                $"Square, which uses no gradients, broke {square.BrokeImages} of {count} images ({decrease:P2}) that every gradient attack failed on: a sign of gradient masking, so the robust accuracy may still be overstated (try Square with more queries, restarts, or an adaptive attack)")]
            : [];
    }

    private static Tensor Normalised(Tensor logits) => logits / (logits.square().sum(1, keepdim: true).sqrt() + 1e-10);
}
