using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Spectral;

/// <summary>How the largest singular value over a set of per-frequency matrices was established.</summary>
/// <param name="Value">Never below the largest singular value over the set: equal to it (a float64 decomposition) when
/// <paramref name="Slack"/> is 0, at most <paramref name="Slack"/> above it (relative) otherwise.</param>
/// <param name="Decomposed">Matrices whose singular values were computed exactly (eigvalsh of the Gram matrix, float64).</param>
/// <param name="Certified">Matrices proven to lie below the threshold by a Cholesky factorisation of t I - A^H A.</param>
/// <param name="Pruned">Matrices whose Frobenius or sqrt(||A||_1 ||A||_inf) bound lies under an exact value already found.</param>
/// <param name="Slack">Relative amount by which <paramref name="Value"/> may exceed the exact maximum; 0 means exact.</param>
public sealed record FrequencyMaximum(double Value, long Decomposed, long Certified, long Pruned, double Slack)
{
    /// <summary>True when <see cref="Value"/> is the exact maximum (no slack).</summary>
    public bool IsExact => Slack == 0;

    /// <summary>The maximum over several sets (a grouped convolution's groups): the largest value, the counts summed, the slack of the part holding it.</summary>
    public static FrequencyMaximum Combine(IReadOnlyList<FrequencyMaximum> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        // The largest value v* belongs to a part whose own maximum t* it exceeds by at most that part's slack, and t* is at most
        // the overall maximum: so the combination's slack is the slack of the part(s) holding v*, whatever the other parts'.
        double value = parts.Select(part => part.Value).DefaultIfEmpty(0).Max();
        return new FrequencyMaximum(
            value,
            parts.Sum(part => part.Decomposed),
            parts.Sum(part => part.Certified),
            parts.Sum(part => part.Pruned),
            parts.Where(part => part.Value == value).Select(part => part.Slack).DefaultIfEmpty(0).Max());
    }
}

/// <summary>
/// max over f of ||A_f||_2 for a batch of complex matrices A_f [F, m, n] (a convolution's per-frequency matrices), as a true
/// upper bound: never an estimate from below.
/// </summary>
/// <remarks>
/// Small matrices (smaller side at most <see cref="ExactGramLimit"/>) are all decomposed: eigvalsh of the smaller Gram
/// matrix G = A^H A (or A A^H) in float64. For larger ones (AlexNet's conv3-5: up to 384 x 256 at 120 distinct frequencies)
/// a full decomposition of every frequency costs minutes of LAPACK here, so:
/// <list type="number">
/// <item>a few power iterations on each G (float64) rank the frequencies; the <see cref="Finalists"/> best are decomposed
/// exactly, and their largest singular value L is a lower bound on the maximum;</item>
/// <item>frequencies whose cheap true bound min(||A||_F, sqrt(||A||_1 ||A||_inf)) is at most L are dropped;</item>
/// <item>every other frequency is tested against b = L (1 + <see cref="CertificateMargin"/>): a Cholesky factorisation of
/// b^2 I - G exists only if G's largest eigenvalue is below b^2, so where it succeeds ||A_f|| &lt;= b (up to rounding, which
/// <see cref="RoundingSlack"/> bounds); where it fails, the best of the failures are decomposed exactly, L grows, and the
/// failures are tested again, until none is left.</item>
/// </list>
/// The result is the exact maximum when every certificate lies under the largest exact value (a decomposed frequency attains
/// the maximum and every other one is proven below it), else b (1 + rounding slack), between the maximum and (1 + 1.1e-9) times it. Correctness never rests on the ranking: a poor ranking only costs more
/// decompositions.
/// </remarks>
public static class PerFrequencyNorm
{
    /// <summary>Gram matrices up to this side are all diagonalised exactly.</summary>
    internal const long ExactGramLimit = 64;

    /// <summary>Frequencies decomposed exactly per round of the certified route.</summary>
    internal const int Finalists = 2;

    /// <summary>A round with at most this many failed certificates decomposes all of them.</summary>
    internal const int DecomposeAllBelow = 8;

    /// <summary>Power iterations on each Gram matrix to rank the frequencies (ranking only: no bound rests on them).</summary>
    internal const int RankingIterations = 16;

    /// <summary>The certificate threshold sits this far (relative) above the best exact value, far above rounding.</summary>
    public const double CertificateMargin = 1e-9;

    /// <summary>Bytes of per-frequency matrices handled at once.</summary>
    private const long ChunkBytes = 64L << 20;

    /// <summary>Unit roundoff of float64.</summary>
    private const double UnitRoundoff = 1.1102230246251565e-16;

    /// <summary>The largest singular value over <paramref name="matrices"/> [F, m, n] (complex or real), never below it.</summary>
    public static FrequencyMaximum Largest(Tensor matrices)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        if (matrices.dim() != 3)
        {
            throw new BadInputException($"per-frequency norm: expected matrices [F, m, n]; got shape [{string.Join(", ", matrices.shape)}]");
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var complexMatrices = matrices.is_complex() ? matrices.to_type(ScalarType.ComplexFloat64) : complex(matrices.to_type(ScalarType.Float64), zeros_like(matrices, dtype: ScalarType.Float64));
        long count = complexMatrices.shape[0];
        long rows = complexMatrices.shape[1];
        long columns = complexMatrices.shape[2];
        long side = Math.Min(rows, columns);
        if (count == 0 || side == 0)
        {
            return new FrequencyMaximum(0, 0, 0, 0, 0);
        }
        var (gramReal, gramImaginary) = Grams(complexMatrices);
        if (side <= ExactGramLimit || count <= Finalists)
        {
            return new FrequencyMaximum(Decompose(gramReal, gramImaginary).max().item<double>(), count, 0, 0, 0);
        }
        var cheap = CheapBounds(complexMatrices).data<double>().ToArray();
        var ranking = RankingEstimates(gramReal, gramImaginary).data<double>().ToArray();
        var order = Enumerable.Range(0, (int)count).OrderByDescending(f => ranking[f]).ToList();

        double best = 0;
        long decomposed = 0;
        void DecomposeExactly(IReadOnlyList<int> frequencies)
        {
            var rowsTaken = tensor(frequencies.Select(f => (long)f).ToArray());
            best = Math.Max(best, Decompose(gramReal.index_select(0, rowsTaken), gramImaginary.index_select(0, rowsTaken)).max().item<double>());
            decomposed += frequencies.Count;
        }

        DecomposeExactly(order.Take(Finalists).ToList());
        var remaining = order.Skip(Finalists).ToList();
        long pruned = remaining.RemoveAll(f => cheap[f] <= best);
        long certified = 0;
        double threshold = 0;
        while (remaining.Count > 0)
        {
            double candidate = best * (1 + CertificateMargin);
            var failed = FailedCertificates(gramReal, gramImaginary, remaining, candidate * candidate);
            if (failed.Count < remaining.Count)
            {
                certified += remaining.Count - failed.Count;
                threshold = Math.Max(threshold, candidate);
            }
            // The failures keep the ranking's order, so the best-ranked go first.
            var take = failed.Count <= DecomposeAllBelow ? failed : failed.Take(Finalists).ToList();
            if (take.Count > 0)
            {
                DecomposeExactly(take);
            }
            remaining = failed.Skip(take.Count).ToList();
            pruned += remaining.RemoveAll(f => cheap[f] <= best);
        }
        if (threshold == 0)
        {
            return new FrequencyMaximum(best, decomposed, certified, pruned, 0);
        }
        // The certificate proves lambda_max(G) <= b^2 (1 + rounding), so ||A|| <= b (1 + rounding / 2). Certificates issued
        // before L grew may all lie under the final L: then a decomposed frequency attains the maximum and it is exact.
        double rounding = RoundingSlack(side, Math.Max(rows, columns));
        double certifiedBelow = threshold * (1 + rounding);
        return certifiedBelow <= best
            ? new FrequencyMaximum(best, decomposed, certified, pruned, 0)
            : new FrequencyMaximum(certifiedBelow, decomposed, certified, pruned, (1 + CertificateMargin) * (1 + rounding) - 1);
    }

    /// <summary>
    /// A bound on the relative error of a Cholesky certificate computed in float64: forming G (inner dimension
    /// <paramref name="inner"/>, error at most about 2 inner u ||A||_F^2 &lt;= 2 inner side u ||A||^2) and factorising b^2 I - G
    /// (backward error at most about (2 side + 1) u trace, trace &lt;= side b^2), with a factor 2 for complex arithmetic.
    /// For AlexNet's conv3 (side 256, inner 384) it is 1e-10, well below <see cref="CertificateMargin"/>.
    /// </summary>
    internal static double RoundingSlack(long side, long inner) => 2 * UnitRoundoff * (4.0 * side * side + 2.0 * inner * side + 8.0 * side);

    /// <summary>
    /// The real and imaginary parts of the smaller Gram matrix of each A: B B^H with B = A (wide) or A^T (tall: conj(A^H A),
    /// the same spectrum), from real products (libtorch's complex batched matmul is several times slower).
    /// </summary>
    private static (Tensor Real, Tensor Imaginary) Grams(Tensor matrices)
    {
        bool wide = matrices.shape[1] <= matrices.shape[2];
        var re = matrices.real;
        var im = matrices.imag;
        if (!wide)
        {
            re = re.transpose(1, 2);
            im = im.transpose(1, 2);
        }
        re = re.contiguous();
        im = im.contiguous();
        long side = re.shape[1];
        long inner = re.shape[2];
        long chunk = Math.Max(1, ChunkBytes / (8 * (4 * side * inner + 2 * side * side)));
        var realParts = new List<Tensor>();
        var imaginaryParts = new List<Tensor>();
        for (long start = 0; start < re.shape[0]; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            long size = Math.Min(chunk, re.shape[0] - start);
            var r = re.narrow(0, start, size);
            var i = im.narrow(0, start, size);
            var rt = r.transpose(1, 2);
            var it = i.transpose(1, 2);
            realParts.Add((r.matmul(rt) + i.matmul(it)).MoveToOuterDisposeScope());
            imaginaryParts.Add((i.matmul(rt) - r.matmul(it)).MoveToOuterDisposeScope());
        }
        return (cat(realParts, 0), cat(imaginaryParts, 0));
    }

    /// <summary>The largest singular value of each matrix, exactly: sqrt of eigvalsh of its Gram matrix, float64.</summary>
    private static Tensor Decompose(Tensor gramReal, Tensor gramImaginary)
    {
        long side = gramReal.shape[1];
        long chunk = Math.Max(1, ChunkBytes / (16 * side * side * 3));
        var largest = new List<Tensor>();
        for (long start = 0; start < gramReal.shape[0]; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            long size = Math.Min(chunk, gramReal.shape[0] - start);
            var eigenvalues = linalg.eigvalsh(complex(gramReal.narrow(0, start, size), gramImaginary.narrow(0, start, size)));
            largest.Add(eigenvalues.max(1).values.clamp_min(0).sqrt().MoveToOuterDisposeScope());
        }
        return cat(largest, 0);
    }

    /// <summary>Per matrix, min(||A||_F, sqrt(||A||_1 ||A||_inf)): both are upper bounds on ||A||_2 (the second by Hölder).</summary>
    private static Tensor CheapBounds(Tensor matrices)
    {
        var magnitudes = matrices.abs();
        var frobenius = linalg.vector_norm(magnitudes, 2, [1, 2], keepdim: false);
        var columnSums = magnitudes.sum(1).max(1).values;
        var rowSums = magnitudes.sum(2).max(1).values;
        // Rounding in the sums is a few units in the last place; the slack keeps the bounds on the safe side.
        return minimum(frobenius, (columnSums * rowSums).sqrt()) * (1 + 1e-12);
    }

    /// <summary>Rayleigh quotients after <see cref="RankingIterations"/> power steps on each Gram matrix: for ranking only.</summary>
    private static Tensor RankingEstimates(Tensor gramReal, Tensor gramImaginary)
    {
        var generator = new Generator(0);
        long side = gramReal.shape[1];
        // Columns 0 and 1 are the real and imaginary parts of a complex vector x; G x = (Gr xr - Gi xi) + i (Gr xi + Gi xr).
        var x = randn([gramReal.shape[0], side, 2], dtype: ScalarType.Float64, generator: generator);
        Tensor quotient = zeros(gramReal.shape[0], dtype: ScalarType.Float64);
        for (int iteration = 0; iteration < RankingIterations; iteration++)
        {
            using var step = NewDisposeScope();
            var unit = x / linalg.vector_norm(x, 2, [1, 2], keepdim: true).clamp_min(1e-300);
            var realProduct = gramReal.matmul(unit);
            var imaginaryProduct = gramImaginary.matmul(unit);
            var image = stack([realProduct.select(2, 0) - imaginaryProduct.select(2, 1), realProduct.select(2, 1) + imaginaryProduct.select(2, 0)], 2);
            quotient.Dispose();
            quotient = (unit * image).sum([1, 2]).MoveToOuterDisposeScope();
            x.Dispose();
            x = image.MoveToOuterDisposeScope();
        }
        return quotient;
    }

    /// <summary>
    /// The frequencies of <paramref name="candidates"/> (kept in their order) whose Cholesky factorisation of t I - G fails,
    /// t = <paramref name="squaredThreshold"/>: those whose largest singular value may reach sqrt(t).
    /// </summary>
    private static List<int> FailedCertificates(Tensor gramReal, Tensor gramImaginary, IReadOnlyList<int> candidates, double squaredThreshold)
    {
        long side = gramReal.shape[1];
        int chunk = (int)Math.Max(1, ChunkBytes / (16 * side * side * 3));
        var failed = new List<int>();
        for (int start = 0; start < candidates.Count; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            var batch = candidates.Skip(start).Take(chunk).ToList();
            var rows = tensor(batch.Select(f => (long)f).ToArray());
            var shifted = eye(side, dtype: ScalarType.Float64) * squaredThreshold - gramReal.index_select(0, rows);
            var (_, info) = linalg.cholesky_ex(complex(shifted, -gramImaginary.index_select(0, rows)));
            var codes = info.to_type(ScalarType.Int64).data<long>().ToArray();
            failed.AddRange(batch.Where((_, index) => codes[index] != 0));
        }
        return failed;
    }
}
