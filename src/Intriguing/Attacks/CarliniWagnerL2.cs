using System.Buffers;
using System.Runtime.InteropServices;
using Intriguing.Attacks.Criteria;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// Carlini and Wagner's L2 attack. "Towards Evaluating the Robustness of Neural Networks", IEEE S&amp;P 2017,
/// https://arxiv.org/abs/1608.04644. The box is removed by a change of variables, x' = lo + (hi - lo) (tanh(w) + 1) / 2
/// on each value with a finite interval [lo, hi] (the paper's [0,1]: x' = (tanh(w) + 1) / 2); a value with an infinite
/// bound (a ReLU layer's [0, inf)) is optimised directly and projected onto its interval after each step. Then
/// minimise |x' - x|_2^2 + c max(f(x'), -kappa) with Adam, where f is the logit margin (negative when the criterion is
/// met, see <see cref="Criterion.Margin"/>). Each image binary-searches its own c (the constant on the loss, so the
/// smallest successful c gives the smallest perturbation; c grows tenfold until a first success) and keeps the
/// smallest-L2 success seen at any step. Adam's moments live per pixel, so images never share optimiser state.
/// Distance: L2. Input: any model's. Defaults: 9 search steps from c = 0.01, 100 Adam steps of
/// learning rate 0.05 each, kappa = 0.
/// </summary>
public sealed record CarliniWagnerL2 : Attack
{
    /// <inheritdoc/>
    public override string Name => "cw";

    /// <summary>Values of c each image tries in its binary search (default 9).</summary>
    public int BinarySearchSteps { get; init; } = 9;

    /// <summary>Adam steps per value of c (default 100).</summary>
    public int Steps { get; init; } = 100;

    /// <summary>Adam's learning rate, in the optimised variable w (default 0.05).</summary>
    public double LearningRate { get; init; } = 0.05;

    /// <summary>The first c, the constant on the margin loss (default 0.01).</summary>
    public double InitialConstant { get; init; } = 0.01;

    /// <summary>kappa: how far past the boundary the margin must go (0 = just across).</summary>
    public double Confidence { get; init; }

    /// <inheritdoc/>
    protected override bool SeeksMinimalPerturbation => true;

    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double AdamEpsilon = 1e-8;

    /// <summary>Forces the tensor-operation path on the CPU too (tests compare it with the fused path).</summary>
    internal bool UseTensorOperations { get; init; }

    /// <inheritdoc/>
    public override void Validate()
    {
        if (BinarySearchSteps < 1 || Steps < 1 || !(LearningRate > 0) || !double.IsFinite(LearningRate)
            || !(InitialConstant > 0) || !double.IsFinite(InitialConstant) || !(Confidence >= 0) || !double.IsFinite(Confidence))
        {
            throw new BadInputException(
                $"cw: need search steps >= 1, steps >= 1, a finite learning rate > 0, a finite initial c > 0 and a finite confidence >= 0; " +
                $"got {BinarySearchSteps}, {Steps}, {LearningRate}, {InitialConstant} and {Confidence}");
        }
    }

    /// <inheritdoc/>
    protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys)
    {
        var box = model.Input.Box;
        // The fused sweep handles one finite interval for every value (the paper's [0,1] among them).
        return images.device_type == TorchSharp.DeviceType.CPU && images.dtype == ScalarType.Float32 && !UseTensorOperations
            && box.IsUniform && box.IsFinite
            ? PerturbWithRowLoops(model, images.contiguous(), criterion, box.Lower[0], box.Upper[0] - box.Lower[0])
            : PerturbWithTensors(model, images, criterion, box);
    }

    /// <summary>
    /// The CPU path: the network's pass takes the images x' themselves, and the rest of each Adam step (the distance
    /// term, the chain rule through tanh, Adam and the new x') is one fused sweep per image (<see cref="RowMath"/>)
    /// instead of some twenty tensor operations over the batch. Same mathematics as <see cref="PerturbWithTensors"/>.
    /// </summary>
    private PerturbOutput PerturbWithRowLoops(Classifier model, Tensor images, Criterion criterion, float boxLower, float boxRange)
    {
        int rowCount = (int)images.shape[0];
        int dimension = (int)images.shape[1];
        int size = rowCount * dimension;
        var pool = ArrayPool<float>.Shared;
        float[] origin = pool.Rent(size), variables = pool.Rent(size), firstMoment = pool.Rent(size),
            secondMoment = pool.Rent(size), best = pool.Rent(size);
        try
        {
            images.data<float>().CopyTo(origin.AsSpan(0, size), 0, 0);
            origin.AsSpan(0, size).CopyTo(best);
            // atanh of the point mapped to (-1, 1), as in the tensor path; the factor keeps values on a bound finite.
            using var start = ((images - boxLower) / boxRange * 2 - 1).mul_(0.999999).atanh();
            using var startImages = (start.tanh() + 1) / 2 * boxRange + boxLower;
            // The network's input is a tensor libtorch allocated: a managed buffer's alignment, which depends on the
            // process's history, would change the matrix products' code path and so the last bits of the results.
            using var candidates = empty(rowCount, dimension, dtype: ScalarType.Float32);
            var constant = Enumerable.Repeat(InitialConstant, rowCount).ToArray();
            var lower = new double[rowCount];
            var upper = Enumerable.Repeat(double.PositiveInfinity, rowCount).ToArray();
            var bestSquaredDistance = Enumerable.Repeat(float.PositiveInfinity, rowCount).ToArray();
            var found = new bool[rowCount];
            int threads = Math.Max(1, torch.get_num_threads());

            for (int searchStep = 0; searchStep < BinarySearchSteps; searchStep++)
            {
                using var searchScope = NewDisposeScope();
                start.data<float>().CopyTo(variables.AsSpan(0, size), 0, 0);
                startImages.data<float>().CopyTo(MemoryMarshal.Cast<byte, float>(candidates.bytes));
                firstMoment.AsSpan(0, size).Clear();
                secondMoment.AsSpan(0, size).Clear();
                var succeeded = new bool[rowCount];
                var currentConstant = tensor(constant.Select(value => (float)value).ToArray());
                for (int step = 1; step <= Steps; step++)
                {
                    using var stepScope = NewDisposeScope();
                    // The loss term c max(f(x'), -kappa) and its gradient with respect to x'.
                    var evaluation = GradientOracle.Evaluate(model, candidates,
                        (_, logits) => currentConstant * criterion.Margin(logits).clamp_min(-Confidence));
                    bool[] adversarial = criterion.IsAdversarial(evaluation.Logits)
                        .logical_and(criterion.Margin(evaluation.Logits).le(-Confidence)).data<bool>().ToArray();
                    using var lossGradient = evaluation.Gradient.contiguous();
                    var adam = new RowMath.AdamStep((float)Beta1, (float)Beta2, (float)(1 - Math.Pow(Beta1, step)),
                        (float)(1 - Math.Pow(Beta2, step)), (float)AdamEpsilon, (float)LearningRate);
                    void UpdateRows(int from, int to)
                    {
                        var gradients = MemoryMarshal.Cast<byte, float>(lossGradient.bytes);
                        var candidate = MemoryMarshal.Cast<byte, float>(candidates.bytes);
                        for (int row = from; row < to; row++)
                        {
                            var image = candidate.Slice(row * dimension, dimension);
                            var clean = origin.AsSpan(row * dimension, dimension);
                            // The image Adam's current variables stand for: keep it if it is the closest success yet.
                            float squaredDistance = RowMath.SquaredDistance(image, clean);
                            if (adversarial[row])
                            {
                                succeeded[row] = true;
                                if (squaredDistance < bestSquaredDistance[row])
                                {
                                    bestSquaredDistance[row] = squaredDistance;
                                    image.CopyTo(best.AsSpan(row * dimension, dimension));
                                }
                            }
                            RowMath.CarliniWagnerAdamStep(image, clean, gradients.Slice(row * dimension, dimension),
                                variables.AsSpan(row * dimension, dimension), firstMoment.AsSpan(row * dimension, dimension),
                                secondMoment.AsSpan(row * dimension, dimension), boxLower, boxRange, adam);
                        }
                    }
                    RowParallel.For(rowCount, threads, UpdateRows);
                }
                for (int row = 0; row < rowCount; row++)
                {
                    found[row] |= succeeded[row];
                    // Binary search on the loss weight: success -> try smaller c; failure -> larger (x10 until bracketed).
                    if (succeeded[row])
                    {
                        upper[row] = Math.Min(upper[row], constant[row]);
                    }
                    else
                    {
                        lower[row] = Math.Max(lower[row], constant[row]);
                    }
                    constant[row] = double.IsFinite(upper[row]) ? (lower[row] + upper[row]) / 2 : constant[row] * 10;
                }
            }
            long evaluationsPerImage = (long)BinarySearchSteps * Steps;
            var bestImages = empty(rowCount, dimension);
            best.AsSpan(0, size).CopyTo(MemoryMarshal.Cast<byte, float>(bestImages.bytes));
            return new PerturbOutput(bestImages, full(rowCount, evaluationsPerImage, dtype: ScalarType.Int64), tensor(found));
        }
        finally
        {
            foreach (var array in new[] { origin, variables, firstMoment, secondMoment, best })
            {
                pool.Return(array);
            }
        }
    }

    /// <summary>The device-independent path: every step as tensor operations over the batch.</summary>
    private PerturbOutput PerturbWithTensors(Classifier model, Tensor images, Criterion criterion, Models.InputBox box)
    {
        long rowCount = images.shape[0];
        var (boxLower, boxUpper) = box.Tensors(images.device);
        // Values with a finite interval take the tanh change of variables; the others are the variables themselves,
        // projected onto their interval after each step (variableLower/Upper are infinite on the tanh values).
        var finite = boxLower.isfinite().logical_and(boxUpper.isfinite());
        var low = where(finite, boxLower, zeros_like(boxLower));
        var range = where(finite, boxUpper - boxLower, ones_like(boxLower)).clamp_min(1e-12);
        var variableLower = where(finite, full_like(boxLower, double.NegativeInfinity), boxLower);
        var variableUpper = where(finite, full_like(boxUpper, double.PositiveInfinity), boxUpper);
        // atanh of the point mapped to (-1, 1); the factor keeps values on a bound finite.
        var start = where(finite, ((images - low) / range * 2 - 1).mul_(0.999999).atanh(), images);
        var constant = full(rowCount, InitialConstant, dtype: images.dtype, device: images.device);
        var lower = zeros(rowCount, dtype: images.dtype, device: images.device);
        var upper = full(rowCount, double.PositiveInfinity, dtype: images.dtype, device: images.device);
        var best = images.clone();
        var bestSquaredDistance = full(rowCount, double.PositiveInfinity, dtype: images.dtype, device: images.device);
        var found = zeros(rowCount, dtype: ScalarType.Bool, device: images.device);
        Func<Tensor, Tensor> toImages = variables => where(finite, (variables.tanh() + 1) / 2 * range + low, variables);

        for (int searchStep = 0; searchStep < BinarySearchSteps; searchStep++)
        {
            using var searchScope = NewDisposeScope();
            var currentConstant = constant.clone();
            var succeeded = zeros(rowCount, dtype: ScalarType.Bool, device: images.device);
            var variables = start.clone();
            var firstMoment = zeros_like(variables);
            var secondMoment = zeros_like(variables);
            for (int step = 1; step <= Steps; step++)
            {
                using var stepScope = NewDisposeScope();
                var evaluation = GradientOracle.Evaluate(model, variables,
                    (candidates, logits) => (candidates - images).square().sum(1)
                        + currentConstant * criterion.Margin(logits).clamp_min(-Confidence),
                    toImages);
                // The image Adam's current variables stand for, and whether it already succeeds.
                var candidate = toImages(variables);
                var adversarial = criterion.IsAdversarial(evaluation.Logits)
                    .logical_and(criterion.Margin(evaluation.Logits).le(-Confidence));
                var squaredDistance = (candidate - images).square().sum(1);
                var betterRows = adversarial.logical_and(squaredDistance.lt(bestSquaredDistance)).nonzero().squeeze(1);
                if (betterRows.shape[0] > 0)
                {
                    best.index_copy_(0, betterRows, candidate.index_select(0, betterRows));
                    bestSquaredDistance.index_copy_(0, betterRows, squaredDistance.index_select(0, betterRows));
                }
                succeeded.logical_or_(adversarial);

                // Adam, element by element.
                firstMoment.mul_(Beta1).add_(evaluation.Gradient, alpha: 1 - Beta1);
                secondMoment.mul_(Beta2).addcmul_(evaluation.Gradient, evaluation.Gradient, value: 1 - Beta2);
                double correction1 = 1 - Math.Pow(Beta1, step);
                double correction2 = 1 - Math.Pow(Beta2, step);
                var update = firstMoment / correction1 / ((secondMoment / correction2).sqrt() + AdamEpsilon);
                variables.sub_(update * LearningRate);
                variables.copy_(variables.clamp(variableLower, variableUpper));
            }
            found.logical_or_(succeeded);
            // Binary search on the loss weight: success -> try smaller c; failure -> larger (x10 until bracketed).
            upper.copy_(where(succeeded, upper.minimum(currentConstant), upper));
            lower.copy_(where(succeeded, lower, lower.maximum(currentConstant)));
            var bracketed = upper.isfinite();
            constant.copy_(where(bracketed, (lower + upper) / 2, currentConstant * 10));
        }
        long evaluationsPerImage = (long)BinarySearchSteps * Steps;
        return new PerturbOutput(best, full(rowCount, evaluationsPerImage, dtype: ScalarType.Int64, device: images.device), found);
    }
}
