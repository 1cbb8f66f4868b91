using static TorchSharp.torch;

namespace Intriguing.Attacks.Criteria;

/// <summary>Untargeted success: the predicted class differs from the true label.</summary>
public sealed class Misclassification : Criterion
{
    /// <summary>Success for rows whose true classes are <paramref name="labels"/> (int64 [N]): any other class.</summary>
    public Misclassification(Tensor labels) : base(labels) { }

    /// <inheritdoc/>
    public override Tensor? Targets => null;

    /// <inheritdoc/>
    public override Tensor IsAdversarial(Tensor logits) => logits.argmax(1).ne(Labels);

    /// <inheritdoc/>
    public override Tensor SmoothLoss(Tensor logits)
    {
        // -log(1 - p_l) = logsumexp(Z) - logsumexp_{j != l}(Z): the cross-entropy of "not label l".
        var isLabel = nn.functional.one_hot(Labels, logits.shape[1]).to_type(ScalarType.Bool);
        return logits.logsumexp(1) - logits.masked_fill(isLabel, float.NegativeInfinity).logsumexp(1);
    }

    /// <summary>Per-sample cross-entropy with the true label, negated (float [N]): smaller as the label loses.</summary>
    public override Tensor CrossEntropyLoss(Tensor logits) =>
        -nn.functional.cross_entropy(logits, Labels, reduction: nn.Reduction.None);

    /// <inheritdoc/>
    public override Tensor Margin(Tensor logits) => LogitOf(logits, Labels) - MaxOtherLogit(logits, Labels);

    /// <inheritdoc/>
    public override Criterion Narrow(long start, long count) => new Misclassification(Labels.narrow(0, start, count));

    /// <inheritdoc/>
    public override Criterion Take(Tensor rows) => new Misclassification(Labels.index_select(0, rows));
}
