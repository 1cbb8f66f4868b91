using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// The weight decay of the paper's Table 1: for a layer with weight matrix W and k units,
/// lambda * sum(W^2) / k. Biases are not decayed. Training adds the sum over layers to the mean
/// cross-entropy of a mini-batch, i.e. the penalty is per example, not per dataset (docs/training.md shows
/// why: only that reading gives the paper's 7.4% / 9.4% / 20% for the three softmax models).
/// </summary>
public static class PaperWeightDecay
{
    /// <summary>lambda * sum(W^2) / k for a weight of shape [k, ...] (k = units = output channels).</summary>
    public static Tensor Penalty(Tensor weight, double lambda) =>
        weight.square().sum() * (lambda / weight.shape[0]);
}
