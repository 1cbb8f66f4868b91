using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Intriguing.IO;
using Intriguing.Tests.Models;

namespace Intriguing.Tests.IO;

/// <summary>
/// The .npy writer: its bytes parse as NumPy's format 1.0 (magic, version, header dict, 64-byte alignment), the values
/// come back, and the bytes equal what numpy.save wrote for the same arrays (tests/fixtures/npy, from
/// make_npy_fixture.py).
/// </summary>
public partial class NpyFileTests
{
    /// <summary>What a reader of the format needs from a file: version, the header dict's fields, the values.</summary>
    private sealed record Parsed(int Major, int Minor, int DataOffset, string Header, string Descr, bool FortranOrder, long[] Shape, float[] Values);

    [GeneratedRegex(@"^\{'descr': '(?<descr>[^']*)', 'fortran_order': (?<fortran>True|False), 'shape': \((?<shape>[0-9, ]*)\), \} *\n$")]
    private static partial Regex HeaderDict();

    /// <summary>Parses a .npy file by the format's specification, independently of the writer.</summary>
    private static Parsed Parse(byte[] bytes)
    {
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' }, bytes[..6]);
        int major = bytes[6], minor = bytes[7];
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        var match = HeaderDict().Match(header);
        Assert.True(match.Success, $"not a NumPy header dict: {header}");
        long[] shape = [.. match.Groups["shape"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse)];
        int offset = 10 + headerLength;
        int count = (bytes.Length - offset) / sizeof(float);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + i * sizeof(float)));
        }
        return new Parsed(major, minor, offset, header, match.Groups["descr"].Value, match.Groups["fortran"].Value == "True", shape, values);
    }

    private static float[] Sevenths(int count) => [.. Enumerable.Range(0, count).Select(i => i / 7f)];

    [Fact]
    public void A_written_batch_parses_as_npy_1_0_with_its_shape_and_values()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string path = Path.Combine(folder, "adversarials.npy");
        var random = new Random(3);
        float[] values = [.. Enumerable.Range(0, 4 * 3 * 5 * 6).Select(_ => (float)random.NextDouble())];
        values[7] = float.Epsilon;
        values[8] = -0f;

        NpyFile.Write(path, values, [4, 3, 5, 6]);
        var parsed = Parse(File.ReadAllBytes(path));

        Assert.Equal((1, 0), (parsed.Major, parsed.Minor));
        Assert.Equal("<f4", parsed.Descr);
        Assert.False(parsed.FortranOrder);
        Assert.Equal(new long[] { 4, 3, 5, 6 }, parsed.Shape);
        Assert.Equal(0, parsed.DataOffset % NpyFile.Alignment);
        Assert.EndsWith("\n", parsed.Header, StringComparison.Ordinal);
        Assert.Equal(values.Length * sizeof(float), File.ReadAllBytes(path).Length - parsed.DataOffset);
        // Bit for bit, the sign of zero and denormals included.
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), parsed.Values.Select(BitConverter.SingleToInt32Bits));
        // Written atomically: nothing but the file is left in the folder.
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));
        Directory.Delete(folder, recursive: true);
    }

    [Theory]
    [InlineData("float32-2x3x2x2.npy", new long[] { 2, 3, 2, 2 })]
    [InlineData("float32-3x10.npy", new long[] { 3, 10 })]
    [InlineData("float32-5.npy", new long[] { 5 })]
    [InlineData("float32-12345x0.npy", new long[] { 12345, 0 })]
    public void The_bytes_equal_what_numpy_save_writes(string file, long[] shape)
    {
        byte[] numpy = File.ReadAllBytes(Path.Combine(ModelExportTests.Fixture("npy"), file));
        int count = (int)shape.Aggregate(1L, (product, size) => product * size);

        byte[] ours = NpyFile.Encode(Sevenths(count), shape);

        Assert.Equal(Encoding.ASCII.GetString(numpy, 10, numpy.Length - 10 - 4 * count), Encoding.ASCII.GetString(ours, 10, ours.Length - 10 - 4 * count));
        Assert.Equal(numpy, ours);
        Assert.Equal(shape, Parse(ours).Shape);
    }

    [Fact]
    public void A_shape_that_does_not_hold_the_values_is_refused()
    {
        var error = Assert.Throws<BadInputException>(() => NpyFile.Encode(new float[5], [2, 3]));
        Assert.Contains("(2, 3) holds 6 values; got 5", error.Message);
        Assert.Throws<BadInputException>(() => NpyFile.Encode([], [-1, 0]));
    }
}
