using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Intriguing.IO;

/// <summary>
/// Float32 arrays as NumPy <c>.npy</c> files (format version 1.0, what <c>numpy.save</c> writes): the magic
/// <c>\x93NUMPY</c>, version 1.0, the header's length (uint16, little-endian), then the header, a Python dict literal
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (N, C, H, W), }</c> padded with spaces and ended by a newline
/// so that the data starts on a multiple of 64 bytes, then the values, little-endian, in C (row-major) order.
/// <c>numpy.load(path)</c> reads it back.
/// </summary>
public static class NpyFile
{
    /// <summary>The data starts on a multiple of this many bytes, as NumPy aligns it.</summary>
    public const int Alignment = 64;

    /// <summary>NumPy leaves room in the header for the first size to grow to this many digits (appending rows in place).</summary>
    private const int GrowthDigits = 21;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes <paramref name="values"/> as a float32 array of <paramref name="shape"/> to <paramref name="path"/>, atomically (<see cref="AtomicFile"/>).</summary>
    /// <exception cref="BadInputException">A negative size, or a shape whose product is not the number of values.</exception>
    public static void Write(string path, ReadOnlyMemory<float> values, IReadOnlyList<long> shape)
    {
        byte[] header = Header(shape, values.Length);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            WriteValues(stream, values.Span);
        });
    }

    /// <summary>The whole file's bytes, as <see cref="Write"/> writes them.</summary>
    public static byte[] Encode(ReadOnlySpan<float> values, IReadOnlyList<long> shape)
    {
        byte[] header = Header(shape, values.Length);
        using var stream = new MemoryStream(header.Length + values.Length * sizeof(float));
        stream.Write(header);
        WriteValues(stream, values);
        return stream.ToArray();
    }

    /// <summary>Magic, version, header length and the padded header: everything before the values.</summary>
    private static byte[] Header(IReadOnlyList<long> shape, int valueCount)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(size => size < 0))
        {
            throw new BadInputException($".npy shape ({string.Join(", ", shape)}): sizes must be >= 0");
        }
        long expected = shape.Aggregate(1L, (product, size) => product * size);
        if (expected != valueCount)
        {
            throw new BadInputException($".npy shape ({string.Join(", ", shape)}) holds {expected} values; got {valueCount}");
        }
        // Python's repr of a tuple: "()" for a scalar, "(5,)" for one size, "(2, 3)" for more.
        string sizes = string.Join(", ", shape.Select(size => size.ToString(CultureInfo.InvariantCulture)));
        string tuple = shape.Count == 1 ? $"({sizes},)" : $"({sizes})";
        string dictionary = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}";
        // As numpy.lib.format writes it, byte for byte: room for the first size to grow to 21 digits, then spaces and
        // a newline up to the next multiple of 64 bytes (a whole 64 more when it already ends on one).
        if (shape.Count > 0)
        {
            dictionary += new string(' ', Math.Max(0, GrowthDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length));
        }
        int prefix = Magic.Length + 2 + sizeof(ushort);
        int unpadded = prefix + dictionary.Length + 1;
        string text = dictionary + new string(' ', Alignment - unpadded % Alignment) + "\n";
        var header = new byte[prefix + text.Length];
        Magic.CopyTo(header);
        header[Magic.Length] = 1;
        header[Magic.Length + 1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(Magic.Length + 2), checked((ushort)text.Length));
        Encoding.ASCII.GetBytes(text, header.AsSpan(prefix));
        return header;
    }

    private static void WriteValues(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        var buffer = new byte[sizeof(float) * Math.Min(values.Length, 1 << 14)];
        for (int start = 0; start < values.Length; start += buffer.Length / sizeof(float))
        {
            int count = Math.Min(buffer.Length / sizeof(float), values.Length - start);
            for (int i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * sizeof(float)), values[start + i]);
            }
            stream.Write(buffer, 0, count * sizeof(float));
        }
    }
}
