using static TorchSharp.torch;

namespace Intriguing.Attacks.Distances;

/// <summary>
/// A per-sample distance between clean and perturbed images, both float [N, 784] in [0,1]; returns float [N].
/// <see cref="Rms"/> is the paper's distortion measure (Tables 1-4): sqrt(sum_i (x'_i - x_i)^2 / n), n = 784.
/// </summary>
public abstract class Distance
{
    /// <summary>The paper's distortion: sqrt(sum_i (x'_i - x_i)^2 / n), n values per input ("rms").</summary>
    public static readonly Distance Rms = new RmsDistance();
    /// <summary>The Euclidean norm of the difference ("l2").</summary>
    public static readonly Distance L2 = new L2Distance();
    /// <summary>The largest absolute change of any one value ("linf").</summary>
    public static readonly Distance Linf = new LinfDistance();

    /// <summary>The distance's short name: "rms", "l2" or "linf".</summary>
    public abstract string Name { get; }

    /// <summary>The distance between each row of <paramref name="original"/> and <paramref name="perturbed"/> (float [N, D]), float [N].</summary>
    public abstract Tensor Measure(Tensor original, Tensor perturbed);

    /// <summary>
    /// RMS, L2 and L-inf at once from one difference tensor (norms computed without squared or absolute
    /// temporaries): three [N, 784] temporaries fewer than three separate measures, each a fresh allocation.
    /// </summary>
    public static (Tensor Rms, Tensor L2, Tensor Linf) MeasureAll(Tensor original, Tensor perturbed)
    {
        var difference = perturbed - original;
        var l2 = linalg.vector_norm(difference, 2, [1]);
        var linf = linalg.vector_norm(difference, double.PositiveInfinity, [1]);
        return (l2 / Math.Sqrt(original.shape[1]), l2, linf);
    }

    private sealed class RmsDistance : Distance
    {
        public override string Name => "rms";

        public override Tensor Measure(Tensor original, Tensor perturbed) => (perturbed - original).square().mean([1]).sqrt();
    }

    private sealed class L2Distance : Distance
    {
        public override string Name => "l2";

        public override Tensor Measure(Tensor original, Tensor perturbed) => (perturbed - original).square().sum(1).sqrt();
    }

    private sealed class LinfDistance : Distance
    {
        public override string Name => "linf";

        public override Tensor Measure(Tensor original, Tensor perturbed) => (perturbed - original).abs().amax(1);
    }
}
