using Intriguing.Attacks;
using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// The Square attack, the engine shared by <see cref="SquareLinf"/> and <see cref="SquareL2"/>. Andriushchenko,
/// Croce, Flammarion and Hein, "Square Attack: a query-efficient black-box adversarial attack via random search",
/// ECCV 2020, https://arxiv.org/abs/1912.00049; written after the reference implementation (fra31/auto-attack,
/// autoattack/square.py). Random search on the model's scores only, no gradients: from a start on the eps-ball's
/// surface, each iteration changes one random square window of the image (a fraction p of its pixels), queries the
/// model once, and keeps the change if the loss went down (Algorithm 1). The loss is the margin
/// Z_label - max_{j != label} Z_j (untargeted) or the cross-entropy towards the target (targeted).
/// <para>
/// p follows the paper's schedule: <see cref="PInit"/> (0.8) halving after iterations 10, 50, 200, 500, 1000, 2000, 4000,
/// 6000 and 8000 of a 10,000-query run, those points rescaled to <see cref="Queries"/> unless
/// <see cref="RescaleSchedule"/> is off (AutoAttack's cascade keeps them, as its reference implementation does). A row
/// stops as soon as it is misclassified; each iteration is one forward pass for all rows not yet broken.
/// </para>
/// Input: images [N, C, H, W] as the model declares (a [H, W] shape is one channel, a flat [D] one row of pixels), kept
/// in the eps-ball and the model's box. Every random choice of a row (its start, each window's position and signs)
/// comes from the row's own stream (seed, row index, iteration), so the batch never changes a result; the reference
/// instead shares one window across the batch per iteration. Window positions are uniform over all positions that keep
/// the square inside the image. The per-row count the attack reports (<see cref="AdversarialExample.GradientEvaluations"/>)
/// holds forward queries, the start's included: Square takes no gradient.
/// </summary>
public abstract record Square : Attack
{
    /// <summary>Radius of the perturbation ball in the variant's norm.</summary>
    public double Epsilon { get; init; }

    /// <summary>Most forward passes per image, the starting point's included (the paper's query budget).</summary>
    public int Queries { get; init; } = 5000;

    /// <summary>
    /// Runs the tensor engine even where the managed search applies (the two give the same results; tests compare them).
    /// Not a setting: it changes no number, so it is not part of <see cref="Attack.Describe"/>.
    /// </summary>
    internal bool TensorEngineOnly { get; init; }

    /// <summary>The fraction of pixels the first windows change (the paper's p_init; 0.8 as in the reference).</summary>
    public double PInit { get; init; } = 0.8;

    /// <summary>
    /// Rescale the schedule, written for 10,000 queries, to <see cref="Queries"/> (true, the paper's choice for a
    /// smaller budget); AutoAttack's cascade keeps the 10,000-query points (false), as the reference does.
    /// </summary>
    public bool RescaleSchedule { get; init; } = true;

    /// <summary>The seed of every row's random stream (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>Square only queries scores: it runs on score-only models (ONNX files) too.</summary>
    public override bool NeedsGradients => false;

    /// <summary>Every candidate is clipped to the eps-ball and the box before it is queried.</summary>
    protected override bool CandidatesInBox => true;

    /// <inheritdoc/>
    public override Attack WithSeed(int seed) => this with { Seed = seed };

    /// <inheritdoc/>
    public override void Validate()
    {
        if (!(Epsilon >= 0) || !double.IsFinite(Epsilon) || Queries < 1 || !(PInit > 0) || PInit > 1)
        {
            throw new BadInputException(
                $"{Name}: need a finite eps >= 0, queries >= 1 and p_init in (0, 1]; got eps {Epsilon}, queries {Queries}, p_init {PInit}");
        }
    }

    /// <summary>The image layout the windows move over: channels, height, width.</summary>
    protected readonly record struct Geometry(long Channels, long Height, long Width)
    {
        /// <summary>Values per image, C * H * W.</summary>
        public long Features => Channels * Height * Width;

        /// <summary>The shape of <paramref name="rows"/> images, [rows, C, H, W].</summary>
        public long[] BatchShape(long rows) => [rows, Channels, Height, Width];
    }

    /// <summary>The starting points x_0 for <paramref name="images"/> [N, C, H, W] (in the box), from each row's stream 0.</summary>
    protected abstract Tensor Start(Tensor images, Geometry geometry, InputBox box, long[] rowIndices);

    /// <summary>How many uniform numbers one row uses per iteration.</summary>
    protected abstract int RandomsPerIteration(Geometry geometry);

    /// <summary>The side of the square window for fraction <paramref name="p"/> of the pixels.</summary>
    protected abstract long Side(double p, Geometry geometry);

    /// <summary>
    /// One random-search proposal for each row: <paramref name="best"/> [n, C, H, W] changed in one window of side
    /// <paramref name="side"/>, within the eps-ball around <paramref name="images"/> and the box.
    /// <paramref name="uniforms"/> holds each row's <see cref="RandomsPerIteration"/> numbers in [-1, 1), row after row.
    /// </summary>
    protected abstract Tensor Propose(Tensor images, Tensor best, float[] uniforms, long side, Geometry geometry, InputBox box);

    /// <summary>
    /// The fraction of pixels changed at iteration <paramref name="iteration"/> (0-based): the paper's schedule, rescaled
    /// to the budget when <see cref="RescaleSchedule"/>.
    /// </summary>
    public double FractionAt(int iteration)
    {
        int scaled = RescaleSchedule ? (int)((double)iteration / Queries * 10000) : iteration;
        int halved = 0;
        foreach (int point in Halvings)
        {
            halved += scaled > point ? 1 : 0;
        }
        return PInit / Math.Pow(2, halved);
    }

    private static readonly int[] Halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor inputs, Criterion criterion, RowKeys keys)
    {
        var geometry = GeometryOf(model.Input.Shape);
        var box = model.Input.Box;
        long rows = inputs.shape[0];
        var images = inputs.reshape(geometry.BatchShape(rows));
        // A model that scores plain memory (an ONNX model, or a TorchSharp model on the CPU through a reused input
        // tensor) runs the variant's managed search, when it has one: the same results.
        if (!TensorEngineOnly && HasManagedSearch && criterion is Misclassification or TargetedMisclassification)
        {
            using var adapter = TensorModelScorer.Applies(model) ? new TensorModelScorer(model, geometry.Features, rows) : null;
            if ((model as IBatchScorer ?? adapter) is { } scorer
                && PerturbScored(scorer, images, criterion, keys, geometry, box, model.ClassCount) is { } scored)
            {
                return scored;
            }
        }
        long[] allRows = [.. Enumerable.Range(0, (int)rows).Select(row => keys[row])];
        var best = Start(images, geometry, box, allRows).contiguous();
        var startLogits = Logits(model, best, geometry);
        var success = criterion.IsAdversarial(startLogits).contiguous();
        var loss = Loss(criterion, startLogits).contiguous();
        var queries = ones(rows, dtype: ScalarType.Int64, device: inputs.device);
        int randomCount = RandomsPerIteration(geometry);
        for (int iteration = 0; iteration < Queries - 1; iteration++)
        {
            using var iterationScope = NewDisposeScope();
            var active = success.logical_not().nonzero().squeeze(1);
            long activeCount = active.shape[0];
            if (activeCount == 0)
            {
                break;
            }
            long[] activeRows = active.cpu().data<long>().ToArray();
            var uniforms = new float[activeCount * randomCount];
            for (int row = 0; row < activeCount; row++)
            {
                // Stream 0 is the start; iteration i draws from stream i + 1.
                RowRandom.FillSymmetricUniform(uniforms.AsSpan(row * randomCount, randomCount), Seed, keys[activeRows[row]], iteration + 1);
            }
            var activeImages = images.index_select(0, active);
            var activeBest = best.index_select(0, active);
            var candidates = Propose(activeImages, activeBest, uniforms, Side(FractionAt(iteration), geometry), geometry, box);
            var logits = Logits(model, candidates, geometry);
            var activeCriterion = criterion.Take(active);
            var broken = activeCriterion.IsAdversarial(logits);
            var candidateLoss = Loss(activeCriterion, logits);
            var activeLoss = loss.index_select(0, active);
            // Keep a proposal that lowers the loss or breaks the row (Algorithm 1's acceptance step).
            var lowered = candidateLoss.lt(activeLoss);
            var accepted = lowered.logical_or(broken);
            loss.index_copy_(0, active, where(lowered, candidateLoss, activeLoss));
            best.index_copy_(0, active, where(accepted.reshape(-1, 1, 1, 1), candidates, activeBest));
            success.index_copy_(0, active, broken);
            queries.index_add_(0, active, ones(activeCount, dtype: ScalarType.Int64, device: queries.device), 1);
        }
        return new PerturbOutput(best.reshape(rows, geometry.Features), queries, success);
    }

    /// <summary>Whether the variant has a managed search (<see cref="PerturbScored"/>); no scorer is made for one that has not.</summary>
    private protected virtual bool HasManagedSearch => false;

    /// <summary>
    /// The search on plain arrays for a model that scores memory (<see cref="IBatchScorer"/>), giving exactly what the
    /// tensor engine gives; null (the default) sends the variant to the tensor engine.
    /// </summary>
    private protected virtual PerturbOutput? PerturbScored(
        IBatchScorer scorer, Tensor images, Criterion criterion, RowKeys keys, Geometry geometry, InputBox box, int classes) => null;

    /// <summary>A window of side <paramref name="side"/> at (top, left) per row, as a float mask [n, 1, H, W].</summary>
    protected static Tensor WindowMask(long[] top, long[] left, long side, Geometry geometry, Device device)
    {
        var topTensor = tensor(top, device: device).unsqueeze(1);
        var leftTensor = tensor(left, device: device).unsqueeze(1);
        var heights = arange(geometry.Height, dtype: ScalarType.Int64, device: device).unsqueeze(0);
        var widths = arange(geometry.Width, dtype: ScalarType.Int64, device: device).unsqueeze(0);
        var inRows = heights.ge(topTensor).logical_and(heights.lt(topTensor + side));
        var inColumns = widths.ge(leftTensor).logical_and(widths.lt(leftTensor + side));
        return inRows.unsqueeze(2).logical_and(inColumns.unsqueeze(1)).unsqueeze(1).to_type(ScalarType.Float32);
    }

    /// <summary>A position in 0..room from a uniform number in [-1, 1).</summary>
    protected static long Position(float uniform, long room) => Math.Min((long)((uniform + 1.0) / 2.0 * (room + 1)), room);

    /// <summary>+1 or -1 from a uniform number in [-1, 1).</summary>
    protected static float Sign(float uniform) => uniform < 0 ? -1f : 1f;

    /// <summary><see cref="Position"/>, for the managed search.</summary>
    internal static long PositionOf(float uniform, long room) => Position(uniform, room);

    /// <summary><see cref="Sign"/>, for the managed search.</summary>
    internal static float SignOf(float uniform) => Sign(uniform);

    /// <summary>Each row's uniforms in [-1, 1) from its stream 0 (the start), <paramref name="count"/> per row.</summary>
    protected float[] StartUniforms(long[] rowIndices, int count)
    {
        var uniforms = new float[rowIndices.Length * count];
        for (int row = 0; row < rowIndices.Length; row++)
        {
            RowRandom.FillSymmetricUniform(uniforms.AsSpan(row * count, count), Seed, rowIndices[row], stream: 0);
        }
        return uniforms;
    }

    /// <summary>Clips flat-or-shaped points [n, C, H, W] to the model's box.</summary>
    protected static Tensor ClampToBox(Tensor points, Geometry geometry, InputBox box) =>
        box.Clamp(points.reshape(points.shape[0], geometry.Features)).reshape(points.shape);

    private static Tensor Logits(Classifier model, Tensor points, Geometry geometry)
    {
        using var noGrad = no_grad();
        return model.forward(points.reshape(points.shape[0], geometry.Features));
    }

    private static Tensor Loss(Criterion criterion, Tensor logits) =>
        criterion.IsTargeted ? criterion.CrossEntropyLoss(logits) : criterion.Margin(logits);

    private static Geometry GeometryOf(long[] shape) => shape.Length switch
    {
        1 => new Geometry(1, 1, shape[0]),
        2 => new Geometry(1, shape[0], shape[1]),
        3 => new Geometry(shape[0], shape[1], shape[2]),
        _ => throw new BadInputException(
            $"square: inputs must be images [C, H, W], [H, W] or a row [D]; the model declares [{string.Join(", ", shape)}]"),
    };
}
