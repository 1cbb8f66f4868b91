using SkiaSharp;

namespace Intriguing.Attacks.Figures;

/// <summary>
/// One grey image (28x28 for MNIST, any width and height) as an 8-bit grayscale PNG and back. Pixels in [0,1] become
/// bytes round(255 p); decoding gives byte / 255. This is the round trip a saved adversarial example goes through;
/// <see cref="EightBitSurvival"/> applies the same rounding.
/// </summary>
public static class DigitPng
{
    /// <summary>MNIST's side in pixels, 28: the default width and height.</summary>
    public const int Side = 28;

    /// <summary>
    /// <paramref name="pixels"/> (row-major, width x height values, clamped to [0,1]) as an 8-bit grayscale PNG.
    /// </summary>
    /// <exception cref="BadInputException">The pixel count is not <paramref name="width"/> x <paramref name="height"/>, or a side is below 1.</exception>
    public static byte[] Encode(ReadOnlySpan<float> pixels, int width = Side, int height = Side)
    {
        if (width < 1 || height < 1 || pixels.Length != width * height)
        {
            throw new BadInputException($"a {width}x{height} grey image has {width * height} pixels; got {pixels.Length}");
        }
        var info = new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var bytes = new byte[width * height];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)Math.Round(Math.Clamp(pixels[i], 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
        return encoded.ToArray();
    }

    /// <summary>The pixels of an 8-bit grey PNG, row-major, byte / 255 in [0,1].</summary>
    /// <exception cref="BadInputException">Not a PNG SkiaSharp can decode, or not <paramref name="width"/> x <paramref name="height"/>.</exception>
    public static float[] Decode(byte[] png, int width = Side, int height = Side)
    {
        using var bitmap = SKBitmap.Decode(png)
            ?? throw new BadInputException("not a PNG image SkiaSharp can decode");
        if (bitmap.Width != width || bitmap.Height != height)
        {
            throw new BadInputException($"expected a {width}x{height} image; got {bitmap.Width}x{bitmap.Height}");
        }
        var pixels = new float[width * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                pixels[y * width + x] = bitmap.GetPixel(x, y).Red / 255f;
            }
        }
        return pixels;
    }
}
