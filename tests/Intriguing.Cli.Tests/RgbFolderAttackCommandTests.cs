using System.Buffers.Binary;
using System.Text;
using Intriguing.Attacks.Figures;
using Intriguing.Models;
using SkiaSharp;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>attack --dataset folder:PATH</c> on colour images: the 32x32 RGB fixture folder and the TorchScript convnet with
/// batch norm trained on it (tests/fixtures/make_rgb_folder_fixture.py). The Figure 5 grid and the per-image PNGs
/// come out in colour, and the examples also as a NumPy array of [N, 3, 32, 32].
/// </summary>
public sealed class RgbFolderAttackCommandTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures");
    private static readonly string Model = Path.Combine(Fixtures, "torchscript", "rgb-bn-conv", "model.pt");
    private static readonly string Images = Path.Combine(Fixtures, "rgb-folder");
    private readonly TemporaryHome home = new("rgb-folder");

    public RgbFolderAttackCommandTests()
    {
        Directory.CreateDirectory(home.Folder);
        set_num_threads(1);
    }

    public void Dispose() => home.Dispose();

    /// <summary>Pixels whose channels differ by more than <paramref name="spread"/> levels: colour, not grey (nor the grid's near-black text).</summary>
    private static int ColouredPixels(SKBitmap bitmap, int spread = 64)
    {
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                var colour = bitmap.GetPixel(x, y);
                int highest = Math.Max(colour.Red, Math.Max(colour.Green, colour.Blue));
                int lowest = Math.Min(colour.Red, Math.Min(colour.Green, colour.Blue));
                count += highest - lowest > spread ? 1 : 0;
            }
        }
        return count;
    }

    [Fact]
    public void Pgd_on_a_folder_of_colour_images_writes_a_colour_figure_colour_pngs_and_an_npy_array()
    {
        string output = Path.Combine(home.Folder, "out");

        var run = CliRun.Of("attack", "--model", Model, "--dataset", "folder:" + Images, "--method", "pgd", "--out", output, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = run.Json();
        Assert.True(json.GetProperty("verified").GetBoolean());
        Assert.Equal(40, json.GetProperty("count").GetInt32());
        Assert.Equal(0, json.GetProperty("cleanErrorRate").GetDouble());
        Assert.StartsWith("folder:", json.GetProperty("dataset").GetString(), StringComparison.Ordinal);
        Assert.Equal(["blue-disc", "green-checks", "red-stripes", "yellow-diagonals"],
            json.GetProperty("classNames").EnumerateArray().Select(name => name.GetString()));
        var files = json.GetProperty("files");

        // The Figure 5 grid, in colour: the images' own colours, not grey.
        string figure = files.GetProperty("figure").GetString()!;
        Assert.Equal(Path.Combine(output, "figure5.png"), figure);
        using (var grid = SKBitmap.Decode(figure))
        {
            Assert.NotNull(grid);
            Assert.True(ColouredPixels(grid) > 1000, $"figure5.png should show colour images; {ColouredPixels(grid)} coloured pixels");
        }

        // One RGB PNG per image.
        Assert.Equal(40, files.GetProperty("pngCount").GetInt32());
        string[] pngs = Directory.GetFiles(files.GetProperty("pngFolder").GetString()!, "*.png");
        Assert.Equal(40, pngs.Length);
        using (var first = SKBitmap.Decode(pngs.Order(StringComparer.Ordinal).First()))
        {
            Assert.Equal((32, 32), (first.Width, first.Height));
            Assert.True(ColouredPixels(first) > 100, "an adversarial PNG should be in colour");
        }

        // The batch as NumPy's .npy, [N, C, H, W] float32, the same values as the safetensors file.
        string npy = files.GetProperty("npyFile").GetString()!;
        Assert.Equal(Path.Combine(output, "adversarials.npy"), npy);
        byte[] bytes = File.ReadAllBytes(npy);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        Assert.Contains("'shape': (40, 3, 32, 32)", header);
        var stored = SafeTensors.Read(Path.Combine(output, "adversarials.safetensors")).Tensors["adversarials"];
        float[] values = new float[40 * 3 * 32 * 32];
        Buffer.BlockCopy(bytes, 10 + headerLength, values, 0, values.Length * sizeof(float));
        Assert.Equal(stored.Values, values);
        // The PNGs are the same images, channels in the same order (R, G, B), to the half level 8 bits round to.
        foreach (string png in pngs)
        {
            int index = int.Parse(Path.GetFileName(png)[..5], System.Globalization.CultureInfo.InvariantCulture);
            float[] decoded = ColourPng.Decode(File.ReadAllBytes(png), 32, 32);
            double largest = decoded.Select((value, at) => Math.Abs(value - values[index * decoded.Length + at])).Max();
            Assert.True(largest <= 0.5 / 255 + 1e-6, $"{png}: differs from the .npy by {largest}");
        }
    }
}
