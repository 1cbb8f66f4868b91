using SkiaSharp;

namespace Intriguing.Attacks.Figures;

/// <summary>
/// One colour image, [3, H, W] in [0,1] (the R, G and B planes one after the other, as the models take it), as an
/// 8-bit RGB PNG and back: each value becomes the byte round(255 p), decoding gives byte / 255. The colour
/// counterpart of <see cref="DigitPng"/>, with the same rounding <see cref="EightBitSurvival"/> applies.
/// </summary>
public static class ColourPng
{
    /// <summary>PNG bytes of <paramref name="pixels"/>, [3, H, W] in [0,1], <paramref name="width"/> x <paramref name="height"/>.</summary>
    /// <exception cref="BadInputException">The pixel count is not 3 x width x height.</exception>
    public static byte[] Encode(ReadOnlySpan<float> pixels, int width, int height)
    {
        int plane = width * height;
        if (width < 1 || height < 1 || pixels.Length != 3 * plane)
        {
            throw new BadInputException($"a {width}x{height} colour image has 3 x {plane} values; got {pixels.Length}");
        }
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var rgba = new byte[4 * plane];
        for (int pixel = 0; pixel < plane; pixel++)
        {
            for (int channel = 0; channel < 3; channel++)
            {
                rgba[4 * pixel + channel] = (byte)Math.Round(Math.Clamp(pixels[channel * plane + pixel], 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
            }
            rgba[4 * pixel + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
        return encoded.ToArray();
    }

    /// <summary>The image's values, [3, H, W] flattened, each byte / 255.</summary>
    public static float[] Decode(byte[] png, int width, int height)
    {
        using var bitmap = SKBitmap.Decode(png)
            ?? throw new BadInputException("not a PNG image SkiaSharp can decode");
        if (bitmap.Width != width || bitmap.Height != height)
        {
            throw new BadInputException($"expected a {width}x{height} image; got {bitmap.Width}x{bitmap.Height}");
        }
        int plane = width * height;
        var pixels = new float[3 * plane];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                var colour = bitmap.GetPixel(x, y);
                int pixel = y * width + x;
                pixels[pixel] = colour.Red / 255f;
                pixels[plane + pixel] = colour.Green / 255f;
                pixels[2 * plane + pixel] = colour.Blue / 255f;
            }
        }
        return pixels;
    }
}
