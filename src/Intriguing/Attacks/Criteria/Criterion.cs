using static TorchSharp.torch;

namespace Intriguing.Attacks.Criteria;

/// <summary>
/// What counts as success for one batch (Foolbox 3's "criterion" object): <see cref="Misclassification"/>
/// (any label but the true one) or <see cref="TargetedMisclassification"/> (exactly the target). Besides the
/// yes/no test it owns the smooth losses that attacks descend, so an attack never has to ask which kind it got.
/// Every method works row by row on logits [N, 10]; rows never mix.
/// </summary>
public abstract class Criterion
{
    /// <summary>A criterion for the rows whose true classes are <paramref name="labels"/> (int64 [N]).</summary>
    protected Criterion(Tensor labels)
    {
        Labels = labels;
    }

    /// <summary>The true classes, int64 [N].</summary>
    public Tensor Labels { get; }

    /// <summary>The wanted classes, int64 [N], or null when any wrong class will do.</summary>
    public abstract Tensor? Targets { get; }

    /// <summary>True when the criterion has <see cref="Targets"/> (success means exactly the target).</summary>
    public bool IsTargeted => Targets is not null;

    /// <summary>Bool [N]: does this row of logits meet the criterion (the argmax decides, as in the paper)?</summary>
    public abstract Tensor IsAdversarial(Tensor logits);

    /// <summary>
    /// Per-sample loss, float [N], that is small when the criterion is met and bounded below (the
    /// paper's loss_f in "c|r| + loss_f(x+r, l)"; we minimise c|r|^2 + loss_f): cross-entropy towards the target, or
    /// -log(1 - p_label) when any wrong class will do.
    /// </summary>
    public abstract Tensor SmoothLoss(Tensor logits);

    /// <summary>
    /// Per-sample loss to minimise, float [N], whose descent direction FGSM and PGD follow: cross-entropy towards
    /// the target, or minus the cross-entropy of the true label (unbounded below; fine for a fixed number of steps).
    /// </summary>
    public abstract Tensor CrossEntropyLoss(Tensor logits);

    /// <summary>
    /// Carlini and Wagner's logit margin f(x'), float [N]: negative exactly when the criterion is met (ties aside).
    /// Targeted: max_{j != t} Z_j - Z_t; untargeted: Z_l - max_{j != l} Z_j.
    /// </summary>
    public abstract Tensor Margin(Tensor logits);

    /// <summary>The same criterion for rows start..start+count.</summary>
    public abstract Criterion Narrow(long start, long count);

    /// <summary>The same criterion for the given rows (int64 indices).</summary>
    public abstract Criterion Take(Tensor rows);

    /// <summary>The largest logit among the classes other than <paramref name="excluded"/> (int64 [N]).</summary>
    protected static Tensor MaxOtherLogit(Tensor logits, Tensor excluded)
    {
        var isExcluded = nn.functional.one_hot(excluded, logits.shape[1]).to_type(ScalarType.Bool);
        return logits.masked_fill(isExcluded, float.NegativeInfinity).amax(1);
    }

    /// <summary>The logit of each row's class in <paramref name="classes"/> (int64 [N]), float [N].</summary>
    protected static Tensor LogitOf(Tensor logits, Tensor classes) => logits.gather(1, classes.unsqueeze(1)).squeeze(1);
}
