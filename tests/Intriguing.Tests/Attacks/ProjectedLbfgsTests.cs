using Intriguing.Attacks;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>
/// The L-BFGS engine on a problem with a known answer. Each row minimises a separable, ill-conditioned quadratic
/// loss_r(x) = sum_j a_j (x_j - t_rj)^2 plus the engine's distance term c |x - x0_r|^2 over [0,1]^D, whose minimiser is
/// x*_j = clamp((a_j t_rj + c x0_rj) / (a_j + c), 0, 1); the targets t lie partly outside the box, so bounds bind.
/// Every row runs twice: c = 1, then its own c; only points near the second run's minimiser count as "adversarial",
/// so finding them means the restart, the history and the box handling all worked.
/// </summary>
public class ProjectedLbfgsTests
{
    public ProjectedLbfgsTests() => TorchThreads.UseOne();

    private const int Dimension = 50;
    private const float Tolerance = 2e-3f;

    private sealed class Problem
    {
        public Problem(int rows, int seed)
        {
            var random = new Random(seed);
            Rows = rows;
            Curvature = Enumerable.Range(0, Dimension).Select(_ => (float)(0.5 + 19.5 * random.NextDouble())).ToArray();
            Targets = Enumerable.Range(0, rows * Dimension).Select(_ => (float)(-0.5 + 2 * random.NextDouble())).ToArray();
            Origins = Enumerable.Range(0, rows * Dimension).Select(_ => (float)random.NextDouble()).ToArray();
            Minimisers = new float[rows * Dimension];
            for (int row = 0; row < rows; row++)
            {
                double c = SecondWeight(row);
                for (int j = 0; j < Dimension; j++)
                {
                    int k = row * Dimension + j;
                    Minimisers[k] = (float)Math.Clamp((Curvature[j] * Targets[k] + c * Origins[k]) / (Curvature[j] + c), 0, 1);
                }
            }
        }

        public int Rows { get; }
        public float[] Curvature { get; }
        public float[] Targets { get; }
        public float[] Origins { get; }
        public float[] Minimisers { get; }

        public static double SecondWeight(int row) => 0.05 * (row % 20 + 1);

        public ProjectedLbfgs.Network Network => (points, rows) =>
        {
            int count = (int)points.shape[0];
            long[] indices = rows is null ? [.. Enumerable.Range(0, count).Select(i => (long)i)] : rows.data<long>().ToArray();
            float[] values = points.contiguous().data<float>().ToArray();
            var loss = new float[count];
            var gradient = new float[count * Dimension];
            var adversarial = new bool[count];
            for (int i = 0; i < count; i++)
            {
                int row = (int)indices[i];
                float largestMiss = 0;
                for (int j = 0; j < Dimension; j++)
                {
                    float x = values[i * Dimension + j];
                    float difference = x - Targets[row * Dimension + j];
                    loss[i] += Curvature[j] * difference * difference;
                    gradient[i * Dimension + j] = 2 * Curvature[j] * difference;
                    largestMiss = Math.Max(largestMiss, Math.Abs(x - Minimisers[row * Dimension + j]));
                }
                adversarial[i] = largestMiss < Tolerance;
            }
            return (tensor(loss), tensor(gradient, [count, Dimension]), tensor(adversarial));
        };

        public ProjectedLbfgs.Outcome Solve(int[] runs) =>
            new ProjectedLbfgs { History = 5, MaxIterations = 200, FunctionTolerance = 1e-12, GradientTolerance = 1e-7 }
                .Minimize(tensor(Origins, [Rows, Dimension]), InputBox.Uniform(0f, 1f, Dimension), 1.0, Network,
                    (row, _, _) => runs[row]++ == 0 ? SecondWeight(row) : null);
    }

    [Fact]
    public void EveryRowFindsTheBoxConstrainedMinimumForItsOwnC()
    {
        using var scope = NewDisposeScope();
        var problem = new Problem(rows: 12, seed: 3);
        var runs = new int[problem.Rows];

        var outcome = problem.Solve(runs);

        Assert.All(runs, count => Assert.Equal(2, count));
        Assert.All(outcome.Found, Assert.True);
        float[] best = outcome.Best.data<float>().ToArray();
        for (int k = 0; k < best.Length; k++)
        {
            Assert.InRange(best[k], problem.Minimisers[k] - Tolerance, problem.Minimisers[k] + Tolerance);
        }
        Assert.Contains(problem.Minimisers, value => value == 0f);
        Assert.Contains(problem.Minimisers, value => value == 1f);
        Assert.All(outcome.Evaluations, evaluations => Assert.InRange(evaluations, 2, 400));
    }

    [Fact]
    public void ManyRowsUpdatedOnTwoThreadsGiveTheResultsOfOneThread()
    {
        using var scope = NewDisposeScope();
        var problem = new Problem(rows: 96, seed: 4);
        var oneThread = problem.Solve(new int[problem.Rows]);
        ProjectedLbfgs.Outcome twoThreads;
        try
        {
            torch.set_num_threads(2);
            twoThreads = problem.Solve(new int[problem.Rows]);
        }
        finally
        {
            TorchThreads.UseOne();
        }

        Assert.Equal(oneThread.Evaluations, twoThreads.Evaluations);
        Assert.Equal(oneThread.Found, twoThreads.Found);
        Assert.Equal(oneThread.Best.data<float>().ToArray(), twoThreads.Best.data<float>().ToArray());
    }
}
