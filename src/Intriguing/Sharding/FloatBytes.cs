using System.IO.Compression;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Intriguing.Sharding;

/// <summary>
/// float32 tensors as bytes and back, bit for bit: how shard parts carry the values merge must compute with exactly as
/// the shard had them. The floats are little-endian (the product builds for x64 only) and deflated (zlib): pixels and
/// ReLU activations are mostly zeros, so a part is about a third of the raw size, and a JSON byte array is base64, a
/// quarter the size of decimal text.
/// </summary>
internal static class FloatBytes
{
    /// <summary>The values of <paramref name="values"/> (any shape), as float32, in row-major order, deflated.</summary>
    public static byte[] Of(Tensor values)
    {
        using var scope = NewDisposeScope();
        // TorchSharp's accessor cannot copy out an empty tensor.
        float[] floats = values.numel() == 0 ? [] : values.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        using var packed = new MemoryStream();
        using (var zlib = new ZLibStream(packed, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(MemoryMarshal.AsBytes(floats.AsSpan()));
        }
        return packed.ToArray();
    }

    /// <summary>A float32 CPU tensor of <paramref name="shape"/> holding the values <paramref name="bytes"/> (from <see cref="Of"/>) hold.</summary>
    /// <exception cref="BadInputException">Bytes that do not inflate to exactly the shape's values; <paramref name="what"/> names them.</exception>
    public static Tensor ToTensor(byte[] bytes, long[] shape, string what)
    {
        long count = shape.Aggregate(1L, (product, size) => product * size);
        var floats = new float[count];
        var target = MemoryMarshal.AsBytes(floats.AsSpan());
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(bytes), CompressionMode.Decompress);
            zlib.ReadExactly(target);
            if (zlib.ReadByte() != -1)
            {
                throw new BadInputException($"{what}: more values than float32 [{string.Join(", ", shape)}] holds");
            }
        }
        catch (Exception error) when (error is InvalidDataException or EndOfStreamException)
        {
            throw new BadInputException($"{what}: not float32 [{string.Join(", ", shape)}] values ({error.Message})");
        }
        return tensor(floats, shape);
    }
}
