using System.Globalization;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training;

/// <summary>
/// Unsupervised pre-training of AE400-10's hidden layer (Table 1: "a single layer sparse autoencoder with
/// sigmoid activation and 400 nodes with a Softmax classifier", not fine-tuned). A sigmoid decoder
/// 400 -> 784 reconstructs the image from the code; the loss is the classic sparse autoencoder's
/// (see <see cref="AutoencoderRecipe"/>). Afterwards the decoder is dropped and the encoder frozen. It is the first step
/// of <see cref="TrainingLoop"/> for a recipe that asks for it, with the loop's habits: batch order from (seed, epoch),
/// the loop's Adam (<see cref="CheckpointableOptimizer"/>).
/// </summary>
public static class SparseAutoencoderPretraining
{
    internal static void Pretrain(
        SparseAutoencoderClassifier model,
        Tensor images,
        AutoencoderRecipe recipe,
        int seed,
        string taskName,
        IProgress<ProgressUpdate>? progress = null)
    {
        var encoder = model.Encoder;
        var device = model.Device;
        using var decoder = nn.Linear(SparseAutoencoderClassifier.CodeUnits, model.Features);
        decoder.to(device);
        // The device copy is ours to dispose; on the model's own device the caller's tensor is used as it is.
        bool copied = images.device_type != device.type || images.device_index != device.index;
        using var deviceCopy = copied ? images.to(device) : null;
        images = deviceCopy ?? images;
        var parameters = encoder.parameters().Concat(decoder.parameters()).ToList();
        foreach (var parameter in parameters)
        {
            parameter.requires_grad = true;
        }
        var adam = new TrainingRecipe(recipe.Epochs, recipe.BatchSize, OptimizerKind.Adam, recipe.LearningRate, recipe.LearningRate);
        using var optimizer = new CheckpointableOptimizer(adam, parameters);
        optimizer.LearningRate = recipe.LearningRate;
        int count = (int)images.shape[0];
        int batchesPerEpoch = (count + recipe.BatchSize - 1) / recipe.BatchSize;
        double rho = recipe.SparsityTarget;
        string task = taskName + " (autoencoder)";
        for (int epoch = 0; epoch < recipe.Epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            // A different stream than the classifier's epochs, so the two phases do not share a batch order by accident.
            var order = TrainingLoop.ShuffledOrder(SeededStreams.For(seed, epoch, 11), count).to(device);
            var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
            for (int batch = 0; batch < batchesPerEpoch; batch++)
            {
                using var batchScope = NewDisposeScope();
                int start = batch * recipe.BatchSize;
                var x = images.index_select(0, order.narrow(0, start, Math.Min(recipe.BatchSize, count - start)));
                TrainingLoop.ClearGradients(parameters);
                var code = encoder.forward(x).sigmoid();
                var reconstruction = decoder.forward(code).sigmoid();
                var reconstructionError = (reconstruction - x).square().sum(1).mean() * 0.5;
                // KL(rho || rho_hat_j) summed over units, rho_hat_j = mean activation of unit j over the batch.
                var rhoHat = code.mean([0]).clamp(1e-6, 1 - 1e-6);
                var sparsity = (rho * (rho / rhoHat).log() + (1 - rho) * ((1 - rho) / (1 - rhoHat)).log()).sum();
                var weightDecay = (encoder.weight!.square().sum() + decoder.weight!.square().sum()) * (recipe.WeightDecay / 2);
                var loss = reconstructionError + recipe.SparsityWeight * sparsity + weightDecay;
                loss.backward();
                optimizer.Step();
                using (no_grad())
                {
                    lossSum.add_(loss.detach().to_type(ScalarType.Float64));
                }
            }
            double meanLoss = lossSum.item<double>() / batchesPerEpoch;
            progress?.Report(new ProgressUpdate(task, epoch + 1, recipe.Epochs,
                string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{recipe.Epochs} loss {meanLoss:F4}")));
        }
        TrainingLoop.ClearGradients(parameters);
        Freeze(model);
    }

    /// <summary>Not fine-tuned (Table 1): the classifier's training sees the encoder as a fixed feature map.</summary>
    internal static void Freeze(SparseAutoencoderClassifier model)
    {
        foreach (var parameter in model.Encoder.parameters())
        {
            parameter.requires_grad = false;
        }
    }
}
