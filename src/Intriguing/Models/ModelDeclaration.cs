using System.Globalization;
using System.Text.Json;

namespace Intriguing.Models;

/// <summary>
/// What a model file made outside the product cannot tell us itself: the shape of one input ([C, H, W] for images),
/// the number of classes, and the normalisation the model expects, <c>(x - mean) / std</c> per channel. The product
/// applies that normalisation inside the model's wrapper, so attacks and distortions stay in [0,1] pixel space.
/// Declared in a <c>model.json</c> beside the model file (<see cref="FileFor"/>):
/// <c>{"inputShape":[C,H,W],"classes":K,"mean":[...],"std":[...]}</c> (mean and std optional, one value per channel or
/// one for all), or on the command line (<see cref="DeclarationOptions"/>), whose values win over the file's.
/// </summary>
public sealed record ModelDeclaration
{
    /// <summary>The declaration file's name when it is shared by the models of one folder.</summary>
    public const string FolderFileName = "model.json";

    /// <exception cref="BadInputException">A field out of range, named after <paramref name="source"/> (the file or the options).</exception>
    public ModelDeclaration(long[] inputShape, int classes, float[]? mean = null, float[]? std = null, string source = "the model declaration")
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(size => size < 1))
        {
            throw new BadInputException($"{source}: inputShape must list at least one size, each >= 1 (e.g. [3, 32, 32]); got {Format(inputShape)}");
        }
        if (inputShape.Aggregate(1L, (product, size) => product * size) > int.MaxValue)
        {
            throw new BadInputException($"{source}: inputShape {Format(inputShape)} has more values than one input can hold");
        }
        if (classes < 2)
        {
            throw new BadInputException($"{source}: classes must be at least 2; got {classes}");
        }
        CheckPerChannel(mean, "mean", inputShape[0], source, positive: false);
        CheckPerChannel(std, "std", inputShape[0], source, positive: true);
        InputShape = inputShape;
        Classes = classes;
        Mean = mean;
        Std = std;
        Source = source;
    }

    /// <summary>The shape of one input, e.g. [3, 32, 32].</summary>
    public long[] InputShape { get; }

    /// <summary>K, the width of the model's logits.</summary>
    public int Classes { get; }

    /// <summary>Subtracted per channel before the model sees its input (null: nothing); one value or one per channel.</summary>
    public float[]? Mean { get; }

    /// <summary>Divided by per channel after <see cref="Mean"/> (null: 1); one value or one per channel, each &gt; 0.</summary>
    public float[]? Std { get; }

    /// <summary>Where the declaration came from ("path/model.json", "--input-shape/--classes"), for messages.</summary>
    public string Source { get; }

    /// <summary>True when the wrapper normalises its input before the model sees it.</summary>
    public bool Normalises => Mean is not null || Std is not null;

    /// <summary>The input space the wrapper declares: the shape, the classes, pixels in [0,1].</summary>
    public InputSpace Input()
    {
        int features = (int)InputShape.Aggregate(1L, (product, size) => product * size);
        return new InputSpace(InputShape, Classes, InputBox.Uniform(0f, 1f, features));
    }

    /// <summary>"[3, 32, 32], 10 classes, mean [0.5], std [0.25]", for messages and reports.</summary>
    public string Describe() =>
        $"{Format(InputShape)}, {Classes} classes" + (Mean is null ? "" : $", mean {Format(Mean)}") + (Std is null ? "" : $", std {Format(Std)}");

    /// <summary>
    /// The declaration file of the model at <paramref name="modelPath"/>, or null when there is none: <c>&lt;stem&gt;.json</c>
    /// beside it (<c>net.pt</c> -> <c>net.json</c>) if it exists, else <c>model.json</c> in the same folder if that exists.
    /// </summary>
    public static string? FileFor(string modelPath)
    {
        string fullPath = Path.GetFullPath(modelPath);
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        string ownFile = Path.Combine(folder, Path.GetFileNameWithoutExtension(fullPath) + ".json");
        if (File.Exists(ownFile))
        {
            return ownFile;
        }
        string shared = Path.Combine(folder, FolderFileName);
        return File.Exists(shared) ? shared : null;
    }

    /// <summary>
    /// The declaration of the model at <paramref name="modelPath"/>: the file <see cref="FileFor"/> finds, with any field
    /// <paramref name="options"/> gives replaced by the option's value. Without a file, the options must give the input
    /// shape and the classes.
    /// </summary>
    /// <exception cref="BadInputException">No declaration at all, a file that is not valid JSON or lacks a field, or a value out of range; the file or option is named.</exception>
    public static ModelDeclaration Resolve(string modelPath, DeclarationOptions? options)
    {
        options ??= DeclarationOptions.None;
        string? file = FileFor(modelPath);
        if (file is null)
        {
            if (options.InputShape is null || options.Classes is null)
            {
                string fullPath = Path.GetFullPath(modelPath);
                throw new BadInputException(
                    $"{fullPath}: the model's input is not declared: put {Path.GetFileNameWithoutExtension(fullPath)}.json or {FolderFileName} beside it " +
                    "({\"inputShape\":[C,H,W],\"classes\":K}, optionally \"mean\" and \"std\"), or give --input-shape C,H,W and --classes K");
            }
            return new ModelDeclaration(options.InputShape, options.Classes.Value, options.Mean, options.Std, "the command-line declaration (--input-shape, --classes, --mean, --std)");
        }
        var stored = ReadFile(file);
        if (!options.Any)
        {
            return stored;
        }
        return new ModelDeclaration(
            options.InputShape ?? stored.InputShape,
            options.Classes ?? stored.Classes,
            options.Mean ?? stored.Mean,
            options.Std ?? stored.Std,
            $"{file} with the command-line options");
    }

    /// <summary>Reads and checks a declaration file.</summary>
    /// <exception cref="BadInputException">Not JSON, a missing or mistyped field, or a value out of range; the file is named.</exception>
    public static ModelDeclaration ReadFile(string path)
    {
        string fullPath = Path.GetFullPath(path);
        const string Expected = "expected {\"inputShape\":[C,H,W],\"classes\":K} with optional \"mean\" and \"std\" lists";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(fullPath));
        }
        catch (JsonException error)
        {
            throw new BadInputException($"{fullPath}: not valid JSON ({error.Message}); {Expected}", error);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{fullPath}: cannot be read ({error.Message})", error);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new BadInputException($"{fullPath}: {Expected}; got a JSON {root.ValueKind.ToString().ToLowerInvariant()}");
            }
            if (!root.TryGetProperty("inputShape", out var shapeElement) || !root.TryGetProperty("classes", out var classesElement))
            {
                throw new BadInputException($"{fullPath}: missing \"inputShape\" or \"classes\"; {Expected}");
            }
            long[] shape = Numbers<long>(shapeElement, fullPath, "inputShape", element => element.TryGetInt64(out long size) ? size : null);
            if (classesElement.ValueKind != JsonValueKind.Number || !classesElement.TryGetInt32(out int classes))
            {
                throw new BadInputException($"{fullPath}: \"classes\" must be a whole number >= 2; got {classesElement.GetRawText()}");
            }
            float[]? mean = root.TryGetProperty("mean", out var meanElement) && meanElement.ValueKind != JsonValueKind.Null
                ? Numbers<float>(meanElement, fullPath, "mean", element => element.TryGetDouble(out double value) ? (float)value : null)
                : null;
            float[]? std = root.TryGetProperty("std", out var stdElement) && stdElement.ValueKind != JsonValueKind.Null
                ? Numbers<float>(stdElement, fullPath, "std", element => element.TryGetDouble(out double value) ? (float)value : null)
                : null;
            return new ModelDeclaration(shape, classes, mean, std, fullPath);
        }
    }

    /// <summary>A comma-separated list of sizes ("3,32,32") as an option gives it.</summary>
    /// <exception cref="BadInputException">Not a list of whole numbers >= 1; <paramref name="option"/> is named.</exception>
    public static long[] ParseShape(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
            {
                throw new BadInputException($"{option} '{text}': expected comma-separated sizes, each a whole number >= 1, e.g. 3,32,32");
            }
        }
        return sizes;
    }

    /// <summary>A comma-separated list of numbers ("0.5,0.5,0.5") as an option gives it.</summary>
    /// <exception cref="BadInputException">Not a list of numbers; <paramref name="option"/> is named.</exception>
    public static float[] ParseValues(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new BadInputException($"{option} '{text}': expected comma-separated numbers, one per channel or one for all, e.g. 0.5,0.5,0.5");
            }
        }
        return values;
    }

    /// <summary>True for the same shape, classes, mean and std (the source is not compared).</summary>
    public bool Equals(ModelDeclaration? other) =>
        other is not null && InputShape.AsSpan().SequenceEqual(other.InputShape) && Classes == other.Classes
        && SameValues(Mean, other.Mean) && SameValues(Std, other.Std);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(InputShape.Length, InputShape[0], Classes, Mean?.Length, Std?.Length);

    private static bool SameValues(float[]? first, float[]? second) =>
        first is null ? second is null : second is not null && first.AsSpan().SequenceEqual(second);

    private static void CheckPerChannel(float[]? values, string field, long channels, string source, bool positive)
    {
        if (values is null)
        {
            return;
        }
        if (values.Length != 1 && values.Length != channels)
        {
            throw new BadInputException(channels == 1
                ? $"{source}: {field} has {values.Length} values; expected 1 (inputShape has one channel)"
                : $"{source}: {field} has {values.Length} values; expected 1 (for all channels) or {channels} (one per channel of inputShape)");
        }
        foreach (float value in values)
        {
            if (!float.IsFinite(value) || (positive && value <= 0))
            {
                throw new BadInputException($"{source}: {field} holds {value.ToString(CultureInfo.InvariantCulture)}; expected finite numbers{(positive ? " > 0" : "")}");
            }
        }
    }

    private static T[] Numbers<T>(JsonElement element, string path, string field, Func<JsonElement, T?> read)
        where T : struct
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new BadInputException($"{path}: \"{field}\" must be a list of numbers; got {element.GetRawText()}");
        }
        var values = new List<T>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || read(item) is not T value)
            {
                throw new BadInputException($"{path}: \"{field}\" must be a list of numbers; {item.GetRawText()} is not one");
            }
            values.Add(value);
        }
        return [.. values];
    }

    private static string Format<T>(IEnumerable<T> values) where T : IFormattable =>
        "[" + string.Join(", ", values.Select(value => value.ToString(null, CultureInfo.InvariantCulture))) + "]";
}

/// <summary>
/// The declaration given on the command line (<c>--input-shape</c>, <c>--classes</c>, <c>--mean</c>, <c>--std</c>);
/// each value given replaces the declaration file's (<see cref="ModelDeclaration.Resolve"/>).
/// </summary>
/// <param name="InputShape">The shape of one input (<c>--input-shape C,H,W</c>), or null.</param>
/// <param name="Classes">The class count (<c>--classes K</c>), or null.</param>
/// <param name="Mean">The per-channel mean (<c>--mean</c>), or null.</param>
/// <param name="Std">The per-channel standard deviation (<c>--std</c>), or null.</param>
public sealed record DeclarationOptions(long[]? InputShape = null, int? Classes = null, float[]? Mean = null, float[]? Std = null)
{
    /// <summary>Nothing given on the command line.</summary>
    public static DeclarationOptions None { get; } = new();

    /// <summary>True when any value was given.</summary>
    public bool Any => InputShape is not null || Classes is not null || Mean is not null || Std is not null;
}
