using Intriguing.Data;
using Intriguing.Models;
using SkiaSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Data;

/// <summary>
/// <c>--dataset folder:PATH</c>: folders of PNG and JPEG images the tests write with SkiaSharp, grey and colour, one
/// size or several, with and without train/ and test/, and every way such a folder can be wrong.
/// </summary>
public sealed class ImageFolderTests : IDisposable
{
    private readonly string root = IdxFiles.TemporaryFolder();

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>Writes an image whose pixel (x, y) is <paramref name="colour"/>(x, y); grey images are stored as 8-bit grey.</summary>
    private static void WriteImage(string path, int width, int height, bool grey, Func<int, int, (byte R, byte G, byte B)> colour)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var info = new SKImageInfo(width, height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = colour(x, y);
                bitmap.SetPixel(x, y, grey ? new SKColor(r, r, r) : new SKColor(r, g, b));
            }
        }
        string extension = Path.GetExtension(path).ToLowerInvariant();
        var format = extension == ".png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg;
        using var data = bitmap.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    private string Grey(string relative, int width = 4, int height = 3, byte value = 100) =>
        Written(relative, width, height, grey: true, (x, y) => ((byte)(value + x + 10 * y), 0, 0));

    private string Colour(string relative, int width = 4, int height = 3) =>
        Written(relative, width, height, grey: false, (x, y) => ((byte)(200 + x), (byte)(100 + y), 50));

    private string Written(string relative, int width, int height, bool grey, Func<int, int, (byte, byte, byte)> colour)
    {
        string path = Path.Combine(root, relative);
        WriteImage(path, width, height, grey, colour);
        return path;
    }

    private BadInputException Fails(ImageSize? resize = null) =>
        Assert.Throws<BadInputException>(() => ImageFolder.Load(root, resize).Dispose());

    [Fact]
    public void Grey_pngs_give_one_channel_sorted_classes_and_exact_pixels_as_a_test_set()
    {
        Grey("b/1.png", value: 10);
        Grey("a/2.png", value: 20);
        Grey("a/10.png", value: 30);
        Grey("B/x.png", value: 40);

        using var data = ImageFolder.Load(root);

        Assert.Equal(["B", "a", "b"], data.ClassNames);
        Assert.Equal([1L, 3, 4], data.ImageShape);
        Assert.Equal(4, data.Test.Count);
        Assert.False(data.HasTraining);
        Assert.Equal(0, data.Train.Count);
        // Class by class, files sorted ordinally within each ("10.png" before "2.png").
        Assert.Equal([0L, 1, 1, 2], data.Test.Labels.data<long>().ToArray());
        float[] rows = data.Test.Images.data<float>().ToArray();
        Assert.Equal(40 / 255f, rows[0], 6);
        Assert.Equal(30 / 255f, rows[12], 6);
        Assert.Equal((20 + 3 + 20) / 255f, rows[24 + 11], 6);
        Assert.Equal($"folder:{root}", data.Origin);
        Assert.StartsWith("folder-", data.Name);
        Assert.DoesNotContain('/', data.Name);
    }

    [Fact]
    public void Colour_images_give_three_channels_stored_channel_by_channel()
    {
        Colour("cat/1.png");
        Colour("dog/1.png");

        using var data = ImageFolder.Load(root);

        Assert.Equal([3L, 3, 4], data.ImageShape);
        float[] row = data.Test.Images[0].data<float>().ToArray();
        Assert.Equal(36, row.Length);
        Assert.Equal(201 / 255f, row[1], 6); // R at (1, 0)
        Assert.Equal(102 / 255f, row[12 + 8], 6); // G at (0, 2)
        Assert.Equal(50 / 255f, row[24 + 5], 6); // B
    }

    [Fact]
    public void A_mix_of_grey_and_colour_makes_every_image_colour()
    {
        Grey("a/1.png", value: 60);
        Colour("b/1.png");

        using var data = ImageFolder.Load(root);

        Assert.Equal([3L, 3, 4], data.ImageShape);
        float[] grey = data.Test.Images[0].data<float>().ToArray();
        Assert.Equal(grey[0], grey[12]);
        Assert.Equal(grey[0], grey[24]);
        Assert.Equal(60 / 255f, grey[0], 6);
    }

    [Fact]
    public void Jpg_and_jpeg_files_are_read_with_any_case_of_ending()
    {
        Written("a/1.jpg", 8, 8, grey: false, (_, _) => (250, 10, 10));
        Written("b/1.JPEG", 8, 8, grey: true, (_, _) => (128, 0, 0));

        using var data = ImageFolder.Load(root);

        Assert.Equal([3L, 8, 8], data.ImageShape);
        Assert.Equal(2, data.Test.Count);
        Assert.Equal(250 / 255f, data.Test.Images[0, 0].item<float>(), 1);
    }

    [Fact]
    public void Grey_jpegs_stay_one_channel()
    {
        Written("a/1.jpg", 8, 8, grey: true, (_, _) => (128, 0, 0));
        Written("b/1.jpg", 8, 8, grey: true, (_, _) => (30, 0, 0));

        using var data = ImageFolder.Load(root);

        Assert.Equal([1L, 8, 8], data.ImageShape);
    }

    [Fact]
    public void Train_and_test_subfolders_are_the_two_splits()
    {
        Grey("train/a/1.png");
        Grey("train/a/2.png");
        Grey("train/b/1.png");
        Grey("test/a/1.png");
        Grey("test/b/1.png");

        using var data = ImageFolder.Load(root);

        Assert.True(data.HasTraining);
        Assert.Equal(3, data.Train.Count);
        Assert.Equal(2, data.Test.Count);
        Assert.Equal(["a", "b"], data.ClassNames);
        Assert.Equal(1, data.Get(Split.P1).Count);
    }

    [Fact]
    public void Splits_with_different_classes_are_an_error_listing_both()
    {
        Grey("train/a/1.png");
        Grey("train/b/1.png");
        Grey("test/a/1.png");
        Grey("test/c/1.png");

        var error = Fails();

        Assert.Contains("train/ has class folders [a, b] but test/ has [a, c]", error.Message);
    }

    [Fact]
    public void Images_of_different_sizes_are_an_error_naming_two_files_and_their_sizes()
    {
        string first = Grey("a/1.png", width: 4, height: 3);
        string other = Grey("b/1.png", width: 5, height: 6);

        var error = Fails();

        Assert.Contains($"{first} is 4x3 (width x height) but {other} is 5x6", error.Message);
        Assert.Contains("--resize", error.Message);
    }

    [Fact]
    public void Resize_brings_images_of_any_size_to_one_bilinearly()
    {
        Written("a/1.png", 4, 4, grey: true, (_, _) => (200, 0, 0));
        Written("b/1.png", 9, 7, grey: true, (_, _) => (200, 0, 0));

        using var data = ImageFolder.Load(root, new ImageSize(28, 28));

        Assert.Equal([1L, 28, 28], data.ImageShape);
        // A flat image stays flat under bilinear resizing.
        Assert.Equal(200 / 255f, data.Test.Images.min().item<float>(), 2);
        Assert.Equal(200 / 255f, data.Test.Images.max().item<float>(), 2);
        Assert.EndsWith("resized to 28x28", data.Origin);
    }

    [Fact]
    public void Hidden_files_and_other_endings_are_skipped()
    {
        Grey("a/1.png");
        Grey("b/1.png");
        File.WriteAllText(Path.Combine(root, "a", "README.txt"), "not an image");
        File.WriteAllText(Path.Combine(root, "a", ".DS_Store"), "junk");
        File.WriteAllText(Path.Combine(root, "b", ".hidden.png"), "junk");
        Directory.CreateDirectory(Path.Combine(root, ".git"));
        File.WriteAllText(Path.Combine(root, "labels.csv"), "x");

        using var data = ImageFolder.Load(root);

        Assert.Equal(["a", "b"], data.ClassNames);
        Assert.Equal(2, data.Test.Count);
    }

    [Fact]
    public void A_corrupt_image_is_an_error_naming_the_file()
    {
        Grey("a/1.png");
        string corrupt = Path.Combine(root, "b", "1.png");
        Directory.CreateDirectory(Path.GetDirectoryName(corrupt)!);
        File.WriteAllText(corrupt, "this is not a PNG file at all");

        var error = Fails();

        Assert.StartsWith($"{corrupt}: not a PNG or JPEG image", error.Message);
    }

    [Fact]
    public void A_truncated_image_is_an_error_naming_the_file()
    {
        Grey("a/1.png");
        string truncated = Written("b/1.png", 64, 64, grey: false, (x, y) => ((byte)(x * 3), (byte)(y * 3), (byte)(x ^ y)));
        byte[] bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        var error = Fails();

        Assert.StartsWith($"{truncated}: ", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void An_empty_class_folder_is_an_error_naming_it()
    {
        Grey("a/1.png");
        Directory.CreateDirectory(Path.Combine(root, "b"));
        File.WriteAllText(Path.Combine(root, "b", "notes.txt"), "no images here");

        var error = Fails();

        Assert.Equal($"{Path.Combine(root, "b")}: class folder holds no .png, .jpg or .jpeg image", error.Message);
    }

    [Fact]
    public void A_folder_without_class_folders_is_an_error_saying_the_layout()
    {
        Grey("1.png");

        var error = Fails();

        Assert.StartsWith($"{root}: no class folders; expected one folder per class", error.Message);
    }

    [Fact]
    public void A_single_class_is_an_error()
    {
        Grey("only/1.png");

        var error = Fails();

        Assert.Contains("only one class folder (only); a classifier needs at least 2 classes", error.Message);
    }

    [Fact]
    public void The_dataset_option_reads_folders_and_checks_its_values()
    {
        Grey("a/1.png");
        Grey("b/1.png");

        using var data = ImageDataset.Load("folder:" + root);
        Assert.Equal(2, data.ClassCount);

        var missing = Assert.Throws<BadInputException>(() => DatasetChoice.Parse("folder:" + Path.Combine(root, "nope")));
        Assert.Contains("no such folder", missing.Message);
        Assert.Contains("folder:PATH needs a folder path", Assert.Throws<BadInputException>(() => DatasetChoice.Parse("folder:")).Message);
        Assert.Contains("expected mnist, fashion-mnist or folder:PATH", Assert.Throws<BadInputException>(() => DatasetChoice.Parse("cifar")).Message);
        Assert.Equal(new ImageSize(32, 24), ImageSize.Parse("32,24"));
        Assert.Contains("--resize '0,5': expected H,W", Assert.Throws<BadInputException>(() => ImageSize.Parse("0,5")).Message);
        Assert.Throws<BadInputException>(() => ImageSize.Parse("28"));
    }

    [Fact]
    public void The_same_folder_gets_the_same_name_and_a_changed_one_another()
    {
        Grey("a/1.png");
        Grey("b/1.png");
        string first, resized, changed;
        using (var data = ImageFolder.Load(root))
        {
            first = data.Name;
        }
        using (var data = ImageFolder.Load(root, new ImageSize(8, 8)))
        {
            resized = data.Name;
        }
        Grey("b/2.png");
        using (var data = ImageFolder.Load(root))
        {
            changed = data.Name;
        }
        using (var again = ImageFolder.Load(root))
        {
            Assert.Equal(changed, again.Name);
        }

        Assert.NotEqual(first, resized);
        Assert.NotEqual(first, changed);
    }
}
