using System.Diagnostics;
using System.Globalization;
using System.Text;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training;

/// <summary>One epoch of a run: its mean loss and what the probe measured after it (NaN where nothing was).</summary>
public sealed record EpochRecord(int Epoch, double MeanLoss, double TestError, double RobustError);

/// <summary>
/// What one training run did: the epochs it reached, the epoch it resumed from (0 for a fresh run), wall time of this
/// process's part, the mean loss of the last epoch and every epoch's record (those of a resumed run included).
/// </summary>
public sealed record TrainingRun(int Epochs, int ResumedFromEpoch, double Seconds, double FinalMeanLoss, IReadOnlyList<EpochRecord> History);

/// <summary>
/// Where a run keeps its checkpoint, and the fingerprint that names everything its weights depend on (model, recipe,
/// seed, data, method): a checkpoint written under another fingerprint is never resumed.
/// </summary>
public sealed record TrainingCheckpoint(string Path, string Fingerprint);

/// <summary>
/// The one training loop: the zoo's models, every adversarial-training method and its baseline, and the spectral
/// penalty all train here. Mini-batches in an order drawn from (seed, epoch); loss = CleanWeight * cross-entropy +
/// the model's <see cref="Classifier.WeightPenalty"/> (the paper's lambda * sum(W^2) / k per layer) + the hook's
/// ExtraLoss; the recipe's optimiser (<see cref="CheckpointableOptimizer"/>, whose whole state saves exactly) under
/// its warm-up and cosine learning-rate schedule. A recipe with <see cref="TrainingRecipe.Pretraining"/> first
/// pretrains AE400-10's sparse autoencoder (<see cref="SparseAutoencoderPretraining"/>) as the run's first step.
/// <para>
/// Given a <see cref="TrainingCheckpoint"/>, the loop writes one checkpoint file atomically after the pretraining and
/// after every epoch (weights, optimiser state, the epoch, an <see cref="IStatefulHook"/>'s state, the history), and
/// a run that finds that file continues after the last finished epoch. Nothing random carries over between epochs:
/// each epoch's order comes from (seed, epoch), torch's generator is seeded with (seed, epoch) before the epoch
/// (dropout), and the hooks key their draws on the step; so a resumed run ends with the same weights as an
/// uninterrupted one, bit for bit.
/// </para>
/// </summary>
public static class TrainingLoop
{
    private const string Format = "intriguing-checkpoint/1";

    /// <summary>
    /// Trains <paramref name="model"/> (fresh, or as the checkpoint left it) to <paramref name="recipe"/>'s epochs and
    /// leaves it in eval mode. Only parameters with requires_grad are updated (AE400-10's frozen encoder is not).
    /// <paramref name="stopAfterEpochs"/> ends the run early after that many epochs in total (what an interruption
    /// does, for tests). <paramref name="probe"/> measures the model after each epoch (test error, robust error) for
    /// the history. <paramref name="threads"/> is torch's intra-op thread count for the run (one by default: the zoo's
    /// small batches gain nothing from more on a shared machine; docs/training.md).
    /// </summary>
    public static TrainingRun Train(
        Classifier model,
        LabeledImages trainSet,
        TrainingRecipe recipe,
        int seed,
        string taskName,
        TrainingHook? hook = null,
        TrainingCheckpoint? checkpoint = null,
        IProgress<ProgressUpdate>? progress = null,
        int? stopAfterEpochs = null,
        Func<Classifier, (double TestError, double RobustError)>? probe = null,
        int threads = 1)
    {
        if (trainSet.Count == 0 || recipe.BatchSize < 1 || recipe.Epochs < 1)
        {
            throw new BadInputException(
                $"cannot train {taskName}: {trainSet.Count} training images, batch size {recipe.BatchSize}, {recipe.Epochs} epochs (each must be at least 1)");
        }
        var clock = Stopwatch.StartNew();
        using var threadLimit = TorchThreads.Limit(threads);
        var device = model.Device;
        using var trainImages = trainSet.Images.to(device);
        using var trainLabels = trainSet.Labels.to(device);
        bool resuming = checkpoint is not null && File.Exists(checkpoint.Path) && Matches(checkpoint, progress, taskName);
        var autoencoder = recipe.Pretraining is not null ? model as SparseAutoencoderClassifier : null;
        if (autoencoder is not null)
        {
            if (resuming)
            {
                // The checkpoint holds the pretrained encoder; only its frozen state is ours to restore.
                SparseAutoencoderPretraining.Freeze(autoencoder);
            }
            else
            {
                SparseAutoencoderPretraining.Pretrain(autoencoder, trainImages, recipe.Pretraining!, seed, taskName, progress);
            }
        }

        var trainable = model.parameters().Where(parameter => parameter.requires_grad).ToList();
        using var optimizer = new CheckpointableOptimizer(recipe, trainable);
        int count = trainSet.Count;
        int batchesPerEpoch = (count + recipe.BatchSize - 1) / recipe.BatchSize;
        long totalSteps = (long)recipe.Epochs * batchesPerEpoch;
        long warmupSteps = Math.Min((long)recipe.WarmupEpochs * batchesPerEpoch, totalSteps);
        var history = new List<EpochRecord>();
        model.train();
        hook?.Starting(model);
        int firstEpoch = 0;
        if (resuming)
        {
            firstEpoch = Resume(checkpoint!, model, optimizer, hook, history, progress, taskName);
        }
        else if (checkpoint is not null && autoencoder is not null)
        {
            // The pretraining is a step of its own: a run killed after it does not redo it.
            WriteCheckpoint(checkpoint, 0, model, optimizer, hook, history);
        }
        int lastEpoch = Math.Min(recipe.Epochs, stopAfterEpochs ?? recipe.Epochs);
        double meanLoss = history.Count > 0 ? history[^1].MeanLoss : double.NaN;
        try
        {
            for (int epoch = firstEpoch; epoch < lastEpoch; epoch++)
            {
                using var epochScope = NewDisposeScope();
                torch.random.manual_seed(SeededStreams.Mix(seed, epoch, 7));
                var order = ShuffledOrder(SeededStreams.For(seed, epoch, 3), count).to(device);
                // Summed as a tensor, read once per epoch: reading every batch's loss would force a sync per step.
                var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
                long step = (long)epoch * batchesPerEpoch;
                for (int batch = 0; batch < batchesPerEpoch; batch++, step++)
                {
                    using var batchScope = NewDisposeScope();
                    int start = batch * recipe.BatchSize;
                    var indices = order.narrow(0, start, Math.Min(recipe.BatchSize, count - start));
                    var images = trainImages.index_select(0, indices);
                    var labels = trainLabels.index_select(0, indices);
                    optimizer.LearningRate = recipe.LearningRateAt(step, totalSteps, warmupSteps);
                    var trainingBatch = new TrainingBatch(images, labels, epoch, step, step * recipe.BatchSize);
                    // Cleared before the hook (an attack it runs must not see the previous batch's weight gradients) and after it.
                    ClearGradients(trainable);
                    if (hook is not null)
                    {
                        trainingBatch = hook.Prepare(model, trainingBatch);
                    }
                    ClearGradients(trainable);
                    var loss = model.WeightPenalty();
                    if (trainingBatch.CleanWeight != 0)
                    {
                        loss = loss + nn.functional.cross_entropy(model.forward(trainingBatch.Inputs), trainingBatch.Labels) * trainingBatch.CleanWeight;
                    }
                    if (hook?.ExtraLoss(model, trainingBatch) is Tensor extra)
                    {
                        loss = loss + extra;
                    }
                    loss.backward();
                    optimizer.Step();
                    using (no_grad())
                    {
                        lossSum.add_(loss.detach().to_type(ScalarType.Float64));
                    }
                }
                meanLoss = lossSum.item<double>() / batchesPerEpoch;
                hook?.EpochEnded(model, epoch, meanLoss);
                var measured = probe is null ? (double.NaN, double.NaN) : Probe(model, probe);
                history.Add(new EpochRecord(epoch + 1, meanLoss, measured.Item1, measured.Item2));
                if (checkpoint is not null)
                {
                    WriteCheckpoint(checkpoint, epoch + 1, model, optimizer, hook, history);
                }
                progress?.Report(new ProgressUpdate(taskName, epoch + 1, recipe.Epochs,
                    string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{recipe.Epochs} loss {meanLoss:F4}")));
            }
        }
        finally
        {
            model.eval();
            ClearGradients(trainable);
        }
        return new TrainingRun(lastEpoch, firstEpoch, clock.Elapsed.TotalSeconds, meanLoss, history);
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

    private static (double, double) Probe(Classifier model, Func<Classifier, (double, double)> probe)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            return probe(model);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Writes the checkpoint in one atomic replace: a reader sees the previous epoch's file or this one.</summary>
    private static void WriteCheckpoint(TrainingCheckpoint checkpoint, int epochsDone, Classifier model, CheckpointableOptimizer optimizer, TrainingHook? hook,
        IReadOnlyList<EpochRecord> history)
    {
        string path = checkpoint.Path;
        string fingerprint = checkpoint.Fingerprint;
        byte[] optimizerBytes = Bytes(optimizer.Save);
        using var scope = NewDisposeScope();
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Format);
            writer.Write(fingerprint);
            writer.Write(epochsDone);
            var state = model.state_dict();
            writer.Write(state.Count);
            foreach (var (name, value) in state)
            {
                writer.Write(name);
                writer.Write(value.shape.Length);
                foreach (long size in value.shape)
                {
                    writer.Write(size);
                }
                foreach (float number in value.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>())
                {
                    writer.Write(number);
                }
            }
            writer.Write((long)optimizerBytes.Length);
            writer.Write(optimizerBytes);
            WriteBlock(writer, inner => (hook as IStatefulHook)?.SaveState(inner));
            writer.Write(history.Count);
            foreach (var record in history)
            {
                writer.Write(record.Epoch);
                writer.Write(record.MeanLoss);
                writer.Write(record.TestError);
                writer.Write(record.RobustError);
            }
        });
    }

    /// <summary>
    /// Whether the checkpoint was written by this run (its fingerprint); a checkpoint of another run, or one whose header
    /// cannot be read, is set aside with a warning and the run starts from the beginning (the file is replaced after its
    /// first step).
    /// </summary>
    private static bool Matches(TrainingCheckpoint checkpoint, IProgress<ProgressUpdate>? progress, string taskName)
    {
        try
        {
            using var stream = File.OpenRead(checkpoint.Path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadString() != Format)
            {
                throw new InvalidDataException("not a training checkpoint");
            }
            string stored = reader.ReadString();
            if (stored == checkpoint.Fingerprint)
            {
                return true;
            }
            progress?.Report(ProgressUpdate.Warning(taskName, $"{checkpoint.Path}: a checkpoint of another run ({stored}); starting from epoch 0"));
            return false;
        }
        catch (Exception error) when (error is IOException or InvalidDataException or EndOfStreamException)
        {
            progress?.Report(ProgressUpdate.Warning(taskName, $"{checkpoint.Path}: not a readable checkpoint ({error.Message}); starting from epoch 0"));
            return false;
        }
    }

    /// <summary>The epochs the checkpoint finished; its weights, optimiser state, hook state and history are restored.</summary>
    private static int Resume(TrainingCheckpoint checkpoint, Classifier model, CheckpointableOptimizer optimizer, TrainingHook? hook,
        List<EpochRecord> history, IProgress<ProgressUpdate>? progress, string taskName)
    {
        string path = checkpoint.Path;
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadString() != Format)
            {
                throw new InvalidDataException("not a training checkpoint");
            }
            if (reader.ReadString() != checkpoint.Fingerprint)
            {
                throw new InvalidDataException("the checkpoint changed while it was read");
            }
            int epochsDone = reader.ReadInt32();
            using (NewDisposeScope())
            using (no_grad())
            {
                var state = model.state_dict();
                int tensors = reader.ReadInt32();
                for (int i = 0; i < tensors; i++)
                {
                    string name = reader.ReadString();
                    var shape = new long[reader.ReadInt32()];
                    for (int d = 0; d < shape.Length; d++)
                    {
                        shape[d] = reader.ReadInt64();
                    }
                    long elements = shape.Aggregate(1L, (a, b) => a * b);
                    var values = new float[elements];
                    for (long e = 0; e < elements; e++)
                    {
                        values[e] = reader.ReadSingle();
                    }
                    if (!state.TryGetValue(name, out var target) || !target.shape.SequenceEqual(shape))
                    {
                        throw new InvalidDataException($"tensor '{name}' does not fit the model");
                    }
                    target.copy_(tensor(values, shape));
                }
            }
            ReadBlock(reader, optimizer.Load);
            ReadBlock(reader, inner => (hook as IStatefulHook)?.LoadState(inner));
            int records = reader.ReadInt32();
            for (int i = 0; i < records; i++)
            {
                history.Add(new EpochRecord(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble()));
            }
            progress?.Report(ProgressUpdate.Warning(taskName, $"{path}: resuming after epoch {epochsDone}"));
            return epochsDone;
        }
        catch (Exception error) when (error is IOException or InvalidDataException or EndOfStreamException or BadInputException)
        {
            // A model half-restored from a bad file would be wrong: the caller made it fresh, so start over means retrain.
            throw new BadInputException($"{path}: cannot resume from this checkpoint ({error.Message}); delete it to train from the start", error);
        }
    }

    private static void WriteBlock(BinaryWriter writer, Action<BinaryWriter> content)
    {
        byte[] bytes = Bytes(content);
        writer.Write((long)bytes.Length);
        writer.Write(bytes);
    }

    private static byte[] Bytes(Action<BinaryWriter> content)
    {
        using var buffer = new MemoryStream();
        using (var inner = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            content(inner);
        }
        return buffer.ToArray();
    }

    private static void ReadBlock(BinaryReader reader, Action<BinaryReader> content)
    {
        long length = reader.ReadInt64();
        var bytes = reader.ReadBytes(checked((int)length));
        if (length == 0)
        {
            return;
        }
        using var inner = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        content(inner);
    }
}
