using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Intriguing.Data;
using Intriguing.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// Trains, saves, finds and loads zoo models. A model is a safetensors file
/// <c>$INTRIGUING_HOME/models/&lt;model&gt;-&lt;split&gt;-s&lt;seed&gt;.safetensors</c> plus a JSON sidecar <c>&lt;file&gt;.json</c>
/// with the architecture's name, the settings and the measured errors. Quick-trained models (and models trained
/// for a non-default number of epochs) get their own file names, so they never pass for fully trained ones.
/// Loading trusts nothing: every tensor's name, dtype and shape is checked against the architecture, and
/// NaN or infinite weights are refused.
/// </summary>
public static class ModelStore
{
    public const string Extension = ".safetensors";
    public const string SidecarSuffix = ".json";
    private const string FormatName = "intriguing-model/1";

    private static readonly JsonSerializerOptions SidecarJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

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
        string path = CachePath(spec, split, seed, quick, epochs);
        if (File.Exists(path))
        {
            try
            {
                var cached = Load(path);
                // A model trained by an older recipe of this zoo is stale: it would not show what the recipe gives now.
                if (cached.Report.Recipe == spec.RecipeFor(split, quick, epochs).Describe())
                {
                    return OnDevice(cached, device);
                }
                cached.Dispose();
            }
            catch (BadInputException)
            {
                // A corrupt or stale cache entry is never trusted: train again and overwrite it.
            }
        }
        return Train(spec.Name, data, split, seed, quick, epochs, progress, device);
    }

    /// <summary>Moves a loaded model's parameters to <paramref name="device"/> (the CPU when null: where it was loaded).</summary>
    private static TrainedModel OnDevice(TrainedModel trained, Device? device)
    {
        MoveTo(trained.Model, device);
        return trained;
    }

    private static void MoveTo(Classifier model, Device? device)
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
        var trained = TrainUnsaved(spec, data.Get, split, seed, quick, epochs, progress, device) with
        {
            Path = CachePath(spec, split, seed, quick, epochs),
        };
        Save(trained);
        return trained;
    }

    /// <summary>
    /// Where the cache keeps a model: <c>&lt;model&gt;-&lt;split&gt;-s&lt;seed&gt;[-e&lt;epochs&gt;][-quick].safetensors</c>, the epochs
    /// suffix only when they differ from the recipe's.
    /// </summary>
    public static string CachePath(ModelSpec spec, Split split, int seed, bool quick = false, int? epochs = null)
    {
        var recipe = spec.RecipeFor(split, quick, null);
        string epochsSuffix = epochs is int requested && requested != recipe.Epochs ? $"-e{requested}" : "";
        string quickSuffix = quick ? "-quick" : "";
        string fileName = string.Create(CultureInfo.InvariantCulture, $"{spec.Name}-{split.Name()}-s{seed}{epochsSuffix}{quickSuffix}{Extension}");
        return Path.Combine(IntriguingHome.ModelsFolder, fileName);
    }

    /// <summary>Writes the weights (safetensors) and then the sidecar, each atomically; both carry one training id.</summary>
    public static void Save(TrainedModel model)
    {
        string trainingId = Guid.NewGuid().ToString("N");
        var tensors = model.Model.state_dict()
            .Select(entry => new StoredTensor(entry.Key, entry.Value.shape, ToArray(entry.Value)))
            .ToList();
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["model"] = model.Name,
            ["trainingId"] = trainingId,
        };
        SafeTensors.Write(model.Path, tensors, metadata);
        var sidecar = new ModelSidecar(
            FormatName, model.Name, model.Split.Name(), model.Seed, model.Report.Quick, model.Report.Epochs, model.Report.Recipe,
            model.Report.TrainError, model.Report.TestError, model.Report.P1Error, model.Report.P2Error, model.Report.Seconds,
            trainingId, DateTimeOffset.UtcNow);
        AtomicFile.WriteAllText(model.Path + SidecarSuffix, JsonSerializer.Serialize(sidecar, SidecarJson));
    }

    /// <summary>
    /// Loads a model file and its sidecar. Throws a <see cref="BadInputException"/> naming the file (and the tensor)
    /// for a missing sidecar, an unknown architecture, a missing, unexpected or mis-shaped tensor, NaN or infinite
    /// weights, a truncated file or a bad header.
    /// </summary>
    public static TrainedModel Load(string path)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new BadInputException($"{fullPath}: model file not found");
        }
        var sidecar = ReadSidecar(fullPath);
        if (!ModelZoo.TryGet(sidecar.Model, out var spec))
        {
            throw new BadInputException($"{fullPath}{SidecarSuffix}: unknown architecture '{sidecar.Model}': expected one of {string.Join(", ", ModelZoo.Names)}");
        }
        var split = SplitNames.Parse(sidecar.Split);
        var content = SafeTensors.Read(fullPath);
        if (!content.Metadata.TryGetValue("trainingId", out var trainingId) || trainingId != sidecar.TrainingId)
        {
            throw new BadInputException($"{fullPath}: the sidecar {System.IO.Path.GetFileName(fullPath)}{SidecarSuffix} belongs to another training run (training ids differ); train the model again");
        }

        var model = CreateDetached(spec);
        try
        {
            CopyWeights(fullPath, content, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        var report = new TrainingReport(sidecar.TrainError, sidecar.TestError, sidecar.P1Error, sidecar.P2Error, sidecar.Epochs, sidecar.Seconds, sidecar.Recipe, sidecar.Quick);
        return new TrainedModel(spec.Name, split, sidecar.Seed, model, report, fullPath);
    }

    /// <summary>
    /// Trains a fresh, seeded model of <paramref name="spec"/> on <paramref name="splits"/>(<paramref name="split"/>) and
    /// evaluates it, without saving (<see cref="TrainedModel.Path"/> is empty). <paramref name="splits"/> gives the
    /// images of each split, so tests can pass small synthetic sets.
    /// </summary>
    private static TrainedModel TrainUnsaved(
        ModelSpec spec,
        Func<Split, LabeledImages> splits,
        Split split,
        int seed,
        bool quick,
        int? epochs,
        IProgress<ProgressUpdate>? progress,
        Device? device)
    {
        if (split == Split.Test)
        {
            throw new BadInputException("--split test: models are never trained on the test set; expected train, p1 or p2");
        }
        var recipe = spec.RecipeFor(split, quick, epochs);
        torch.random.manual_seed(seed);
        var model = CreateDetached(spec);
        MoveTo(model, device);
        try
        {
            string task = string.Create(CultureInfo.InvariantCulture, $"train {spec.Name} ({split.Name()}, seed {seed}{(quick ? ", quick" : "")})");
            var run = ClassifierTraining.Train(model, splits(split), recipe, seed, task, progress);
            var report = new TrainingReport(
                TrainError: Evaluation.ErrorRate(model, splits(split)),
                TestError: Evaluation.ErrorRate(model, splits(Split.Test)),
                P1Error: Evaluation.ErrorRate(model, splits(Split.P1)),
                P2Error: Evaluation.ErrorRate(model, splits(Split.P2)),
                Epochs: run.Epochs,
                Seconds: run.Seconds,
                Recipe: recipe.Describe(),
                Quick: quick);
            Freeze(model);
            return new TrainedModel(spec.Name, split, seed, model, report, "");
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static bool IsPath(string nameOrPath) =>
        nameOrPath.EndsWith(Extension, StringComparison.OrdinalIgnoreCase)
        || nameOrPath.Contains(System.IO.Path.DirectorySeparatorChar)
        || nameOrPath.Contains('/');

    /// <summary>A new model whose parameters live outside any dispose scope (they outlive the caller's scopes).</summary>
    private static Classifier CreateDetached(ModelSpec spec)
    {
        var model = spec.Create();
        foreach (var parameter in model.parameters())
        {
            parameter.DetachFromDisposeScope();
        }
        return model;
    }

    /// <summary>Eval mode and no gradients for the weights: the studies differentiate with respect to inputs only.</summary>
    private static void Freeze(Classifier model)
    {
        model.eval();
        foreach (var parameter in model.parameters())
        {
            parameter.requires_grad = false;
        }
    }

    private static void CopyWeights(string path, SafeTensorsContent content, Classifier model)
    {
        var expected = model.state_dict();
        foreach (var name in content.Tensors.Keys.Where(name => !expected.ContainsKey(name)))
        {
            throw new BadInputException($"{path}: unexpected tensor '{name}' for architecture '{model.GetName()}' (expected {string.Join(", ", expected.Keys)})");
        }
        foreach (var (name, target) in expected)
        {
            if (!content.Tensors.TryGetValue(name, out var stored))
            {
                throw new BadInputException($"{path}: tensor '{name}' is missing (architecture '{model.GetName()}' needs it)");
            }
            if (!stored.Shape.SequenceEqual(target.shape))
            {
                throw new BadInputException($"{path}: tensor '{name}' has shape [{string.Join(", ", stored.Shape)}], expected [{string.Join(", ", target.shape)}]");
            }
            int bad = Array.FindIndex(stored.Values, value => !float.IsFinite(value));
            if (bad >= 0)
            {
                throw new BadInputException($"{path}: tensor '{name}' holds a non-finite weight ({stored.Values[bad]} at element {bad}); refusing to load it");
            }
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (name, target) in expected)
        {
            var stored = content.Tensors[name];
            target.copy_(tensor(stored.Values, stored.Shape));
        }
        Freeze(model);
    }

    private static ModelSidecar ReadSidecar(string modelPath)
    {
        string sidecarPath = modelPath + SidecarSuffix;
        if (!File.Exists(sidecarPath))
        {
            throw new BadInputException($"{modelPath}: no sidecar {System.IO.Path.GetFileName(sidecarPath)} next to it; it names the architecture, so the model cannot be loaded without it");
        }
        ModelSidecar? sidecar;
        try
        {
            sidecar = JsonSerializer.Deserialize<ModelSidecar>(File.ReadAllText(sidecarPath), SidecarJson);
        }
        catch (JsonException error)
        {
            throw new BadInputException($"{sidecarPath}: not a valid model sidecar ({error.Message})", error);
        }
        if (sidecar is null || sidecar.Format != FormatName || string.IsNullOrWhiteSpace(sidecar.Model) || string.IsNullOrWhiteSpace(sidecar.Split))
        {
            throw new BadInputException($"{sidecarPath}: not a model sidecar: expected format \"{FormatName}\" with model and split fields");
        }
        return sidecar;
    }

    private static float[] ToArray(Tensor weight)
    {
        using var scope = NewDisposeScope();
        return weight.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    /// <summary>The JSON written next to each model file.</summary>
    private sealed record ModelSidecar(
        string Format,
        string Model,
        string Split,
        int Seed,
        bool Quick,
        int Epochs,
        string Recipe,
        double TrainError,
        double TestError,
        double P1Error,
        double P2Error,
        double Seconds,
        string TrainingId,
        DateTimeOffset SavedAt)
    {
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? TorchSharpVersion { get; init; } = typeof(torch).Assembly.GetName().Version?.ToString();
    }
}
