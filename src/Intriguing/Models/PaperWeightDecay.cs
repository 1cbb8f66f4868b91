using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// The weight decay of the paper's Table 1: for a layer with weight matrix W and k units,
/// lambda * sum(W^2) / k. Biases are not decayed. Training adds the sum over layers to the mean
/// cross-entropy of a mini-batch, i.e. the penalty counts per example, not once per dataset.
/// </summary>
/// <remarks>
/// The paper does not say how its penalty is scaled against the loss; its three softmax models pin it down.
/// Per example with /k gives 7.4% / 8.2% / 14.8% test error for lambda = 1e-4 / 1e-2 / 1 (paper 7.4 / 9.4 / 20);
/// without /k (a factor 10 more) 7.6% / 10.2% / 27.6%. A factor <see cref="Scale"/> = 3 on the per-example form
/// reproduces all three (docs/training.md has the runs). Every model and every trainer uses this one scale.
/// </remarks>
public static class PaperWeightDecay
{
    /// <summary>Calibration of the per-example penalty against the paper's softmax errors (docs/training.md).</summary>
    public const double Scale = 3.0;

    /// <summary>Scale * lambda * sum(W^2) / k for a weight of shape [k, ...] (k = units = output channels).</summary>
    public static Tensor Penalty(Tensor weight, double lambda) =>
        weight.square().sum() * (Scale * lambda / weight.shape[0]);
}
