using System.Globalization;
using Intriguing.Data;
using Intriguing.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// The model cache: finds a zoo model under <c>$INTRIGUING_HOME/models/&lt;model&gt;-&lt;split&gt;-s&lt;seed&gt;.safetensors</c>
/// (files in <see cref="ModelFiles"/>'s format) or trains it with <see cref="ZooTraining"/> and stores it. The file
/// name carries every setting the weights depend on: quick-trained models, a non-default number of epochs, another
/// dataset than MNIST each get their own name, so they never pass for one another; the sidecar is checked too.
/// </summary>
public static class ModelStore
{
    public const string Extension = ModelFiles.Extension;
    public const string SidecarSuffix = ModelFiles.SidecarSuffix;

    /// <summary>
    /// The model <paramref name="nameOrPath"/>: a file path is loaded as it is; a zoo name is loaded from the
    /// cache, or trained (and cached) when it is not there or the cached file does not load.
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
            return OnDevice(Load(nameOrPath), device);
        }
        var spec = ModelZoo.Get(nameOrPath);
        string path = CachePath(spec, split, seed, quick, epochs, data.Name);
        if (File.Exists(path))
        {
            TrainedModel? cached = null;
            try
            {
                cached = Load(path);
                // A model trained by an older recipe of this zoo, or on another dataset, would not show what this run asks for.
                if (cached.Report.Recipe == spec.RecipeFor(split, quick, epochs).Describe() && cached.Report.Dataset == data.Name)
                {
                    return OnDevice(cached, device);
                }
                progress?.Report(ProgressUpdate.Warning($"load {spec.Name}",
                    $"{path}: trained by another recipe or on another dataset ({cached.Report.Dataset}); training {spec.Name} again"));
                cached.Dispose();
            }
            catch (BadInputException error)
            {
                // A corrupt cache entry is never trusted: say so, train again and overwrite it.
                cached?.Dispose();
                progress?.Report(ProgressUpdate.Warning($"load {spec.Name}", $"{path}: cannot be loaded ({error.Message}); training {spec.Name} again"));
            }
        }
        return Train(spec.Name, data, split, seed, quick, epochs, progress, device);
    }

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
    /// the cache, replacing any old entry atomically.
    /// </summary>
    public static TrainedModel Train(
        string name,
        ImageDataset data,
        Split split = Split.Train,
        int seed = 0,
        bool quick = false,
        int? epochs = null,
        IProgress<ProgressUpdate>? progress = null,
        Device? device = null)
    {
        var spec = ModelZoo.Get(name);
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
    public static TrainedModel Load(string path) => ModelFiles.Load(path);

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

    private static bool IsPath(string nameOrPath) =>
        nameOrPath.EndsWith(Extension, StringComparison.OrdinalIgnoreCase)
        || nameOrPath.Contains(System.IO.Path.DirectorySeparatorChar)
        || nameOrPath.Contains('/');
}
