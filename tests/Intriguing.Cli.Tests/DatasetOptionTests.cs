using Intriguing.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>--dataset folder:PATH</c> and <c>--resize</c> on the commands: a folder of real MNIST digits saved as PNGs is
/// attacked with a model file; data of another shape, a test-only folder given to training, and malformed values
/// are bad input (exit 2) that names what was wrong. One test fetches the real Fashion-MNIST through the package
/// registry, from an empty home, as a fresh machine would.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class DatasetOptionTests : IDisposable
{
    private readonly RealMnist mnist;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-dataset-tests-" + Guid.NewGuid().ToString("N"));

    public DatasetOptionTests(RealMnist mnist)
    {
        this.mnist = mnist;
        Directory.CreateDirectory(folder);
        set_num_threads(1);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>The first <paramref name="perClass"/> real MNIST test digits of each class as grey PNGs in images/&lt;digit&gt;/.</summary>
    private string DigitFolder(int perClass)
    {
        string images = Path.Combine(folder, "images");
        using var data = ImageDataset.Load("mnist", mnist.Folder);
        long[] labels = data.Test.Labels.narrow(0, 0, 200).data<long>().ToArray();
        float[] pixels = data.Test.Images.narrow(0, 0, 200).contiguous().data<float>().ToArray();
        var written = new int[10];
        for (int index = 0; index < labels.Length; index++)
        {
            int digit = (int)labels[index];
            if (written[digit] == perClass)
            {
                continue;
            }
            using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
            for (int pixel = 0; pixel < 784; pixel++)
            {
                byte grey = (byte)Math.Round(pixels[index * 784 + pixel] * 255);
                bitmap.SetPixel(pixel % 28, pixel / 28, new SKColor(grey, grey, grey));
            }
            string path = Path.Combine(images, digit.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{index:D4}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(path, png.ToArray());
            written[digit]++;
        }
        return images;
    }

    /// <summary>Two classes of 8x8 colour PNGs.</summary>
    private string ColourFolder()
    {
        string images = Path.Combine(folder, "colour");
        foreach (string name in new[] { "red", "blue" })
        {
            using var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Rgba8888, SKAlphaType.Opaque));
            bitmap.Erase(name == "red" ? SKColors.Red : SKColors.Blue);
            Directory.CreateDirectory(Path.Combine(images, name));
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(images, name, "1.png"), png.ToArray());
        }
        return images;
    }

    [Fact]
    public void Fgsm_attacks_a_folder_of_digit_pngs_with_a_model_file_and_records_the_classes()
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        string images = DigitFolder(perClass: 2);

        var run = CliRun.Of("attack", "--dataset", "folder:" + images, "--model", model, "--method", "fgsm", "--count", "10", "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal(10, json.GetProperty("count").GetInt32());
        Assert.True(json.GetProperty("verified").GetBoolean());
        Assert.Equal("folder:" + images, json.GetProperty("dataset").GetString());
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], json.GetProperty("classNames").EnumerateArray().Select(name => name.GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("paperMinDistortion").ValueKind);
    }

    [Fact]
    public void A_model_that_does_not_fit_the_folders_images_is_bad_input_naming_both_shapes()
    {
        string model = TinyModelFiles.SoftmaxOnRealMnist(mnist, folder);
        string images = ColourFolder();

        var run = CliRun.Of("attack", "--dataset", "folder:" + images, "--model", model, "--method", "fgsm", "--count", "2", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.StandardOutput);
        Assert.Contains($"takes [1, 28, 28] with 10 classes, but dataset folder:{images} has images [3, 8, 8] with 2 classes", run.StandardError);
    }

    [Fact]
    public void Training_a_zoo_model_on_a_test_only_folder_says_it_needs_a_train_folder()
    {
        using var home = new TemporaryHome("dataset-train");
        string images = DigitFolder(perClass: 1);

        var run = CliRun.Of("train", "--model", "fc10-1e-4", "--dataset", "folder:" + images, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("training zoo model fc10-1e-4 needs training images", run.StandardError);
        Assert.Contains("train/", run.StandardError);
    }

    [Theory]
    [InlineData("--dataset", "folder:/no/such/folder/anywhere", "no such folder")]
    [InlineData("--resize", "28", "--resize '28': expected H,W")]
    [InlineData("--dataset", "cifar", "unknown dataset 'cifar'")]
    public void Bad_dataset_values_are_bad_input_before_any_work(string option, string value, string expected)
    {
        var run = CliRun.Of("attack", "--model", "fc10-1e-4", "--method", "fgsm", option, value, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.StandardError);
    }

    [Fact]
    public void Data_fetch_says_a_folder_needs_no_fetching()
    {
        var run = CliRun.Of("data", "fetch", "--dataset", "folder:" + folder, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("needs no fetching", run.StandardError);
    }

    [Fact]
    public void Every_command_that_reads_images_offers_dataset_and_resize()
    {
        foreach (string command in new[] { "attack", "transfer", "units", "spectral", "adv-train", "train", "reproduce" })
        {
            var help = CliRun.Of(command, "--help");
            Assert.Contains("folder:PATH", help.StandardOutput);
            Assert.Contains("--resize", help.StandardOutput);
        }
    }

    /// <summary>True when apt's local package lists name dataset-fashion-mnist (`apt-cache show` reads only those lists).</summary>
    private static bool AptKnowsThePackage()
    {
        if (!File.Exists("/usr/bin/apt-cache"))
        {
            return false;
        }
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/apt-cache", ["show", "dataset-fashion-mnist"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    /// <summary>
    /// The one test that reaches a package registry: real Fashion-MNIST from an empty home, through Debian's package
    /// (or the system folder when the package is installed), every file verified against its published checksums.
    /// </summary>
    [Fact]
    public void Fashion_mnist_is_fetched_and_verified_from_an_empty_home()
    {
        bool installed = Directory.Exists("/usr/share/datasets/fashion-mnist");
        if (OperatingSystem.IsWindows() || (!installed && !AptKnowsThePackage()))
        {
            return; // neither the package's folder nor an apt that lists the package: no way to it here but the mirrors
        }
        using var home = new TemporaryHome("fashion");

        var run = CliRun.Of("data", "fetch", "--dataset", "fashion-mnist", "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.Equal("fashion-mnist", json.GetProperty("dataset").GetString());
        Assert.Equal(60_000, json.GetProperty("trainCount").GetInt32());
        Assert.Equal(10_000, json.GetProperty("testCount").GetInt32());
        var files = json.GetProperty("files").EnumerateArray().ToList();
        Assert.All(files, file => Assert.True(file.GetProperty("ok").GetBoolean()));
        Assert.Contains(files, file => file.GetProperty("sha256").GetString() == DatasetSpec.FashionMnist.TestImages.Sha256);
        if (!installed)
        {
            Assert.All(files, file => Assert.Equal("apt-get download dataset-fashion-mnist", file.GetProperty("source").GetString()));
        }
    }
}
