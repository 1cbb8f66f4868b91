using System.Globalization;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// The model cache: finds a zoo model under <c>$INTRIGUING_HOME/models/&lt;model&gt;-&lt;split&gt;-s&lt;seed&gt;.safetensors</c>
/// (files in <see cref="ModelFiles"/>'s format) or trains it with <see cref="ZooTraining"/> and stores it. The file
/// name carries every setting the weights depend on: quick-trained models, a non-default number of epochs, another
/// dataset than MNIST each get their own name, so they never pass for one another; the sidecar is checked too.
/// Runs that share one cache take turns per model (<see cref="Lock"/>): the second waits while the first trains, then
/// reuses what it wrote.
/// </summary>
public static class ModelStore
{
    public const string Extension = ModelFiles.Extension;
    public const string SidecarSuffix = ModelFiles.SidecarSuffix;

    /// <summary>
    /// The model <paramref name="nameOrPath"/>: a file path is loaded as it is; a zoo name is loaded from the
    /// cache, or trained (and cached) when it is not there or the cached file cannot be used (<see cref="LoadIfCurrent"/>).
    /// </summary>
    public static TrainedModel GetOrTrain(
        string nameOrPath,
        ImageDataset data,
        Split split = Split.Train,
        int seed = 0,
        bool quick = false,
        int? epochs = null,
        IProgress<ProgressUpdate>? progress = null,
        Device? device = null)
    {
        if (IsPath(nameOrPath))
        {
            var loaded = Load(nameOrPath, progress);
            try
            {
                data.CheckFits(loaded.Model.Input, nameOrPath);
            }
            catch
            {
                loaded.Dispose();
                throw;
            }
            return OnDevice(loaded, device);
        }
        var spec = ModelZoo.Get(nameOrPath);
        // The zoo takes 28x28 grey digits of 10 classes: other data is refused before anything is trained.
        data.CheckFits(InputSpace.Mnist, spec.Name);
        string path = CachePath(spec, split, seed, quick, epochs, data.Name);
        var trained = LoadOrTrain(path, spec.RecipeFor(split, quick, epochs).Describe(), data.Name,
            () => TrainAndSave(spec, data, split, seed, quick, epochs, progress, device), progress);
        return OnDevice(trained, device);
    }

    /// <summary>
    /// The one way to use a cached model: holds the model's lock (<see cref="Lock"/>) while it loads the file at
    /// <paramref name="path"/> if it is current (<see cref="LoadIfCurrent"/>), and otherwise calls <paramref name="train"/>,
    /// which must store the model at <paramref name="path"/> (<see cref="Save"/>) before it returns. A second run asking for
    /// the same model at the same time waits for the first and then loads what it stored.
    /// </summary>
    public static TrainedModel LoadOrTrain(string path, string recipe, string dataset, Func<TrainedModel> train, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        using var held = Lock(path, progress);
        return LoadIfCurrent(path, recipe, dataset, progress) ?? train();
    }

    /// <summary>
    /// The cached model at <paramref name="path"/> if it can be trusted for <paramref name="recipe"/> and
    /// <paramref name="dataset"/>: its bytes hash to the SHA-256 its sidecar recorded, it loads (<see cref="ModelFiles.Load"/>),
    /// and it was trained by that recipe on that dataset. Otherwise null, after a warning on <paramref name="progress"/>
    /// naming the file and what was wrong (nothing is said when there is no file at all). A sidecar from before checksums
    /// were kept is accepted with a warning, and the file's SHA-256 is recorded in it so that later loads verify it.
    /// Callers that may train hold <see cref="Lock"/> around this call and the training (<see cref="LoadOrTrain"/> does).
    /// </summary>
    public static TrainedModel? LoadIfCurrent(string path, string recipe, string dataset, IProgress<ProgressUpdate>? progress = null)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        string task = $"load {System.IO.Path.GetFileName(fullPath)}";
        if (!File.Exists(fullPath) && !File.Exists(fullPath + SidecarSuffix))
        {
            return null;
        }
        ModelFiles.LoadedFile loaded;
        try
        {
            loaded = ModelFiles.LoadFile(fullPath);
        }
        catch (Exception error) when (error is BadInputException or IOException or UnauthorizedAccessException)
        {
            // A damaged or unreadable cache entry is never trusted: say which file and why, and let it be trained again.
            progress?.Report(ProgressUpdate.Warning(task, $"{fullPath}: cannot be loaded ({error.Message}); it will be trained again"));
            return null;
        }
        var cached = loaded.Model;
        // A model trained by an older recipe of this zoo, or on another dataset, would not show what this run asks for.
        if (cached.Report.Recipe != recipe || cached.Report.Dataset != dataset)
        {
            progress?.Report(ProgressUpdate.Warning(task,
                $"{fullPath}: trained by another recipe or on another dataset ({cached.Report.Dataset}: {cached.Report.Recipe}); it will be trained again"));
            cached.Dispose();
            return null;
        }
        if (loaded.Unverified)
        {
            progress?.Report(ProgressUpdate.Warning(task, $"{fullPath}: {ModelFiles.NoChecksum}; using it, and recording its SHA-256 now so later runs verify it"));
            try
            {
                ModelFiles.RecordChecksum(fullPath, loaded.Sha256);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                progress?.Report(ProgressUpdate.Warning(task, $"{fullPath}{SidecarSuffix}: could not record the SHA-256 ({error.Message})"));
            }
        }
        return cached;
    }

    /// <summary>
    /// The lock that one cached model's training and writing take turns on (<see cref="FileLock"/>, the hidden file
    /// <c>.&lt;file&gt;.lock</c> beside it). A run that finds it held waits, with a warning naming the lock file.
    /// </summary>
    public static FileLock Lock(string path, IProgress<ProgressUpdate>? progress = null) =>
        FileLock.Acquire(FileLock.PathFor(path), $"training or writing {System.IO.Path.GetFileName(path)}", progress);

    /// <summary>
    /// Moves a loaded model's parameters to <paramref name="device"/> (the CPU when null: where it was loaded); if the
    /// move fails the model is disposed before the error goes on.
    /// </summary>
    private static TrainedModel OnDevice(TrainedModel trained, Device? device)
    {
        try
        {
            MoveTo(trained.Model, device);
        }
        catch
        {
            trained.Dispose();
            throw;
        }
        return trained;
    }

    internal static void MoveTo(Classifier model, Device? device)
    {
        if (device is not null && device.type != DeviceType.CPU)
        {
            model.to(device);
        }
    }

    /// <summary>
    /// Always trains (seeded) on <paramref name="device"/> (the CPU when null), evaluates on every split, and saves to
    /// the cache, replacing any old entry atomically; holds the model's lock while it does.
    /// </summary>
    public static TrainedModel Train(
        string name,
        ImageDataset data,
        Split split = Split.Train,
        int seed = 0,
        bool quick = false,
        int? epochs = null,
        IProgress<ProgressUpdate>? progress = null,
        Device? device = null) =>
        TrainOnce(name, data, DateTimeOffset.MaxValue, split, seed, quick, epochs, progress, device).Model;

    /// <summary>
    /// <see cref="Train"/>, except when another run finished training the same model (same recipe and dataset) after
    /// <paramref name="startedAt"/> (when this run began): then that model is loaded instead of being trained twice, and
    /// <see cref="TrainOutcome.Reused"/> says so. This is what two <c>train</c> commands started together do: one trains
    /// while the other waits for the model's lock, then reuses it.
    /// </summary>
    public static TrainOutcome TrainOnce(
        string name,
        ImageDataset data,
        DateTimeOffset startedAt,
        Split split = Split.Train,
        int seed = 0,
        bool quick = false,
        int? epochs = null,
        IProgress<ProgressUpdate>? progress = null,
        Device? device = null)
    {
        var spec = ModelZoo.Get(name);
        string path = CachePath(spec, split, seed, quick, epochs, data.Name);
        using var held = Lock(path, progress);
        if (File.Exists(path + SidecarSuffix) && File.GetLastWriteTimeUtc(path + SidecarSuffix) >= startedAt.UtcDateTime
            && LoadIfCurrent(path, spec.RecipeFor(split, quick, epochs).Describe(), data.Name, progress) is { } written)
        {
            return new TrainOutcome(OnDevice(written, device), Reused: true);
        }
        return new TrainOutcome(TrainAndSave(spec, data, split, seed, quick, epochs, progress, device), Reused: false);
    }

    /// <summary>Trains and stores; the caller holds the model's lock.</summary>
    private static TrainedModel TrainAndSave(ModelSpec spec, ImageDataset data, Split split, int seed, bool quick, int? epochs,
        IProgress<ProgressUpdate>? progress, Device? device)
    {
        data.CheckFits(InputSpace.Mnist, spec.Name);
        data.RequireTraining($"training zoo model {spec.Name}");
        string path = CachePath(spec, split, seed, quick, epochs, data.Name);
        // Checkpointed per epoch beside the model: a run killed during training continues from its last epoch.
        string checkpoint = path + ".checkpoint";
        var trained = ZooTraining.Train(spec, data.Get, split, seed, quick, epochs, progress, device, data.Name, checkpointPath: checkpoint) with
        {
            Path = path,
        };
        Save(trained);
        File.Delete(checkpoint);
        return trained;
    }

    /// <summary>Writes the model and its sidecar atomically (<see cref="ModelFiles.Save"/>).</summary>
    public static void Save(TrainedModel model) => ModelFiles.Save(model);

    /// <summary>Loads a model file and its sidecar, checking everything (<see cref="ModelFiles.Load"/>).</summary>
    public static TrainedModel Load(string path, IProgress<ProgressUpdate>? progress = null) => ModelFiles.Load(path, progress);

    /// <summary>
    /// Where the cache keeps a model: <c>&lt;model&gt;-&lt;split&gt;-s&lt;seed&gt;[-e&lt;epochs&gt;][-quick][-&lt;dataset&gt;][-&lt;variant&gt;].safetensors</c>:
    /// the epochs suffix only when they differ from the recipe's, the dataset only when it is not MNIST, and
    /// <paramref name="variant"/> for models trained another way than the zoo's recipe (adversarial training, say).
    /// </summary>
    public static string CachePath(ModelSpec spec, Split split, int seed, bool quick = false, int? epochs = null, string dataset = "mnist", string? variant = null)
    {
        var recipe = spec.RecipeFor(split, quick, null);
        string epochsSuffix = epochs is int requested && requested != recipe.Epochs ? $"-e{requested}" : "";
        string quickSuffix = quick ? "-quick" : "";
        string datasetSuffix = dataset == "mnist" ? "" : $"-{dataset}";
        string variantSuffix = string.IsNullOrEmpty(variant) ? "" : $"-{variant}";
        string fileName = string.Create(CultureInfo.InvariantCulture,
            $"{spec.Name}-{split.Name()}-s{seed}{epochsSuffix}{quickSuffix}{datasetSuffix}{variantSuffix}{Extension}");
        return Path.Combine(IntriguingHome.ModelsFolder, fileName);
    }

    /// <summary>
    /// True when <paramref name="nameOrPath"/> names a model file rather than a zoo model: it ends in
    /// <c>.safetensors</c> or holds a folder separator (zoo names never do).
    /// </summary>
    public static bool IsPath(string nameOrPath) =>
        nameOrPath.EndsWith(Extension, StringComparison.OrdinalIgnoreCase)
        || nameOrPath.Contains('/')
        || nameOrPath.Contains('\\')
        || nameOrPath.Contains(System.IO.Path.DirectorySeparatorChar);
}

/// <summary>What <see cref="ModelStore.TrainOnce"/> produced: the model, and whether another run had just trained it (reused, not trained again).</summary>
public sealed record TrainOutcome(TrainedModel Model, bool Reused) : IDisposable
{
    public void Dispose() => Model.Dispose();
}
