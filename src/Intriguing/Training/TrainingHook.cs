using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Training;

/// <summary>
/// One batch of the training loop as a hook sees it: the inputs and labels the loss will use, where the batch sits in
/// the run (<see cref="Epoch"/>, <see cref="Step"/> counted over all epochs, and <see cref="FirstIndex"/>, a running
/// row index that random attacks can key their per-row streams on), and <see cref="CleanWeight"/>, the weight of the
/// batch's own cross-entropy in the loss (1 by default; FGSM training's alpha).
/// </summary>
public sealed record TrainingBatch(Tensor Inputs, Tensor Labels, int Epoch, long Step, long FirstIndex)
{
    /// <summary>The weight of the batch's own cross-entropy in the loss (default 1).</summary>
    public double CleanWeight { get; init; } = 1.0;
}

/// <summary>
/// What a training method adds to the zoo's plain loop (<see cref="TrainingLoop"/>), one batch at a time:
/// <list type="bullet">
/// <item><see cref="Prepare"/> may replace or extend the batch (PGD training trains on adversarial points; a method may
/// append examples) and set the clean loss's weight;</item>
/// <item><see cref="ExtraLoss"/> adds a scalar term to the batch's loss (FGSM training's adversarial half, the
/// per-layer pools of Section 4.3, a spectral-norm penalty);</item>
/// <item><see cref="EpochEnded"/> sees the model after each epoch (refresh a pool, checkpoint, measure).</item>
/// </list>
/// The loss of a batch is CleanWeight * cross-entropy(model(inputs), labels) + the model's weight penalty + ExtraLoss.
/// Hooks run inside the batch's dispose scope: tensors they make for the batch are freed with it.
/// </summary>
public abstract class TrainingHook
{
    /// <summary>Called once before the first epoch, with the model in train mode.</summary>
    public virtual void Starting(Classifier model) { }

    /// <summary>The batch the loss is computed on (the given one by default).</summary>
    public virtual TrainingBatch Prepare(Classifier model, TrainingBatch batch) => batch;

    /// <summary>A scalar added to the batch's loss, differentiable with respect to the weights; null for none.</summary>
    public virtual Tensor? ExtraLoss(Classifier model, TrainingBatch batch) => null;

    /// <summary>Called after each epoch (0-based) with the epoch's mean loss; the model is in train mode.</summary>
    public virtual void EpochEnded(Classifier model, int epoch, double meanLoss) { }
}
