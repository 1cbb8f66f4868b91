using Intriguing.Attacks;
using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// The Square attack in the L-inf ball (Andriushchenko, Croce, Flammarion and Hein, "Square Attack: a query-efficient
/// black-box adversarial attack via random search", ECCV 2020, https://arxiv.org/abs/1912.00049): score-based, it needs
/// only the model's logits, never a gradient, so it applies to score-only models and breaks models whose gradients are
/// masked. Start from vertical stripes of +-eps; then, per query, move one random square window of every channel to
/// +-eps (a random sign per channel) and keep the change if the margin loss z_y - max_{j != y} z_j fell. The window's
/// share of the image, p, starts at <see cref="InitialFraction"/> and halves at queries 10, 50, 200, 500, 1000, 2000,
/// 4000, 6000 and 8000 (of 10,000; rescaled to <see cref="Queries"/> when <see cref="RescaleSchedule"/>). A row stops
/// once fooled; every point stays in the eps-ball and the box. Positions and signs come from each row's own stream
/// (seed, row index, query), so a row's result does not depend on its batch (the reference shares them across a batch).
/// Needs image inputs [C, H, W]. Defaults: eps 0.3 (MNIST), 5,000 queries, p 0.8 (AutoAttack's).
/// </summary>
public sealed record Square : Attack
{
    public double Epsilon { get; init; } = 0.3;

    /// <summary>The query budget per image (one forward pass each, plus one for the start).</summary>
    public int Queries { get; init; } = 5000;

    public double InitialFraction { get; init; } = 0.8;

    /// <summary>Rescale the schedule, written for 10,000 queries, to <see cref="Queries"/> (AutoAttack does not).</summary>
    public bool RescaleSchedule { get; init; }

    public int Seed { get; init; }

    public override string Name => "square";

    /// <summary>Square uses logits only: it runs on score-only models.</summary>
    public override bool NeedsGradients => false;

    public override Attack WithSeed(int seed) => this with { Seed = seed };

    protected override bool CandidatesInBox => true;

    public override void Validate()
    {
        if (!(Epsilon > 0) || !double.IsFinite(Epsilon) || Queries < 1 || !(InitialFraction > 0 && InitialFraction <= 1))
        {
            throw new BadInputException($"square: need a finite eps > 0, queries >= 1 and an initial fraction in (0, 1]; got eps {Epsilon}, queries {Queries}, p {InitialFraction}");
        }
    }

    /// <summary>The window's share of the image at query <paramref name="query"/> (0-based), the paper's schedule.</summary>
    public double Fraction(int query)
    {
        int at = RescaleSchedule ? (int)((long)query * 10_000 / Queries) : query;
        int halvings = at switch
        {
            <= 10 => 0,
            <= 50 => 1,
            <= 200 => 2,
            <= 500 => 3,
            <= 1000 => 4,
            <= 2000 => 5,
            <= 4000 => 6,
            <= 6000 => 7,
            <= 8000 => 8,
            _ => 9,
        };
        return InitialFraction / (1 << halvings);
    }

    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, long firstIndex)
    {
        var shape = model.Input.Shape;
        if (shape.Length != 3)
        {
            throw new BadInputException($"square: needs image inputs [C, H, W]; model '{model.GetName()}' takes [{string.Join(", ", shape)}]");
        }
        int channels = (int)shape[0], height = (int)shape[1], width = (int)shape[2];
        long rows = images.shape[0];
        var (boxLower, boxUpper) = model.Input.Box.Tensors(images.device);
        var lower = (images - Epsilon).maximum(boxLower);
        var upper = (images + Epsilon).minimum(boxUpper);

        // Vertical stripes: one sign per (row, channel, column).
        var stripes = DrawPerRow(rows, channels * width, Seed, firstIndex, stream: 0, normal: false).sign().to(images.device)
            .reshape(rows, channels, 1, width).expand(rows, channels, height, width).reshape(rows, -1);
        var best = (images + Epsilon * stripes).clamp(lower, upper);
        var bestMargin = Margin(model, best, criterion);
        var queries = ones(rows, dtype: ScalarType.Int64, device: images.device);
        var rowIndex = arange(height, device: images.device).reshape(1, height, 1);
        var columnIndex = arange(width, device: images.device).reshape(1, 1, width);
        var draws = new float[2 + channels];
        for (int query = 0; query < Queries; query++)
        {
            using var queryScope = NewDisposeScope();
            var active = bestMargin.gt(0).nonzero().squeeze(1);
            long count = active.shape[0];
            if (count == 0)
            {
                break;
            }
            int size = Math.Clamp((int)Math.Round(Math.Sqrt(Fraction(query) * channels * height * width / channels)), 1, Math.Min(height, width));
            // Each active row's window corner and channel signs, from its own stream for this query.
            long[] activeRows = active.cpu().data<long>().ToArray();
            var top = new long[count];
            var left = new long[count];
            var signs = new float[count * channels];
            for (int i = 0; i < count; i++)
            {
                RowRandom.FillSymmetricUniform(draws, Seed, firstIndex + activeRows[i], stream: query + 1);
                top[i] = (long)Math.Min(height - size, Math.Floor((draws[0] + 1) / 2 * (height - size + 1)));
                left[i] = (long)Math.Min(width - size, Math.Floor((draws[1] + 1) / 2 * (width - size + 1)));
                for (int c = 0; c < channels; c++)
                {
                    signs[i * channels + c] = draws[2 + c] >= 0 ? 1f : -1f;
                }
            }
            var topTensor = tensor(top, device: images.device).reshape(count, 1, 1);
            var leftTensor = tensor(left, device: images.device).reshape(count, 1, 1);
            var window = rowIndex.ge(topTensor).logical_and(rowIndex.lt(topTensor + size))
                .logical_and(columnIndex.ge(leftTensor).logical_and(columnIndex.lt(leftTensor + size)))
                .unsqueeze(1).expand(count, channels, height, width).reshape(count, -1).to_type(images.dtype);
            var signTensor = tensor(signs, [count, channels, 1, 1], device: images.device)
                .expand(count, channels, height, width).reshape(count, -1);
            var current = best.index_select(0, active);
            var candidate = (current + window * (2 * Epsilon) * signTensor).clamp(lower.index_select(0, active), upper.index_select(0, active));
            var margin = Margin(model, candidate, criterion.Take(active));
            var improved = margin.lt(bestMargin.index_select(0, active));
            best.index_copy_(0, active, where(improved.unsqueeze(1), candidate, current));
            bestMargin.index_copy_(0, active, where(improved, margin, bestMargin.index_select(0, active)));
            queries.index_add_(0, active, ones_like(active), 1);
        }
        return new PerturbOutput(best, queries, bestMargin.le(0));
    }

    /// <summary>The margin loss, z_y - max_{j != y} z_j (negative: fooled), or for a target z_best-other - z_target.</summary>
    private static Tensor Margin(Classifier model, Tensor points, Criterion criterion) =>
        criterion.Margin(GradientOracle.Logits(model, points));
}
