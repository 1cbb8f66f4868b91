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
    /// <summary>The weights file's extension, <c>.safetensors</c>.</summary>
    public const string Extension = ModelFiles.Extension;
    /// <summary>Appended to the weights file's path to name its sidecar: <c>&lt;file&gt;.json</c>.</summary>
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
        Device? device = null,
        DeclarationOptions? declaration = null)
    {
        if (IsPath(nameOrPath))
        {
            if (FormatOf(nameOrPath) == FileFormat.TorchScript)
            {
                // A declaration that does not fit the data is said before the model is run on it.
                CheckFits(ModelDeclaration.Resolve(nameOrPath, declaration).InputShape, Path.GetFullPath(nameOrPath), data);
            }
            var loaded = LoadFile(nameOrPath, declaration, progress, device);
            try
            {
                data.CheckFits(loaded.Model.Input, nameOrPath);
            }
            catch
            {
                loaded.Dispose();
                throw;
            }
            return loaded;
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

    /// <summary>
    /// The formats of model files <c>--model</c> takes, told apart by the extension (<see cref="FormatOf"/>): the product's
    /// own safetensors files, TorchScript archives, ONNX models.
    /// </summary>
    public enum FileFormat
    {
        /// <summary>The product's own weights and sidecar (<see cref="ModelFiles"/>), or a state dict exported for PyTorch.</summary>
        SafeTensors,
        /// <summary>A TorchScript archive (<c>.pt</c>, <c>.pth</c>), run through libtorch (<see cref="TorchScriptClassifier"/>).</summary>
        TorchScript,
        /// <summary>An ONNX model (<c>.onnx</c>), score-only through ONNX Runtime (<see cref="OnnxClassifier"/>).</summary>
        Onnx,
    }

    /// <summary><c>.pt</c> and <c>.pth</c>: TorchScript; <c>.onnx</c>: ONNX; anything else: the product's safetensors format.</summary>
    public static FileFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".pt" or ".pth" => FileFormat.TorchScript,
        ".onnx" => FileFormat.Onnx,
        _ => FileFormat.SafeTensors,
    };

    /// <summary>
    /// True for model files made outside the product (TorchScript, ONNX): their input is declared (<see cref="ModelDeclaration"/>)
    /// and their layers cannot be read, so the layer-based analyses do not apply to them.
    /// </summary>
    public static bool IsForeign(string nameOrPath) => IsPath(nameOrPath) && FormatOf(nameOrPath) != FileFormat.SafeTensors;

    /// <summary>
    /// Loads the model file at <paramref name="path"/> by its format (<see cref="FormatOf"/>) onto <paramref name="device"/>:
    /// a safetensors file with its sidecar (<see cref="ModelFiles.Load"/>), or a TorchScript archive or an ONNX model with
    /// its declaration (<see cref="ModelDeclaration.Resolve"/>: the file beside it, <paramref name="declaration"/>'s values
    /// first). An ONNX model is score-only (<see cref="OnnxClassifier"/>) and always runs on the CPU.
    /// </summary>
    /// <exception cref="BadInputException">The file, its sidecar or its declaration cannot be used; named.</exception>
    public static TrainedModel LoadFile(string path, DeclarationOptions? declaration = null, IProgress<ProgressUpdate>? progress = null, Device? device = null)
    {
        string fullPath = Path.GetFullPath(path);
        switch (FormatOf(fullPath))
        {
            case FileFormat.TorchScript:
                var declared = ModelDeclaration.Resolve(fullPath, declaration);
                var script = TorchScriptClassifier.Load(fullPath, declared, device);
                var report = new TrainingReport(double.NaN, double.NaN, double.NaN, double.NaN, 0, 0,
                    $"TorchScript model {fullPath} ({declared.Describe()})", Dataset: "");
                return new TrainedModel(script.GetName(), Split.Train, 0, script, report, fullPath);
            case FileFormat.Onnx:
                // ONNX Runtime runs it on the CPU, whatever the device: the model is score-only, so nothing else moves.
                var declaredOnnx = ModelDeclaration.Resolve(fullPath, declaration);
                var onnx = new OnnxClassifier(fullPath, declaredOnnx.Input(), declaredOnnx.Mean, declaredOnnx.Std);
                var onnxReport = new TrainingReport(double.NaN, double.NaN, double.NaN, double.NaN, 0, 0,
                    $"ONNX model {fullPath} ({declaredOnnx.Describe()}; scores only, run by ONNX Runtime on the CPU)", Dataset: "");
                return new TrainedModel(onnx.GetName(), Split.Train, 0, onnx, onnxReport, fullPath);
            default:
                return OnDevice(Load(fullPath, progress), device);
        }
    }

    /// <summary>
    /// Checks, before any work, that the model file at <paramref name="path"/> can be read, with what its format needs beside
    /// it (a sidecar, a declaration); <paramref name="option"/> names where the path came from.
    /// </summary>
    /// <exception cref="BadInputException">What is missing or cannot be read, named.</exception>
    public static void CheckFile(string path, string option, DeclarationOptions? declaration = null)
    {
        switch (FormatOf(path))
        {
            case FileFormat.TorchScript:
                PathChecks.ReadableFile(path, option);
                ModelDeclaration.Resolve(path, declaration);
                break;
            case FileFormat.Onnx:
                PathChecks.ReadableFile(path, option);
                ModelDeclaration.Resolve(path, declaration);
                break;
            default:
                ModelFiles.CheckReadable(path, option);
                break;
        }
    }

    /// <summary>
    /// Throws unless the images of <paramref name="data"/> have the shape <paramref name="modelShape"/> the model at
    /// <paramref name="modelPath"/> declares (a model for [3, 32, 32]
    /// colour images cannot read [1, 28, 28] digits).
    /// </summary>
    /// <exception cref="BadInputException">The two shapes differ; both named.</exception>
    public static void CheckFits(long[] modelShape, string modelPath, ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(modelShape);
        ArgumentNullException.ThrowIfNull(data);
        if (!modelShape.AsSpan().SequenceEqual(data.ImageShape))
        {
            throw new BadInputException(
                $"{modelPath}: the model takes inputs of shape [{string.Join(", ", modelShape)}], but the {data.Name} images are " +
                $"[{string.Join(", ", data.ImageShape)}]; declare the input the model was made for and give data of that shape");
        }
    }

    /// <summary>Writes the model and its sidecar atomically (<see cref="ModelFiles.Save"/>).</summary>
    public static void Save(TrainedModel model) => ModelFiles.Save(model);

    /// <summary>
    /// Loads a model file and its sidecar, checking everything (<see cref="ModelFiles.Load"/>), or a state dict under
    /// PyTorch's names with a <c>model.json</c> beside it naming its zoo architecture (<see cref="ModelExport.Import"/>).
    /// </summary>
    public static TrainedModel Load(string path, IProgress<ProgressUpdate>? progress = null) =>
        ModelExport.IsExport(path) ? ModelExport.Import(path) : ModelFiles.Load(path, progress);

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
    /// <c>.safetensors</c>, <c>.pt</c>, <c>.pth</c> or <c>.onnx</c>, or holds a folder separator (zoo names never do).
    /// </summary>
    public static bool IsPath(string nameOrPath) =>
        nameOrPath.EndsWith(Extension, StringComparison.OrdinalIgnoreCase)
        || FormatOf(nameOrPath) != FileFormat.SafeTensors
        || nameOrPath.Contains('/')
        || nameOrPath.Contains('\\')
        || nameOrPath.Contains(System.IO.Path.DirectorySeparatorChar);
}

/// <summary>What <see cref="ModelStore.TrainOnce"/> produced: the model, and whether another run had just trained it (reused, not trained again).</summary>
public sealed record TrainOutcome(TrainedModel Model, bool Reused) : IDisposable
{
    /// <summary>Disposes the model.</summary>
    public void Dispose() => Model.Dispose();
}
