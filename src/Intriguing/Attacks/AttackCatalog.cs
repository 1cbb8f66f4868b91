namespace Intriguing.Attacks;

/// <summary>
/// The attacks by their command-line names, with the defaults of the papers that introduced them
/// (FGSM eps 0.25 and PGD eps 0.3 on MNIST; PGD-L2 eps 2.0; Gaussian noise stddev 0.1).
/// </summary>
public static class AttackCatalog
{
    public static readonly IReadOnlyList<string> Methods = ["lbfgs", "fgsm", "pgd", "pgd-l2", "cw", "deepfool", "noise"];

    /// <summary>The attack named <paramref name="method"/>; unknown names and bad numbers are bad input.</summary>
    public static Attack Create(string method, double? epsilon = null, double? stddev = null, int seed = 0)
    {
        if (epsilon is double e && (e < 0 || !double.IsFinite(e)))
        {
            throw new BadInputException($"--eps must be a finite number >= 0; got {e}");
        }
        if (stddev is double s && (s < 0 || !double.IsFinite(s)))
        {
            throw new BadInputException($"--stddev must be a finite number >= 0; got {s}");
        }
        return method switch
        {
            "lbfgs" => new BoxConstrainedLbfgs(),
            "fgsm" => new Fgsm { Epsilon = epsilon ?? 0.25 },
            "pgd" => new PgdLinf { Epsilon = epsilon ?? 0.3, Seed = seed },
            "pgd-l2" => new PgdL2 { Epsilon = epsilon ?? 2.0, StepSize = (epsilon ?? 2.0) / 20, Seed = seed },
            "cw" => new CarliniWagnerL2(),
            "deepfool" => new DeepFool(),
            "noise" => new GaussianNoise { StandardDeviation = stddev ?? 0.1, Seed = seed },
            _ => throw new BadInputException($"--method: unknown attack '{method}'; expected one of {string.Join(", ", Methods)}"),
        };
    }

    /// <summary>The epsilon an eps-bounded attack uses when none is given; null for minimal-perturbation attacks.</summary>
    public static double? DefaultEpsilon(string method) => method switch
    {
        "fgsm" => 0.25,
        "pgd" => 0.3,
        "pgd-l2" => 2.0,
        _ => null,
    };
}
