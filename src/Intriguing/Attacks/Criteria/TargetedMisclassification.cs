using static TorchSharp.torch;

namespace Intriguing.Attacks.Criteria;

/// <summary>Targeted success: the predicted class is the target (the paper's f(x + r) = l).</summary>
public sealed class TargetedMisclassification : Criterion
{
    private readonly Tensor targets;

    public TargetedMisclassification(Tensor labels, Tensor targets) : base(labels)
    {
        this.targets = targets;
    }

    public override Tensor? Targets => targets;

    public override Tensor IsAdversarial(Tensor logits) => logits.argmax(1).eq(targets);

    public override Tensor SmoothLoss(Tensor logits) =>
        nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.None);

    public override Tensor CrossEntropyLoss(Tensor logits) => SmoothLoss(logits);

    public override Tensor Margin(Tensor logits) => MaxOtherLogit(logits, targets) - LogitOf(logits, targets);

    public override Criterion Narrow(long start, long count) =>
        new TargetedMisclassification(Labels.narrow(0, start, count), targets.narrow(0, start, count));

    public override Criterion Take(Tensor rows) =>
        new TargetedMisclassification(Labels.index_select(0, rows), targets.index_select(0, rows));
}
