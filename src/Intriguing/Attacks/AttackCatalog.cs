using Intriguing.Evaluation;

namespace Intriguing.Attacks;

/// <summary>
/// The attacks by their command-line names, as values with the defaults of the papers that introduced them
/// (FGSM eps 0.25 and PGD eps 0.3 on MNIST; PGD-L2 eps 2.0; Gaussian noise stddev 0.1; Square eps 0.3 L-inf or 2.0
/// L2 with 5000 queries). Options apply only to the
/// attacks that have them: an eps for a minimal-perturbation attack is an error, not a silently ignored number.
/// AutoAttack's attacks (apgd-ce, apgd-t, fab-t) default to L-inf eps 0.3 like PGD.
/// </summary>
public static class AttackCatalog
{
    /// <summary>Every attack's command-line name (<c>--method</c>), as <c>attack --help</c> lists them.</summary>
    public static readonly IReadOnlyList<string> Methods = ["lbfgs", "fgsm", "pgd", "pgd-l2", "cw", "deepfool", "noise", "apgd-ce", "apgd-t", "fab-t", "square", "square-l2"];

    /// <summary>The methods whose size is set by an eps (the others find the smallest perturbation themselves).</summary>
    public static readonly IReadOnlyList<string> EpsilonMethods = ["fgsm", "pgd", "pgd-l2", "apgd-ce", "apgd-t", "fab-t", "square", "square-l2"];

    /// <summary>The methods that only query the model's scores: the ones that run on score-only models (ONNX files).</summary>
    public static readonly IReadOnlyList<string> ScoreBasedMethods = ["noise", "square", "square-l2"];

    /// <summary>The methods with a query budget (<c>--queries</c>).</summary>
    public static readonly IReadOnlyList<string> QueryMethods = ["square", "square-l2"];

    /// <summary>
    /// The attack named <paramref name="method"/> with its defaults, <paramref name="epsilon"/> (fgsm, pgd, pgd-l2 only)
    /// <paramref name="stddev"/> (noise only) and <paramref name="queries"/> (square, square-l2 only) applied, and
    /// <paramref name="seed"/> for the random ones. Unknown names, options the method does not have, and bad numbers are
    /// bad input naming the option.
    /// </summary>
    public static Attack Create(string method, double? epsilon = null, double? stddev = null, int seed = 0, int? queries = null)
    {
        if (!Methods.Contains(method))
        {
            throw new BadInputException($"--method: unknown attack '{method}'; expected one of {string.Join(", ", Methods)}");
        }
        if (epsilon is double e)
        {
            if (!EpsilonMethods.Contains(method))
            {
                throw new BadInputException(
                    $"--eps: '{method}' has no eps (it searches for the smallest perturbation itself); eps applies to {string.Join(", ", EpsilonMethods)}");
            }
            if (e < 0 || !double.IsFinite(e))
            {
                throw new BadInputException($"--eps must be a finite number >= 0; got {e}");
            }
        }
        if (stddev is double s)
        {
            if (method != "noise")
            {
                throw new BadInputException($"--stddev: only the 'noise' method has a stddev; '{method}' does not");
            }
            if (s < 0 || !double.IsFinite(s))
            {
                throw new BadInputException($"--stddev must be a finite number >= 0; got {s}");
            }
        }
        if (queries is int q)
        {
            if (!QueryMethods.Contains(method))
            {
                throw new BadInputException($"--queries: only {string.Join(", ", QueryMethods)} have a query budget; '{method}' does not");
            }
            if (q < 1)
            {
                throw new BadInputException($"--queries must be at least 1; got {q}");
            }
        }
        Attack attack = method switch
        {
            "lbfgs" => new BoxConstrainedLbfgs(),
            "fgsm" => new Fgsm { Epsilon = epsilon ?? 0.25 },
            "pgd" => new PgdLinf { Epsilon = epsilon ?? 0.3 },
            "pgd-l2" => new PgdL2 { Epsilon = epsilon ?? 2.0, StepSize = (epsilon ?? 2.0) / 20 },
            "cw" => new CarliniWagnerL2(),
            "deepfool" => new DeepFool(),
            "apgd-ce" => new Evaluation.ApgdLinf { Epsilon = epsilon ?? 0.3 },
            "apgd-t" => new Evaluation.ApgdLinf { Epsilon = epsilon ?? 0.3, Loss = Evaluation.ApgdLoss.TargetedDlr },
            "fab-t" => new Evaluation.FabTargeted { Epsilon = epsilon ?? 0.3 },
            "square" => new SquareLinf { Epsilon = epsilon ?? 0.3, Queries = queries ?? 5000 },
            "square-l2" => new SquareL2 { Epsilon = epsilon ?? 2.0, Queries = queries ?? 5000 },
            _ => new GaussianNoise { StandardDeviation = stddev ?? 0.1 },
        };
        return attack.WithSeed(seed);
    }
}
