using SkiaSharp;

namespace Intriguing.Attacks.Figures;

/// <summary>
/// One 28x28 image as an 8-bit grayscale PNG and back. Pixels in [0,1] become bytes round(255 p); decoding gives
/// byte / 255. This is the real round trip a saved adversarial example goes through, so it is also how the
/// 8-bit survival rate is measured (<see cref="EightBitSurvival"/>).
/// </summary>
public static class DigitPng
{
    public const int Side = 28;

    public static byte[] Encode(ReadOnlySpan<float> pixels)
    {
        if (pixels.Length != Side * Side)
        {
            throw new BadInputException($"a digit image has {Side * Side} pixels; got {pixels.Length}");
        }
        var info = new SKImageInfo(Side, Side, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var bytes = new byte[Side * Side];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)Math.Round(Math.Clamp(pixels[i], 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
        return encoded.ToArray();
    }

    public static float[] Decode(byte[] png)
    {
        using var bitmap = SKBitmap.Decode(png)
            ?? throw new BadInputException("not a PNG image SkiaSharp can decode");
        if (bitmap.Width != Side || bitmap.Height != Side)
        {
            throw new BadInputException($"expected a {Side}x{Side} image; got {bitmap.Width}x{bitmap.Height}");
        }
        var pixels = new float[Side * Side];
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                pixels[y * Side + x] = bitmap.GetPixel(x, y).Red / 255f;
            }
        }
        return pixels;
    }
}
