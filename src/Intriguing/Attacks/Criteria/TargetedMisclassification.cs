using static TorchSharp.torch;

namespace Intriguing.Attacks.Criteria;

/// <summary>Targeted success: the predicted class is the target (the paper's f(x + r) = l).</summary>
public sealed class TargetedMisclassification : Criterion
{
    private readonly Tensor targets;

    /// <summary>
    /// Success for rows whose true classes are <paramref name="labels"/> (int64 [N]): exactly <paramref name="targets"/>
    /// (int64 [N], each different from its label).
    /// </summary>
    public TargetedMisclassification(Tensor labels, Tensor targets) : base(labels)
    {
        this.targets = targets;
    }

    /// <inheritdoc/>
    public override Tensor? Targets => targets;

    /// <inheritdoc/>
    public override Tensor IsAdversarial(Tensor logits) => logits.argmax(1).eq(targets);

    /// <inheritdoc/>
    public override Tensor SmoothLoss(Tensor logits) =>
        nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.None);

    /// <summary>Per-sample cross-entropy towards the target, float [N]; the same as <see cref="SmoothLoss"/>.</summary>
    public override Tensor CrossEntropyLoss(Tensor logits) => SmoothLoss(logits);

    /// <inheritdoc/>
    public override Tensor Margin(Tensor logits) => MaxOtherLogit(logits, targets) - LogitOf(logits, targets);

    /// <inheritdoc/>
    public override Criterion Narrow(long start, long count) =>
        new TargetedMisclassification(Labels.narrow(0, start, count), targets.narrow(0, start, count));

    /// <inheritdoc/>
    public override Criterion Take(Tensor rows) =>
        new TargetedMisclassification(Labels.index_select(0, rows), targets.index_select(0, rows));
}
