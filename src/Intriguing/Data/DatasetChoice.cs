using System.Globalization;

namespace Intriguing.Data;

/// <summary>A height and width in pixels, as <c>--resize H,W</c> gives them.</summary>
public readonly record struct ImageSize(int Height, int Width)
{
    /// <summary>Parses "H,W" (or "HxW"), each 1..4096.</summary>
    /// <exception cref="BadInputException">Anything else, naming <paramref name="option"/>.</exception>
    public static ImageSize Parse(string text, string option = "--resize")
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split([',', 'x', 'X'], StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int height)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && height is >= 1 and <= 4096 && width is >= 1 and <= 4096)
        {
            return new ImageSize(height, width);
        }
        throw new BadInputException($"{option} '{text}': expected H,W, two whole numbers of pixels from 1 to 4096 (e.g. 28,28)");
    }

    /// <summary>"HxW", e.g. "28x28".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Height}x{Width}");
}

/// <summary>
/// Which data a command runs on: <c>mnist</c>, <c>fashion-mnist</c>, or <c>folder:PATH</c>, a folder of labelled
/// images (<see cref="ImageFolder"/>), optionally resized to <see cref="Resize"/> (bilinear).
/// </summary>
/// <param name="Spec">The IDX dataset, or null for a folder.</param>
/// <param name="FolderPath">The image folder's full path, or null for an IDX dataset.</param>
/// <param name="Resize">The size every image is resized to (bilinear), or null to keep the data's own.</param>
public sealed record DatasetChoice(DatasetSpec? Spec, string? FolderPath, ImageSize? Resize = null)
{
    /// <summary>The prefix of a folder dataset in <c>--dataset</c>, "folder:".</summary>
    public const string FolderPrefix = "folder:";

    /// <summary>MNIST, not resized: the default.</summary>
    public static DatasetChoice Mnist { get; } = new(DatasetSpec.Mnist, null);

    /// <summary>Parses the <c>--dataset</c> value; a folder must exist (checked here, before any work).</summary>
    /// <exception cref="BadInputException">An unknown name, an empty or missing folder path.</exception>
    public static DatasetChoice Parse(string text, ImageSize? resize = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        if (trimmed.StartsWith(FolderPrefix, StringComparison.OrdinalIgnoreCase))
        {
            string path = trimmed[FolderPrefix.Length..];
            if (path.Length == 0)
            {
                throw new BadInputException("--dataset folder:PATH needs a folder path after 'folder:'");
            }
            string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
            if (!Directory.Exists(full))
            {
                throw new BadInputException($"--dataset {trimmed}: no such folder {full}");
            }
            return new DatasetChoice(null, full, resize);
        }
        return new DatasetChoice(DatasetSpec.Named(trimmed), null, resize);
    }

    /// <summary>True for a folder of images.</summary>
    public bool IsFolder => FolderPath is not null;

    /// <summary>"mnist", "fashion-mnist" or "folder:/full/path", plus " resized to HxW".</summary>
    public string Describe() =>
        (Spec?.Name ?? FolderPrefix + FolderPath) + (Resize is { } size ? $" resized to {size}" : "");
}
