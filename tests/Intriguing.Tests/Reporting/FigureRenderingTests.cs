using Intriguing.Reporting;
using SkiaSharp;

namespace Intriguing.Tests.Reporting;

public class FigureRenderingTests
{
    private static float[] Digit(float background, float topLeft)
    {
        float[] pixels = Enumerable.Repeat(background, 784).ToArray();
        pixels[0] = topLeft;
        return pixels;
    }

    [Fact]
    public void ImageGrid_scales_each_pixel_to_a_crisp_block()
    {
        var options = new ImageGridOptions(Scale: 3, Gap: 4, Margin: 6);
        ImageGridRow[] rows =
        [
            new(null, [Digit(0f, 1f), Digit(0f, 0f), Digit(0.5f, 0.5f)]),
            new(null, [Digit(1f, 0f)]),
        ];

        using SKBitmap decoded = SKBitmap.Decode(ImageGrid.Render(rows, options));

        Assert.Equal(6 * 2 + 3 * 84 + 2 * 4, decoded.Width);
        Assert.Equal(6 * 2 + 2 * 84 + 4, decoded.Height);
        // First image: a white 3x3 block at its top-left pixel, black right after it.
        Assert.Equal(SKColors.White, decoded.GetPixel(6, 6));
        Assert.Equal(SKColors.White, decoded.GetPixel(8, 8));
        Assert.Equal(SKColors.Black, decoded.GetPixel(9, 6));
        // Third image: mid grey (0.5 -> 128).
        Assert.Equal(new SKColor(128, 128, 128), decoded.GetPixel(6 + 2 * (84 + 4) + 40, 6 + 40));
        // Second row: black top-left block on white.
        Assert.Equal(SKColors.Black, decoded.GetPixel(6, 6 + 84 + 4));
        Assert.Equal(SKColors.White, decoded.GetPixel(6 + 3, 6 + 84 + 4));
    }

    [Fact]
    public void ImageGrid_draws_colour_images_in_rgb_and_grey_images_in_grey()
    {
        // One 2x2 image as its R, G and B planes: red, green / blue, white.
        float[] colour = [1f, 0f, 0f, 1f, 0f, 1f, 0f, 1f, 0f, 0f, 1f, 1f];
        var options = new ImageGridOptions(ImageWidth: 2, ImageHeight: 2, Scale: 1, Gap: 0, Margin: 0, Channels: 3);

        using SKBitmap coloured = SKBitmap.Decode(ImageGrid.Render([new ImageGridRow(null, [colour])], options));
        using SKBitmap grey = SKBitmap.Decode(ImageGrid.Render([new ImageGridRow(null, [[0.2f, 0.4f, 0.6f, 0.8f]])], options with { Channels = 1 }));

        Assert.Equal(new SKColor(255, 0, 0), coloured.GetPixel(0, 0));
        Assert.Equal(new SKColor(0, 255, 0), coloured.GetPixel(1, 0));
        Assert.Equal(new SKColor(0, 0, 255), coloured.GetPixel(0, 1));
        Assert.Equal(SKColors.White, coloured.GetPixel(1, 1));
        Assert.Equal(new SKColor(51, 51, 51), grey.GetPixel(0, 0));
        Assert.Equal(new SKColor(204, 204, 204), grey.GetPixel(1, 1));
        Assert.Throws<BadInputException>(() => ImageGrid.Render([new ImageGridRow(null, [[0.2f, 0.4f, 0.6f, 0.8f]])], options));
        Assert.Throws<BadInputException>(() => ImageGrid.Render([new ImageGridRow(null, [colour])], options with { Channels = 2 }));
    }

    [Fact]
    public void ImageGrid_draws_row_labels_and_captions_as_visible_text()
    {
        var options = new ImageGridOptions(Margin: 6);
        ImageGridRow[] rows = [new("adversarial", [Digit(0f, 0f)], ["pred 3"])];

        using SKBitmap decoded = SKBitmap.Decode(ImageGrid.Render(rows, options));

        int imageLeft = decoded.Width - 6 - 84;
        Assert.True(imageLeft > 40, $"the label column should take room, image starts at x={imageLeft}");
        Assert.True(CountDarkPixels(decoded, 0, imageLeft, 0, decoded.Height) > 20, "row label text is missing (no font?)");
        Assert.True(CountDarkPixels(decoded, imageLeft, decoded.Width, 6 + 84, decoded.Height) > 10, "caption text is missing (no font?)");
    }

    [Fact]
    public void ImageGrid_refuses_pixels_outside_the_unit_interval_and_wrong_sizes()
    {
        var tooBright = Assert.Throws<BadInputException>(() => ImageGrid.Render([new ImageGridRow("r", [Digit(0f, 1.5f)])]));
        Assert.Contains("pixel 0 is 1.5", tooBright.Message);
        Assert.Throws<BadInputException>(() => ImageGrid.Render([new ImageGridRow("r", [Digit(0f, float.NaN)])]));
        Assert.Throws<BadInputException>(() => ImageGrid.Render([new ImageGridRow("r", [new float[783]])]));
        Assert.Throws<BadInputException>(() => ImageGrid.Render([new ImageGridRow("r", [Digit(0f, 0f)], ["a", "b"])]));
        Assert.Throws<BadInputException>(() => ImageGrid.Render([]));
    }

    [Fact]
    public void MagnifiedDifference_centres_on_grey_and_clips()
    {
        float[] difference = ImageGrid.MagnifiedDifference([0.2f, 0.5f, 0.5f, 0.9f], [0.2f, 0.52f, 0.48f, 0.1f], magnification: 10f);

        Assert.Equal([0.5f, 0.7f, 0.3f, 0f], difference.Select(value => MathF.Round(value, 4)).ToArray());
    }

    [Fact]
    public void SplitRows_cuts_a_flat_buffer_into_images()
    {
        float[] flat = Enumerable.Range(0, 6).Select(value => (float)value).ToArray();

        IReadOnlyList<float[]> images = ImageGrid.SplitRows(flat, pixelsPerImage: 3);

        Assert.Equal([[0f, 1f, 2f], [3f, 4f, 5f]], images);
        Assert.Throws<BadInputException>(() => ImageGrid.SplitRows(flat, pixelsPerImage: 4));
    }

    [Fact]
    public void Bar_chart_is_a_png_of_the_asked_size_in_the_report_colours()
    {
        ComparisonBar[] groups =
        [
            new("FC10(1e-4)", 7.1, 7.4),
            new("FC100-100-10", 1.71, 1.64),
            new("AE400-10", 2.0, null),
        ];

        using SKBitmap decoded = SKBitmap.Decode(BarCharts.OursVsPaper("Test error", "test error (%)", groups, width: 640, height: 360));

        Assert.Equal(640, decoded.Width);
        Assert.Equal(360, decoded.Height);
        Assert.True(CountPixels(decoded, new SKColor(0x1d, 0x4e, 0xd8)) > 500, "our bars (blue) are missing");
        Assert.True(CountPixels(decoded, new SKColor(0x9c, 0xa3, 0xaf)) > 500, "the paper's bars (grey) are missing");
    }

    [Fact]
    public void Bar_chart_draws_its_title_text()
    {
        ComparisonBar[] groups = [new("a", 1, 2)];

        using SKBitmap withTitle = SKBitmap.Decode(BarCharts.OursVsPaper("A long title for the chart", "y", groups, width: 400, height: 300));
        using SKBitmap withoutTitle = SKBitmap.Decode(BarCharts.OursVsPaper("", "y", groups, width: 400, height: 300));

        // Text that rendered leaves dark pixels the untitled chart does not have.
        Assert.True(CountDarkPixels(withTitle, 0, 400, 0, 300) > CountDarkPixels(withoutTitle, 0, 400, 0, 300) + 50);
    }

    [Fact]
    public void Bar_chart_refuses_bad_values()
    {
        Assert.Throws<BadInputException>(() => BarCharts.OursVsPaper("t", "y", []));
        Assert.Throws<BadInputException>(() => BarCharts.OursVsPaper("t", "y", [new ComparisonBar("a", -1, 1)]));
        Assert.Throws<BadInputException>(() => BarCharts.OursVsPaper("t", "y", [new ComparisonBar("a", 1, double.PositiveInfinity)]));
    }

    private static int CountPixels(SKBitmap bitmap, SKColor color)
    {
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                SKColor pixel = bitmap.GetPixel(x, y);
                if (pixel.Red == color.Red && pixel.Green == color.Green && pixel.Blue == color.Blue)
                {
                    count++;
                }
            }
        }
        return count;
    }

    private static int CountDarkPixels(SKBitmap bitmap, int left, int right, int top, int bottom)
    {
        int count = 0;
        for (int y = top; y < bottom; y++)
        {
            for (int x = left; x < right; x++)
            {
                SKColor pixel = bitmap.GetPixel(x, y);
                if (pixel.Red + pixel.Green + pixel.Blue < 300)
                {
                    count++;
                }
            }
        }
        return count;
    }
}
