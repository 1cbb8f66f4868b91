using Intriguing.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Transfer;

/// <summary>Runs one attack on one source model over the study's images (verified: <see cref="Attack.Run"/>).</summary>
public delegate AttackResult AttackRunner(TransferModel source, Attack attack, bool targeted);

/// <summary>
/// How a transfer row's examples are made. <c>lbfgs</c>: the paper's box-constrained L-BFGS towards a random wrong
/// class (the default, the same examples as Table 1). <c>lbfgs-untargeted</c>: towards any wrong class. <c>fgsm</c>
/// and <c>pgd</c> (untargeted) are sized per source to the mean L2 of that source's targeted L-BFGS examples, so the
/// rows compare attacks at the same size: FGSM's eps is searched so that its mean L2 over the images the source gets
/// right matches, PGD runs in the L2 ball of that radius (PGD-L2, 40 steps of radius/20).
/// </summary>
public static class TransferAttacks
{
    /// <summary>The transfer methods by command-line name: "lbfgs", "lbfgs-untargeted", "fgsm", "pgd".</summary>
    public static readonly IReadOnlyList<string> Methods = ["lbfgs", "lbfgs-untargeted", "fgsm", "pgd"];

    /// <summary>Checks a method name.</summary>
    /// <exception cref="BadInputException">Not one of <see cref="Methods"/>.</exception>
    public static string Check(string method)
    {
        if (!Methods.Contains(method))
        {
            throw new BadInputException($"--method: unknown transfer method '{method}'; expected one of {string.Join(", ", Methods)}");
        }
        return method;
    }

    /// <summary>
    /// The examples of <paramref name="method"/> for <paramref name="source"/>. <paramref name="run"/> runs an attack on
    /// the source over the images (a study routes it through its shared runs). <paramref name="lbfgs"/> is the L-BFGS value.
    /// </summary>
    public static SourceExamples Make(string method, TransferModel source, AttackRunner run, Tensor images, Tensor labels,
        BoxConstrainedLbfgs lbfgs, int seed)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(lbfgs);
        switch (Check(method))
        {
            case "lbfgs":
                return SourceExamples.From(source.Name, lbfgs, run(source, lbfgs, true));
            case "lbfgs-untargeted":
                return SourceExamples.From(source.Name, lbfgs, run(source, lbfgs, false));
        }
        var reference = SourceExamples.From(source.Name, lbfgs, run(source, lbfgs, true));
        double meanL2 = reference.MeanL2;
        if (!(meanL2 > 0))
        {
            // No L-BFGS example, so no size to match: the row stays empty (0 examples) rather than made at another size.
            using var scope = NewDisposeScope();
            var none = zeros(0, source.Model.Features, device: source.Model.Device);
            return new SourceExamples(source.Name, $"{method}: not run (L-BFGS found no example to size it to)", false, [], none.MoveToOuterDisposeScope(),
                reference.Attempted, 0, 0, 0);
        }
        Attack sized = method == "fgsm"
            ? new Fgsm { Epsilon = FgsmEpsilonForMeanL2(source, images, labels, meanL2) }
            : new PgdL2 { Epsilon = meanL2, StepSize = meanL2 / 20, Seed = seed };
        return SourceExamples.From(source.Name, sized, run(source, sized, false));
    }

    /// <summary>
    /// The FGSM eps whose perturbations, clipped to the box, have mean L2 <paramref name="meanL2"/> over the images the
    /// source classifies correctly (bisection on eps; the gradient's sign does not depend on eps).
    /// </summary>
    public static double FgsmEpsilonForMeanL2(TransferModel source, Tensor images, Tensor labels, double meanL2)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var scope = NewDisposeScope();
        var model = source.Model;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var flat = images.reshape(images.shape[0], -1).to(model.Device);
            var truth = labels.to(model.Device);
            Tensor correct;
            using (no_grad())
            {
                correct = model.forward(flat).argmax(1).eq(truth);
            }
            var kept = flat.index_select(0, correct.nonzero().squeeze(1));
            var keptLabels = truth.index_select(0, correct.nonzero().squeeze(1));
            if (kept.shape[0] == 0)
            {
                return 0;
            }
            double MeanL2At(double epsilon)
            {
                using var inner = NewDisposeScope();
                var points = new Fgsm { Epsilon = epsilon }.Perturb(model, kept, keptLabels).Adversarials;
                return (points - kept).norm(1).mean().item<float>();
            }
            double low = 0, high = 1;
            if (MeanL2At(high) <= meanL2)
            {
                return high;
            }
            for (int step = 0; step < 30; step++)
            {
                double middle = (low + high) / 2;
                if (MeanL2At(middle) < meanL2)
                {
                    low = middle;
                }
                else
                {
                    high = middle;
                }
            }
            return Math.Round((low + high) / 2, 6);
        }
        finally
        {
            if (wasTraining)
            {
                model.train();
            }
        }
    }

    /// <summary>
    /// A runner that attacks the images directly (no shared runs), as <see cref="Reproduction.StudyContext"/> does:
    /// the attack seeded with <paramref name="seed"/>, targeted attacks aimed at a random wrong class drawn with it.
    /// </summary>
    public static AttackRunner Direct(Tensor images, Tensor labels, int seed, int batchSize = 500, IProgress<ProgressUpdate>? progress = null) =>
        (source, attack, targeted) =>
        {
            using var scope = NewDisposeScope();
            var seeded = attack.WithSeed(seed);
            var device = source.Model.Device;
            var deviceLabels = labels.to(device);
            var targets = targeted ? AttackTargets.RandomWrong(deviceLabels, seed, source.Model.ClassCount) : null;
            var result = seeded.Run(source.Model, images.to(device), deviceLabels, targets, batchSize, progress);
            result.Adversarials.MoveToOuterDisposeScope();
            return result;
        };
}
