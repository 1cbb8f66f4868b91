using System.Diagnostics;
using System.Globalization;
using System.Text;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training.Adversarial;

/// <summary>One epoch of a run: its mean loss and what the probe measured after it (NaN where nothing was).</summary>
public sealed record EpochRecord(int Epoch, double MeanLoss, double TestError, double RobustError);

/// <summary>What a resumable run did: epochs, the epoch it resumed at (0 for a fresh run), wall time of this process's part.</summary>
public sealed record ResumableRun(int Epochs, int ResumedAtEpoch, double Seconds, double FinalMeanLoss, IReadOnlyList<EpochRecord> History);

/// <summary>
/// The loop of <see cref="ClassifierTraining"/> (same batches, loss = CleanWeight * CE + weight penalty + ExtraLoss,
/// the recipe's optimiser and learning-rate schedule, the same <see cref="TrainingHook"/> calls), made to start at an
/// epoch: after every epoch it writes one checkpoint file atomically (weights, optimiser state, the epoch, the hook's
/// state and the history), and a run given that file continues after the last finished epoch. Nothing random carries
/// over between epochs: each epoch's order comes from (seed, epoch), torch's generator is seeded with (seed, epoch)
/// before the epoch (dropout), and the hooks key their draws on the step; so a resumed run ends with the same
/// weights as an uninterrupted one. (The zoo's loop draws every epoch's order from one <see cref="Random"/>, so it
/// cannot start at epoch e without replaying the draws; an engine change that lets it share this loop: see
/// docs/adversarial-training.md.)
/// </summary>
public static class ResumableTraining
{
    private const string Format = "intriguing-checkpoint/1";

    /// <summary>
    /// Trains <paramref name="model"/> (fresh, or as the checkpoint left it) to <paramref name="recipe"/>'s epochs.
    /// <paramref name="fingerprint"/> names everything the run depends on; a checkpoint written under another
    /// fingerprint is not resumed (a warning says so). <paramref name="stopAfterEpochs"/> ends the run early after
    /// that many epochs in total (what an interruption does, for tests). <paramref name="probe"/> measures the model
    /// after each epoch (test error, robust error) for the history. <paramref name="threads"/> is torch's intra-op
    /// thread count for the run (one by default: docs/adversarial-training.md measures one against two).
    /// </summary>
    public static ResumableRun Train(
        Classifier model,
        LabeledImages trainSet,
        TrainingRecipe recipe,
        int seed,
        string taskName,
        string fingerprint,
        TrainingHook? hook = null,
        string? checkpointPath = null,
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
        var trainable = model.parameters().Where(parameter => parameter.requires_grad).ToList();
        var device = model.Device;
        using var trainImages = trainSet.Images.to(device);
        using var trainLabels = trainSet.Labels.to(device);
        using var optimizer = new CheckpointableOptimizer(recipe, trainable);
        int count = trainSet.Count;
        int batchesPerEpoch = (count + recipe.BatchSize - 1) / recipe.BatchSize;
        long totalSteps = (long)recipe.Epochs * batchesPerEpoch;
        long warmupSteps = Math.Min((long)recipe.WarmupEpochs * batchesPerEpoch, totalSteps);
        var history = new List<EpochRecord>();
        model.train();
        hook?.Starting(model);
        int firstEpoch = 0;
        if (checkpointPath is not null && File.Exists(checkpointPath))
        {
            firstEpoch = TryResume(checkpointPath, fingerprint, model, optimizer, hook, history, progress, taskName);
        }
        int lastEpoch = Math.Min(recipe.Epochs, stopAfterEpochs ?? recipe.Epochs);
        double meanLoss = history.Count > 0 ? history[^1].MeanLoss : double.NaN;
        try
        {
            for (int epoch = firstEpoch; epoch < lastEpoch; epoch++)
            {
                using var epochScope = NewDisposeScope();
                torch.random.manual_seed(SeededStreams.Mix(seed, epoch, 7));
                var order = ClassifierTraining.ShuffledOrder(SeededStreams.For(seed, epoch, 3), count).to(device);
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
                    // No gradient is carried into a batch (a resumed run starts without one either).
                    ClassifierTraining.ClearGradients(trainable);
                    if (hook is not null)
                    {
                        trainingBatch = hook.Prepare(model, trainingBatch);
                    }
                    ClassifierTraining.ClearGradients(trainable);
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
                if (checkpointPath is not null)
                {
                    WriteCheckpoint(checkpointPath, fingerprint, epoch + 1, model, optimizer, hook, history);
                }
                progress?.Report(new ProgressUpdate(taskName, epoch + 1, recipe.Epochs,
                    string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{recipe.Epochs} loss {meanLoss:F4}")));
            }
        }
        finally
        {
            model.eval();
            ClassifierTraining.ClearGradients(trainable);
        }
        return new ResumableRun(lastEpoch, firstEpoch, clock.Elapsed.TotalSeconds, meanLoss, history);
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
    internal static void WriteCheckpoint(string path, string fingerprint, int epochsDone, Classifier model, CheckpointableOptimizer optimizer, TrainingHook? hook,
        IReadOnlyList<EpochRecord> history)
    {
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

    /// <summary>The epochs the checkpoint finished (0, with a warning, when it belongs to another run or is unreadable).</summary>
    private static int TryResume(string path, string fingerprint, Classifier model, CheckpointableOptimizer optimizer, TrainingHook? hook,
        List<EpochRecord> history, IProgress<ProgressUpdate>? progress, string taskName)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadString() != Format)
            {
                throw new InvalidDataException("not a training checkpoint");
            }
            string stored = reader.ReadString();
            if (stored != fingerprint)
            {
                progress?.Report(ProgressUpdate.Warning(taskName, $"{path}: a checkpoint of another run ({stored}); starting from epoch 0"));
                return 0;
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
