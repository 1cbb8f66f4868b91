using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>What one supervised training run did: epochs, wall time and the mean loss of the last epoch.</summary>
public sealed record TrainingRun(int Epochs, double Seconds, double FinalMeanLoss);

/// <summary>
/// The training loop every method shares: mini-batches in a seeded random order, loss = mean cross-entropy of the
/// batch + the model's <see cref="Classifier.WeightPenalty"/> (the paper's lambda * sum(W^2) / k per layer, per
/// example), the optimiser and cosine learning-rate decay of a <see cref="TrainingRecipe"/>. Left alone it is the zoo's
/// plain training (Table 1's models use only weight decay); a <see cref="TrainingHook"/> adds what another method needs:
/// adversarial batches, extra loss terms, work after each epoch.
/// </summary>
public static class ClassifierTraining
{
    /// <summary>
    /// Trains <paramref name="model"/> in place on <paramref name="trainSet"/> and leaves it in eval mode.
    /// Only parameters with requires_grad are updated (AE400-10's frozen encoder is not).
    /// The same seed, model initialisation and data give the same weights.
    /// </summary>
    public static TrainingRun Train(
        Classifier model,
        Data.LabeledImages trainSet,
        TrainingRecipe recipe,
        int seed,
        string taskName,
        IProgress<ProgressUpdate>? progress = null,
        TrainingHook? hook = null)
    {
        if (trainSet.Count == 0 || recipe.BatchSize < 1 || recipe.Epochs < 1)
        {
            throw new BadInputException(
                $"cannot train {taskName}: {trainSet.Count} training images, batch size {recipe.BatchSize}, {recipe.Epochs} epochs (each must be at least 1)");
        }
        var clock = Stopwatch.StartNew();
        using var threads = TorchThreads.Limit(1);
        if (recipe.Pretraining is not null && model is SparseAutoencoderClassifier autoencoderModel)
        {
            SparseAutoencoderPretraining.Pretrain(autoencoderModel, trainSet.Images, recipe.Pretraining, seed, taskName, progress);
        }

        var trainable = model.parameters().Where(parameter => parameter.requires_grad).ToList();
        // Training runs where the model lives; the set moves there once (a no-op on the CPU).
        var device = model.Device;
        using var trainImages = trainSet.Images.to(device);
        using var trainLabels = trainSet.Labels.to(device);
        using var optimizer = CreateOptimizer(recipe, trainable);
        var random = new Random(seed);
        int count = trainSet.Count;
        int batchesPerEpoch = (count + recipe.BatchSize - 1) / recipe.BatchSize;
        long totalSteps = (long)recipe.Epochs * batchesPerEpoch;
        long warmupSteps = Math.Min((long)recipe.WarmupEpochs * batchesPerEpoch, totalSteps);
        long step = 0;
        double meanLoss = double.NaN;
        model.train();
        try
        {
            hook?.Starting(model);
            for (int epoch = 0; epoch < recipe.Epochs; epoch++)
            {
                using var epochScope = NewDisposeScope();
                var order = ShuffledOrder(random, count).to(device);
                // Summed as a tensor, read once per epoch: reading every batch's loss would force a sync per step.
                var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
                for (int batch = 0; batch < batchesPerEpoch; batch++, step++)
                {
                    using var batchScope = NewDisposeScope();
                    int start = batch * recipe.BatchSize;
                    var indices = order.narrow(0, start, Math.Min(recipe.BatchSize, count - start));
                    var images = trainImages.index_select(0, indices);
                    var labels = trainLabels.index_select(0, indices);
                    SetLearningRate(optimizer, recipe.LearningRateAt(step, totalSteps, warmupSteps));
                    var trainingBatch = new TrainingBatch(images, labels, epoch, step, step * recipe.BatchSize);
                    // Cleared before the hook: an attack it runs must not see the previous batch's weight gradients.
                    ClearGradients(trainable);
                    if (hook is not null)
                    {
                        trainingBatch = hook.Prepare(model, trainingBatch);
                    }
                    var loss = nn.functional.cross_entropy(model.forward(trainingBatch.Inputs), trainingBatch.Labels) * trainingBatch.CleanWeight
                        + model.WeightPenalty();
                    if (hook?.ExtraLoss(model, trainingBatch) is Tensor extra)
                    {
                        loss = loss + extra;
                    }
                    loss.backward();
                    optimizer.step();
                    using (no_grad())
                    {
                        lossSum.add_(loss.detach().to_type(ScalarType.Float64));
                    }
                }
                meanLoss = lossSum.item<double>() / batchesPerEpoch;
                hook?.EpochEnded(model, epoch, meanLoss);
                progress?.Report(new ProgressUpdate(taskName, epoch + 1, recipe.Epochs,
                    string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{recipe.Epochs} loss {meanLoss:F4}")));
            }
        }
        finally
        {
            model.eval();
            ClearGradients(trainable);
        }
        return new TrainingRun(recipe.Epochs, clock.Elapsed.TotalSeconds, meanLoss);
    }

    /// <summary>A permutation of 0..count-1 drawn from <paramref name="random"/> (Fisher-Yates), as an int64 tensor.</summary>
    internal static Tensor ShuffledOrder(Random random, int count)
    {
        var order = new long[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return tensor(order);
    }

    /// <summary>
    /// Drops the parameters' gradients (PyTorch's set_to_none). TorchSharp 0.107's optimizer.zero_grad() leaves a
    /// managed tensor per parameter alive, which the leak test catches; setting grad to null creates none.
    /// </summary>
    internal static void ClearGradients(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        foreach (var parameter in parameters)
        {
            parameter.grad = null;
        }
    }

    internal static void SetLearningRate(optim.Optimizer optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }
    }

    private static optim.Optimizer CreateOptimizer(TrainingRecipe recipe, IList<TorchSharp.Modules.Parameter> parameters) =>
        recipe.Optimizer switch
        {
            OptimizerKind.Sgd => optim.SGD(parameters, recipe.LearningRate, momentum: recipe.Momentum, nesterov: recipe.Momentum > 0),
            OptimizerKind.Adam => optim.Adam(parameters, recipe.LearningRate),
            _ => throw new BadInputException($"unknown optimiser {recipe.Optimizer}"),
        };
}
