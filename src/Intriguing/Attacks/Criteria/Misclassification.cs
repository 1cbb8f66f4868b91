using static TorchSharp.torch;

namespace Intriguing.Attacks.Criteria;

/// <summary>Untargeted success: the predicted class differs from the true label.</summary>
public sealed class Misclassification : Criterion
{
    public Misclassification(Tensor labels) : base(labels) { }

    public override Tensor? Targets => null;

    public override Tensor IsAdversarial(Tensor logits) => logits.argmax(1).ne(Labels);

    public override Tensor SmoothLoss(Tensor logits)
    {
        // -log(1 - p_l) = logsumexp(Z) - logsumexp_{j != l}(Z): the cross-entropy of "not label l".
        var isLabel = nn.functional.one_hot(Labels, logits.shape[1]).to_type(ScalarType.Bool);
        return logits.logsumexp(1) - logits.masked_fill(isLabel, float.NegativeInfinity).logsumexp(1);
    }

    public override Tensor CrossEntropyLoss(Tensor logits) =>
        -nn.functional.cross_entropy(logits, Labels, reduction: nn.Reduction.None);

    public override Tensor Margin(Tensor logits) => LogitOf(logits, Labels) - MaxOtherLogit(logits, Labels);

    public override Criterion Narrow(long start, long count) => new Misclassification(Labels.narrow(0, start, count));

    public override Criterion Take(Tensor rows) => new Misclassification(Labels.index_select(0, rows));
}
