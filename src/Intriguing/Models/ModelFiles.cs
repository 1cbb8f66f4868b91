using System.Text.Json;
using System.Text.Json.Serialization;
using Intriguing.Data;
using Intriguing.IO;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// Storing models: a safetensors file of the weights plus a JSON sidecar <c>&lt;file&gt;.json</c> with the architecture's
/// name, the settings (split, seed, dataset, recipe), the measured errors and the SHA-256 of the weights file. Loading
/// trusts nothing: the file's bytes must hash to the sidecar's SHA-256 (so a flipped bit that still parses is caught),
/// every tensor's name, dtype and shape is checked against the architecture, and NaN or infinite weights are refused.
/// Training is <see cref="Training.ZooTraining"/>'s job, the cache policy <see cref="ModelStore"/>'s.
/// </summary>
public static class ModelFiles
{
    /// <summary>The weights file's extension, <c>.safetensors</c>.</summary>
    public const string Extension = ".safetensors";
    /// <summary>Appended to the weights file's path to name its sidecar: <c>&lt;file&gt;.json</c>.</summary>
    public const string SidecarSuffix = ".json";
    private const string FormatName = "intriguing-model/1";

    private static readonly JsonSerializerOptions SidecarJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Writes the weights (safetensors) and then the sidecar, each atomically; both carry one training id, and the
    /// sidecar the SHA-256 of the weights file's bytes.
    /// </summary>
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
        string sha256 = SafeTensors.Write(model.Path, tensors, metadata);
        var sidecar = new ModelSidecar(
            FormatName, model.Name, model.Split.Name(), model.Seed, model.Report.Quick, model.Report.Epochs, model.Report.Recipe,
            model.Report.TrainError, model.Report.TestError, model.Report.P1Error, model.Report.P2Error, model.Report.Seconds,
            trainingId, DateTimeOffset.UtcNow)
        {
            Dataset = model.Report.Dataset,
            Sha256 = sha256,
        };
        WriteSidecar(model.Path, sidecar);
    }

    /// <summary>
    /// Loads a model file and its sidecar. Throws a <see cref="BadInputException"/> naming the file (and the tensor)
    /// for a missing sidecar, bytes that do not hash to the sidecar's SHA-256, an unknown architecture, a missing,
    /// unexpected or mis-shaped tensor, NaN or infinite weights, a truncated file or a bad header. A sidecar written
    /// before checksums were kept has none to compare with: the file is used, with a warning on <paramref name="progress"/>.
    /// </summary>
    public static TrainedModel Load(string path, IProgress<ProgressUpdate>? progress = null)
    {
        var loaded = LoadFile(path);
        if (loaded.Unverified)
        {
            progress?.Report(ProgressUpdate.Warning($"load {System.IO.Path.GetFileName(loaded.Model.Path)}",
                $"{loaded.Model.Path}: {NoChecksum}; using it as it is"));
        }
        return loaded.Model;
    }

    /// <summary>What a warning says of a sidecar that records no SHA-256.</summary>
    internal const string NoChecksum = "its sidecar records no SHA-256 (it was written before checksums were kept), so a changed weight would go unnoticed";

    /// <summary>A loaded model file, its SHA-256, and whether the sidecar had no checksum to check it against.</summary>
    internal sealed record LoadedFile(TrainedModel Model, string Sha256, bool Unverified);

    /// <summary><see cref="Load"/> without the warning: says instead whether the file could be verified.</summary>
    internal static LoadedFile LoadFile(string path)
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
        if (sidecar.Sha256 is string expected && !string.Equals(expected, content.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new BadInputException($"{fullPath}: its SHA-256 is {content.Sha256}, but its sidecar {System.IO.Path.GetFileName(fullPath)}{SidecarSuffix} " +
                $"recorded {expected} when it was written: the file has changed since (a damaged disk or an edit), so it is not used");
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
        var report = new TrainingReport(sidecar.TrainError, sidecar.TestError, sidecar.P1Error, sidecar.P2Error, sidecar.Epochs, sidecar.Seconds, sidecar.Recipe, sidecar.Quick,
            sidecar.Dataset ?? "mnist");
        return new LoadedFile(new TrainedModel(spec.Name, split, sidecar.Seed, model, report, fullPath), content.Sha256, sidecar.Sha256 is null);
    }

    /// <summary>
    /// Adds <paramref name="sha256"/> to a sidecar that has none (one written before checksums were kept), so later
    /// loads verify the file. Only for a file that was just loaded and found sound (<see cref="LoadFile"/>).
    /// </summary>
    internal static void RecordChecksum(string modelPath, string sha256)
    {
        var sidecar = ReadSidecar(modelPath);
        if (sidecar.Sha256 is null)
        {
            WriteSidecar(modelPath, sidecar with { Sha256 = sha256 });
        }
    }

    /// <summary>
    /// Checks, before any work, that <paramref name="path"/> names a model file and its sidecar that can be read; a
    /// <see cref="BadInputException"/> names the file that cannot (<paramref name="option"/> says where it came from).
    /// </summary>
    public static void CheckReadable(string path, string option)
    {
        PathChecks.ReadableFile(path, option);
        if (ModelExport.IsExport(path))
        {
            // A state dict under PyTorch's names: its model.json names the architecture (ModelExport).
            return;
        }
        PathChecks.ReadableFile(System.IO.Path.GetFullPath(path) + SidecarSuffix, $"{option} (the model's sidecar)");
    }

    /// <summary>A new model whose parameters live outside any dispose scope (they outlive the caller's scopes).</summary>
    internal static Classifier CreateDetached(ModelSpec spec)
    {
        var model = spec.Create();
        foreach (var parameter in model.parameters())
        {
            parameter.DetachFromDisposeScope();
        }
        return model;
    }

    /// <summary>Eval mode and no gradients for the weights: the studies differentiate with respect to inputs only.</summary>
    internal static void Freeze(Classifier model)
    {
        model.eval();
        foreach (var parameter in model.parameters())
        {
            parameter.requires_grad = false;
        }
    }

    internal static void CopyWeights(string path, SafeTensorsContent content, Classifier model)
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

    private static void WriteSidecar(string modelPath, ModelSidecar sidecar) =>
        AtomicFile.WriteAllText(modelPath + SidecarSuffix, JsonSerializer.Serialize(sidecar, SidecarJson));

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
        /// <summary>The dataset the model was trained on (null in files from before it was recorded: MNIST).</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Dataset { get; init; }

        /// <summary>The SHA-256 of the weights file as written (null in files from before it was recorded: not verified).</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Sha256 { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? TorchSharpVersion { get; init; } = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString();
    }
}
