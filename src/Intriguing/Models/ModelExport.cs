using System.Text.Json;
using System.Text.Json.Nodes;
using Intriguing.Data;
using Intriguing.IO;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// A zoo model exported for other tools: where its two files went and the SHA-256 of the weights.
/// </summary>
public sealed record ExportedModel(string Folder, string WeightsPath, string DeclarationPath, string Architecture, string Sha256);

/// <summary>
/// Zoo models out to PyTorch and back. <see cref="Export"/> writes a folder with <c>model.safetensors</c> (the
/// state dict under PyTorch's own names: <c>hidden1.weight</c> [out, in], <c>conv1.weight</c> [out, in, 5, 5], ...,
/// the layout <c>nn.Linear</c> and <c>nn.Conv2d</c> use) and <c>model.json</c> (the architecture, input shape, class
/// count, layer list and how it was trained), which <c>tools/intriguing_zoo.py</c> and the few lines of Python in
/// docs/export.md rebuild as a <c>torch.nn.Module</c>. <see cref="Import"/> reads such a folder back, or a state dict a
/// user saved from PyTorch under the same names, into the zoo architecture that <c>model.json</c> names.
/// </summary>
public static class ModelExport
{
    /// <summary>The weights file an export writes: <c>model.safetensors</c>.</summary>
    public const string WeightsFileName = "model.safetensors";
    /// <summary>The declaration file an export writes beside the weights: <c>model.json</c>.</summary>
    public const string DeclarationFileName = "model.json";
    /// <summary>The <c>"format"</c> field of an export's <c>model.json</c>.</summary>
    public const string FormatName = "intriguing-export/1";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Writes <paramref name="model"/> into <paramref name="folder"/> (created if missing) as <c>model.safetensors</c>
    /// and <c>model.json</c>, each atomically, weights first.
    /// </summary>
    public static ExportedModel Export(TrainedModel model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        string fullFolder = Path.GetFullPath(folder);
        Directory.CreateDirectory(fullFolder);
        string weightsPath = Path.Combine(fullFolder, WeightsFileName);
        string declarationPath = Path.Combine(fullFolder, DeclarationFileName);
        var classifier = model.Model;
        var tensors = StateDict(classifier);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["architecture"] = model.Name,
        };
        string sha256 = SafeTensors.Write(weightsPath, tensors, metadata);

        var declaration = new JsonObject
        {
            ["format"] = FormatName,
            ["architecture"] = model.Name,
            ["kind"] = KindOf(classifier),
            ["inputShape"] = new JsonArray([.. classifier.Input.Shape.Select(size => JsonValue.Create(size))]),
            ["classes"] = classifier.ClassCount,
            ["inputRange"] = new JsonArray(0, 1),
            ["layers"] = new JsonArray([.. tensors.Select(tensor => (JsonNode)new JsonObject
            {
                ["name"] = tensor.Name,
                ["shape"] = new JsonArray([.. tensor.Shape.Select(size => JsonValue.Create(size))]),
            })]),
            ["weightsSha256"] = sha256,
            ["trainedOn"] = new JsonObject
            {
                ["dataset"] = model.Report.Dataset,
                ["split"] = model.Split.Name(),
                ["seed"] = model.Seed,
                ["recipe"] = model.Report.Recipe,
                ["quick"] = model.Report.Quick,
                ["testError"] = double.IsFinite(model.Report.TestError) ? model.Report.TestError : null,
            },
        };
        AtomicFile.WriteAllText(declarationPath, declaration.ToJsonString(Indented));
        return new ExportedModel(fullFolder, weightsPath, declarationPath, model.Name, sha256);
    }

    /// <summary>
    /// Loads a state dict saved under PyTorch's names (<paramref name="weightsPath"/>, a safetensors file) into the zoo
    /// architecture that <c>model.json</c> beside it names (<c>"architecture"</c>). Every tensor's name, shape and
    /// values are checked (<see cref="ModelFiles"/>); the input shape and class count in <c>model.json</c>, when given,
    /// must be the architecture's.
    /// </summary>
    /// <exception cref="BadInputException">A missing or unreadable <c>model.json</c>, an unknown architecture, a missing,
    /// unexpected or mis-shaped tensor, a non-finite weight or a damaged file, each named.</exception>
    public static TrainedModel Import(string weightsPath)
    {
        string fullPath = Path.GetFullPath(weightsPath);
        string declarationPath = Path.Combine(Path.GetDirectoryName(fullPath)!, DeclarationFileName);
        var declaration = ReadDeclaration(declarationPath);
        string architecture = declaration["architecture"]?.GetValue<string>()
            ?? throw new BadInputException($"{declarationPath}: no \"architecture\" field: name the zoo architecture the weights are for ({string.Join(", ", ModelZoo.Names)})");
        if (!ModelZoo.TryGet(architecture, out var spec))
        {
            throw new BadInputException($"{declarationPath}: unknown architecture '{architecture}': expected one of {string.Join(", ", ModelZoo.Names)}");
        }
        var content = SafeTensors.Read(fullPath);
        var model = ModelFiles.CreateDetached(spec);
        try
        {
            CheckDeclaredInput(declarationPath, declaration, model);
            ModelFiles.CopyWeights(fullPath, content, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        var trainedOn = declaration["trainedOn"] as JsonObject;
        string dataset = Optional(declarationPath, trainedOn, "dataset", "mnist");
        string splitName = Optional(declarationPath, trainedOn, "split", "train");
        int seed = Optional(declarationPath, trainedOn, "seed", 0);
        double testError = Optional(declarationPath, trainedOn, "testError", double.NaN);
        string recipe = Optional(declarationPath, trainedOn, "recipe", "imported state dict");
        var report = new TrainingReport(double.NaN, testError, double.NaN, double.NaN, 0, 0, recipe, Dataset: dataset);
        return new TrainedModel(spec.Name, SplitNames.Parse(splitName), seed, model, report, fullPath);
    }

    /// <summary>True when <paramref name="weightsPath"/> is a safetensors file with a <c>model.json</c> naming an architecture beside it and no product sidecar.</summary>
    public static bool IsExport(string weightsPath)
    {
        string fullPath = Path.GetFullPath(weightsPath);
        if (File.Exists(fullPath + ModelFiles.SidecarSuffix))
        {
            return false;
        }
        string declarationPath = Path.Combine(Path.GetDirectoryName(fullPath)!, DeclarationFileName);
        if (!File.Exists(declarationPath))
        {
            return false;
        }
        try
        {
            return JsonNode.Parse(File.ReadAllText(declarationPath)) is JsonObject declaration && declaration["architecture"] is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>"softmax", "sigmoid-mlp", "sparse-autoencoder" or "convnet": which Python class rebuilds the model.</summary>
    public static string KindOf(Classifier model) => model switch
    {
        SoftmaxRegression => "softmax",
        SigmoidMlp => "sigmoid-mlp",
        SparseAutoencoderClassifier => "sparse-autoencoder",
        ConvNet => "convnet",
        _ => throw new BadInputException($"model '{model.GetName()}' is not a zoo architecture; only zoo models can be exported"),
    };

    private static List<StoredTensor> StateDict(Classifier model)
    {
        using var scope = NewDisposeScope();
        return [.. model.state_dict().Select(entry => new StoredTensor(
            entry.Key, entry.Value.shape, entry.Value.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray()))];
    }

    private static T Optional<T>(string declarationPath, JsonObject? trainedOn, string field, T fallback)
    {
        if (trainedOn?[field] is not JsonNode value)
        {
            return fallback;
        }
        try
        {
            return value.GetValue<T>();
        }
        catch (Exception error) when (error is InvalidOperationException or FormatException)
        {
            throw new BadInputException($"{declarationPath}: \"trainedOn.{field}\" is {value.ToJsonString()}; expected a {(typeof(T) == typeof(string) ? "string" : "number")}", error);
        }
    }

    private static JsonObject ReadDeclaration(string declarationPath)
    {
        if (!File.Exists(declarationPath))
        {
            throw new BadInputException($"{declarationPath}: not found; a state dict needs a model.json beside it naming its \"architecture\" (one of {string.Join(", ", ModelZoo.Names)})");
        }
        try
        {
            return JsonNode.Parse(File.ReadAllText(declarationPath)) as JsonObject
                ?? throw new BadInputException($"{declarationPath}: expected a JSON object");
        }
        catch (JsonException error)
        {
            throw new BadInputException($"{declarationPath}: not valid JSON ({error.Message})", error);
        }
    }

    private static void CheckDeclaredInput(string declarationPath, JsonObject declaration, Classifier model)
    {
        if (declaration["inputShape"] is JsonArray shape)
        {
            long[] declared;
            try
            {
                declared = [.. shape.Select(size => size!.GetValue<long>())];
            }
            catch (Exception error) when (error is InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new BadInputException($"{declarationPath}: \"inputShape\" must be a list of whole numbers, e.g. [1, 28, 28]", error);
            }
            if (!declared.SequenceEqual(model.Input.Shape))
            {
                throw new BadInputException($"{declarationPath}: \"inputShape\" is [{string.Join(", ", declared)}], but architecture '{model.GetName()}' takes [{string.Join(", ", model.Input.Shape)}]");
            }
        }
        if (declaration["classes"] is JsonNode classes
            && (classes.GetValueKind() != JsonValueKind.Number || classes.GetValue<double>() != model.ClassCount))
        {
            throw new BadInputException($"{declarationPath}: \"classes\" is {classes.ToJsonString()}, but architecture '{model.GetName()}' has {model.ClassCount}");
        }
    }
}
