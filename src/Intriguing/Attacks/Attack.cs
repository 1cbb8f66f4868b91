using System.Diagnostics;
using Intriguing.Attacks.Criteria;
using Intriguing.Attacks.Distances;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The workflow every attack shares (Foolbox 3's pattern): check the inputs, attack batch by batch, clip to the
/// box [0,1]^784, re-verify every success with a fresh forward pass of the clipped image, and return per-sample
/// results. A subclass overrides only <see cref="Perturb"/>, its core step, which sees one batch and a
/// <see cref="Criterion"/> and must treat every row on its own (per-sample state, no shared step sizes), so an
/// image's result does not depend on the other images in its batch.
/// Attacks hold only their settings, fixed at construction; running one changes nothing in it.
/// </summary>
public abstract class Attack
{
    /// <summary>The short name used on the command line ("lbfgs", "fgsm", ...).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// True for minimal-perturbation attacks (L-BFGS, C&amp;W, DeepFool): an image the model already gets wrong
    /// needs no perturbation, so the clean image is returned for it with distortion 0 (untargeted only).
    /// </summary>
    protected virtual bool SeeksMinimalPerturbation => false;

    /// <summary>
    /// Attacks <paramref name="images"/> (float32 [N, 784] in [0,1]) with true <paramref name="labels"/> (int64 [N],
    /// 0..9). With <paramref name="targets"/> (int64 [N], each different from its label) the attack is targeted.
    /// Reports progress once per batch of <paramref name="batchSize"/> images.
    /// </summary>
    /// <exception cref="BadInputException">A tensor of the wrong shape or type, a NaN, a pixel outside [0,1],
    /// a label or target out of range, or a target equal to its label.</exception>
    public AttackResult Run(
        Classifier model,
        Tensor images,
        Tensor labels,
        Tensor? targets = null,
        int batchSize = 500,
        IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (batchSize < 1)
        {
            throw new BadInputException($"batch size must be at least 1; got {batchSize}");
        }
        using var scope = NewDisposeScope();
        var checkedInputs = AttackInputs.Check(images, labels, targets);
        var stopwatch = Stopwatch.StartNew();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            int count = (int)checkedInputs.Images.shape[0];
            var criterion = checkedInputs.Targets is null
                ? (Criterion)new Misclassification(checkedInputs.Labels)
                : new TargetedMisclassification(checkedInputs.Labels, checkedInputs.Targets);
            var adversarialBatches = new List<Tensor>();
            var examples = new List<AdversarialExample>(count);
            int rejectedClaims = 0;
            for (int start = 0; start < count; start += batchSize)
            {
                int size = Math.Min(batchSize, count - start);
                using var batchScope = NewDisposeScope();
                var batch = RunBatch(model, checkedInputs.Images.narrow(0, start, size), criterion.Narrow(start, size), start);
                examples.AddRange(batch.Examples);
                rejectedClaims += batch.RejectedClaims;
                adversarialBatches.Add(batch.Adversarials.MoveToOuterDisposeScope());
                progress?.Report(new ProgressUpdate($"attack {Name}", start + size, count,
                    $"{examples.Count(example => example.Success)}/{examples.Count} fooled"));
            }
            var adversarials = adversarialBatches.Count == 1 ? adversarialBatches[0] : cat(adversarialBatches, 0);
            var summary = AttackSummary.From(Name, criterion.IsTargeted, examples, rejectedClaims, stopwatch.Elapsed.TotalSeconds);
            return new AttackResult(adversarials.MoveToOuterDisposeScope(), examples, summary);
        }
        finally
        {
            if (wasTraining)
            {
                model.train();
            }
        }
    }

    /// <summary>
    /// The attack's core step on one batch: candidate adversarial images float [N, 784] (they will be clipped and
    /// verified by the caller) and the gradient evaluations each row used, int64 [N].
    /// </summary>
    /// <param name="batchStart">Index of the batch's first image in the whole run, so that random attacks can seed
    /// each batch differently and still repeat exactly for the same seed.</param>
    protected abstract PerturbOutput Perturb(Classifier model, Tensor images, Criterion criterion, int batchStart);

    /// <param name="Adversarials">Candidates, float [N, 784].</param>
    /// <param name="GradientEvaluations">Forward+backward passes per row, int64 [N].</param>
    /// <param name="ClaimedSuccess">Rows the attack believes it fooled, bool [N], or null if it does not say.</param>
    protected sealed record PerturbOutput(Tensor Adversarials, Tensor GradientEvaluations, Tensor? ClaimedSuccess = null);

    private sealed record BatchOutcome(Tensor Adversarials, IReadOnlyList<AdversarialExample> Examples, int RejectedClaims);

    private BatchOutcome RunBatch(Classifier model, Tensor images, Criterion criterion, int firstIndex)
    {
        var cleanLogits = GradientOracle.Logits(model, images);
        var output = Perturb(model, images, criterion, firstIndex);
        // The box of the paper: whatever the attack did, the image handed out lies in [0,1]^784.
        var adversarials = output.Adversarials.detach().nan_to_num(0.0, 0.0, 0.0).clamp(0.0, 1.0);
        if (SeeksMinimalPerturbation && !criterion.IsTargeted)
        {
            var alreadyWrong = criterion.IsAdversarial(cleanLogits).unsqueeze(1);
            adversarials = where(alreadyWrong, images, adversarials);
        }

        // The re-check: a fresh forward pass of exactly the images we hand out decides success.
        var finalLogits = GradientOracle.Logits(model, adversarials);
        var success = criterion.IsAdversarial(finalLogits).logical_and(finalLogits.isfinite().all(1));
        int rejected = output.ClaimedSuccess is null
            ? 0
            : (int)output.ClaimedSuccess.logical_and(success.logical_not()).sum().item<long>();
        var probabilities = nn.functional.softmax(finalLogits, 1);
        var (confidence, finalPrediction) = probabilities.max(1);

        long[] labels = criterion.Labels.cpu().data<long>().ToArray();
        long[]? targets = criterion.Targets?.cpu().data<long>().ToArray();
        long[] cleanPredictions = cleanLogits.argmax(1).cpu().data<long>().ToArray();
        bool[] successes = success.cpu().data<bool>().ToArray();
        var distances = Distance.MeasureAll(images, adversarials);
        float[] rms = distances.Rms.cpu().data<float>().ToArray();
        float[] l2 = distances.L2.cpu().data<float>().ToArray();
        float[] linf = distances.Linf.cpu().data<float>().ToArray();
        long[] predictions = finalPrediction.cpu().data<long>().ToArray();
        float[] confidences = confidence.cpu().data<float>().ToArray();
        long[] gradients = output.GradientEvaluations.to_type(ScalarType.Int64).cpu().data<long>().ToArray();

        var examples = new AdversarialExample[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            examples[i] = new AdversarialExample(
                firstIndex + i,
                (int)labels[i],
                targets is null ? null : (int)targets[i],
                (int)cleanPredictions[i],
                cleanPredictions[i] == labels[i],
                successes[i],
                rms[i],
                l2[i],
                linf[i],
                (int)predictions[i],
                confidences[i],
                gradients[i]);
        }
        return new BatchOutcome(adversarials, examples, rejected);
    }
}
