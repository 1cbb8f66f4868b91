using System.Security.Cryptography;
using System.Text;
using SkiaSharp;
using static TorchSharp.torch;

namespace Intriguing.Data;

/// <summary>
/// A dataset from a folder of labelled images, <c>PATH/&lt;class&gt;/*.png|*.jpg|*.jpeg</c>, decoded with SkiaSharp.
/// <list type="bullet">
/// <item>Classes are the class folders' names sorted ordinally; label i is the i-th name. At least 2 are needed.</item>
/// <item>If PATH holds both <c>train/</c> and <c>test/</c>, they are the two splits and must hold the same class
/// folders; otherwise the whole folder is the test set and the training split is empty.</item>
/// <item>Images are read in a fixed order: class by class, each class's files sorted ordinally by name.</item>
/// <item>Hidden files and folders (names starting with '.') are skipped, and so are files with other endings than
/// .png, .jpg, .jpeg (any case) and folders inside a class folder: a README beside the images does no harm. A file
/// with an image ending that does not decode (corrupt, truncated, not really an image) is an error.</item>
/// <item>Grey images (decoded as 8-bit grey) stay one channel, colour ones give three (RGB; alpha is dropped and the
/// colour values kept as stored). If a dataset mixes grey and colour images, all are made colour (grey copied to R, G, B).</item>
/// <item>Without a resize every image must have the same size (an error names two files and their sizes); with one,
/// each image is resized to it with bilinear sampling.</item>
/// <item>Pixels are scaled to [0,1]; an image is flattened channel by channel, each row by row ([C, H, W]).</item>
/// </list>
/// Every problem is a <see cref="BadInputException"/> naming the file or folder and what was expected.
/// </summary>
public static class ImageFolder
{
    /// <summary>The file endings read as images (any case): .png, .jpg, .jpeg.</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = [".png", ".jpg", ".jpeg"];

    private sealed record DecodedImage(string Path, int Width, int Height, bool Grey, byte[] Rgb, int Label);

    /// <summary>Reads the folder at <paramref name="path"/> (see the class comment for the layout and the rules).</summary>
    public static ImageDataset Load(string path, ImageSize? resize = null, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (!Directory.Exists(root))
        {
            throw new BadInputException($"{root}: no such folder (expected a folder of class folders of images)");
        }
        string trainFolder = Path.Combine(root, "train");
        string testFolder = Path.Combine(root, "test");
        bool split = Directory.Exists(trainFolder) && Directory.Exists(testFolder);
        var testFiles = ListClasses(split ? testFolder : root);
        var trainFiles = split ? ListClasses(trainFolder) : [];
        var classNames = testFiles.Select(entry => entry.Class).ToList();
        if (split && !trainFiles.Select(entry => entry.Class).SequenceEqual(classNames, StringComparer.Ordinal))
        {
            throw new BadInputException(
                $"{root}: train/ has class folders [{string.Join(", ", trainFiles.Select(entry => entry.Class))}] but test/ has " +
                $"[{string.Join(", ", classNames)}]; the two splits must hold the same classes");
        }

        int total = testFiles.Sum(entry => entry.Files.Count) + trainFiles.Sum(entry => entry.Files.Count);
        int done = 0;
        string task = $"read images in {Path.GetFileName(root)}";
        List<DecodedImage> DecodeAll(IReadOnlyList<(string Class, IReadOnlyList<string> Files)> classes)
        {
            var images = new List<DecodedImage>();
            for (int label = 0; label < classes.Count; label++)
            {
                foreach (string file in classes[label].Files)
                {
                    images.Add(Decode(file, label, resize));
                    if (++done % 200 == 0 || done == total)
                    {
                        progress?.Report(new ProgressUpdate(task, done, total));
                    }
                }
            }
            return images;
        }
        var train = DecodeAll(trainFiles);
        var test = DecodeAll(testFiles);

        var all = train.Concat(test).ToList();
        var first = all[0];
        var different = all.FirstOrDefault(image => image.Width != first.Width || image.Height != first.Height);
        if (different is not null)
        {
            throw new BadInputException(
                $"images differ in size: {first.Path} is {first.Width}x{first.Height} (width x height) but {different.Path} is " +
                $"{different.Width}x{different.Height}; give --resize H,W to resize them all");
        }
        int channels = all.All(image => image.Grey) ? 1 : 3;
        long[] shape = [channels, first.Height, first.Width];
        string suffix = resize is { } size ? $" resized to {size}" : "";
        return new ImageDataset(
            CacheName(root, all, resize),
            ToTensors(train, shape),
            ToTensors(test, shape),
            classNames,
            DatasetChoice.FolderPrefix + root + suffix);
    }

    /// <summary>The class folders of <paramref name="folder"/>, sorted, each with its image files sorted.</summary>
    private static List<(string Class, IReadOnlyList<string> Files)> ListClasses(string folder)
    {
        var classFolders = Directory.GetDirectories(folder)
            .Where(directory => !IsHidden(directory))
            .OrderBy(directory => Path.GetFileName(directory), StringComparer.Ordinal)
            .ToList();
        if (classFolders.Count == 0)
        {
            throw new BadInputException($"{folder}: no class folders; expected one folder per class holding .png/.jpg/.jpeg images ({folder}/<class>/<image>)");
        }
        if (classFolders.Count < 2)
        {
            throw new BadInputException($"{folder}: only one class folder ({Path.GetFileName(classFolders[0])}); a classifier needs at least 2 classes");
        }
        var classes = new List<(string Class, IReadOnlyList<string> Files)>();
        foreach (string classFolder in classFolders)
        {
            var files = Directory.GetFiles(classFolder)
                .Where(file => !IsHidden(file) && ImageExtensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                .OrderBy(file => Path.GetFileName(file), StringComparer.Ordinal)
                .ToList();
            if (files.Count == 0)
            {
                throw new BadInputException($"{classFolder}: class folder holds no .png, .jpg or .jpeg image");
            }
            classes.Add((Path.GetFileName(classFolder), files));
        }
        return classes;
    }

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    /// <summary>Decodes one file to RGB bytes (resized when asked), noting whether it was stored grey.</summary>
    private static DecodedImage Decode(string file, int label, ImageSize? resize)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{file}: cannot be read ({error.Message})");
        }
        using var codec = SKCodec.Create(new MemoryStream(bytes), out var created);
        if (codec is null)
        {
            throw new BadInputException($"{file}: not a PNG or JPEG image that can be decoded ({Describe(created)}); the file may be corrupt or empty");
        }
        var stored = codec.Info;
        bool grey = stored.ColorType == SKColorType.Gray8;
        var info = new SKImageInfo(stored.Width, stored.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            throw new BadInputException($"{file}: the image could not be decoded whole ({Describe(result)}); the file may be truncated or corrupt");
        }
        var source = bitmap;
        SKBitmap? resized = null;
        if (resize is { } size && (size.Width != stored.Width || size.Height != stored.Height))
        {
            resized = bitmap.Resize(new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul),
                new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None))
                ?? throw new BadInputException($"{file}: could not be resized to {size}");
            source = resized;
        }
        using (resized)
        {
            var rgba = source.GetPixelSpan();
            int pixels = source.Width * source.Height;
            var rgb = new byte[pixels * 3];
            for (int pixel = 0; pixel < pixels; pixel++)
            {
                rgb[pixel * 3] = rgba[pixel * 4];
                rgb[pixel * 3 + 1] = rgba[pixel * 4 + 1];
                rgb[pixel * 3 + 2] = rgba[pixel * 4 + 2];
            }
            return new DecodedImage(file, source.Width, source.Height, grey, rgb, label);
        }
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the data ends early",
        SKCodecResult.ErrorInInput => "the data is invalid",
        SKCodecResult.Unimplemented => "an unknown or unsupported format",
        SKCodecResult.InvalidInput => "invalid input",
        _ => result.ToString(),
    };

    /// <summary>Float [N, C*H*W] in [0,1], channel by channel (grey images: one channel, the R value, which equals G and B).</summary>
    private static LabeledImages ToTensors(List<DecodedImage> images, long[] shape)
    {
        int channels = (int)shape[0];
        int pixels = (int)(shape[1] * shape[2]);
        var values = new float[(long)images.Count * channels * pixels];
        var labels = new long[images.Count];
        for (int index = 0; index < images.Count; index++)
        {
            var image = images[index];
            labels[index] = image.Label;
            long row = (long)index * channels * pixels;
            for (int channel = 0; channel < channels; channel++)
            {
                for (int pixel = 0; pixel < pixels; pixel++)
                {
                    values[row + (long)channel * pixels + pixel] = image.Rgb[pixel * 3 + channel] / 255f;
                }
            }
        }
        using var scope = NewDisposeScope();
        var imageTensor = tensor(values, [images.Count, channels * pixels]);
        var labelTensor = tensor(labels, [images.Count]);
        return new LabeledImages(imageTensor.DetachFromDisposeScope(), labelTensor.DetachFromDisposeScope(), shape);
    }

    /// <summary>
    /// "folder-&lt;leaf&gt;-&lt;hash&gt;": fit for a file name, and different whenever the folder's path, its files (names
    /// and lengths) or the resize differ, so a model cached for one folder never passes for another's.
    /// </summary>
    private static string CacheName(string root, IReadOnlyList<DecodedImage> images, ImageSize? resize)
    {
        var identity = new StringBuilder(root).Append('|').Append(resize?.ToString() ?? "");
        foreach (var image in images)
        {
            identity.Append('|').Append(Path.GetRelativePath(root, image.Path)).Append(':').Append(new FileInfo(image.Path).Length);
        }
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToString())))[..10];
        string leaf = new(Path.GetFileName(root).ToLowerInvariant().Select(letter => char.IsAsciiLetterOrDigit(letter) ? letter : '-').ToArray());
        leaf = leaf.Trim('-');
        return $"folder-{(leaf.Length == 0 ? "images" : leaf[..Math.Min(leaf.Length, 40)])}-{hash}";
    }
}
