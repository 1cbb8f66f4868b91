using System.Buffers.Binary;
using System.Text;
using Intriguing.Models;

namespace Intriguing.Tests.Models;

public class SafeTensorsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("intriguing-safetensors-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Round_trip_keeps_names_shapes_values_and_metadata()
    {
        string path = Path.Combine(folder, "m.safetensors");
        var weight = new StoredTensor("layer.weight", [2, 3], [1f, -2f, 3.5f, 0f, float.Epsilon, -1e30f]);
        var bias = new StoredTensor("layer.bias", [2], [0.25f, -0.5f]);
        string written = SafeTensors.Write(path, [weight, bias], new Dictionary<string, string> { ["model"] = "fc10-1" });

        var content = SafeTensors.Read(path);

        // The checksum returned for the sidecar is the file's own, and reading computes the same.
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), written);
        Assert.Equal(written, content.Sha256);
        Assert.Equal(weight.Values, content.Tensors["layer.weight"].Values);
        Assert.Equal(weight.Shape, content.Tensors["layer.weight"].Shape);
        Assert.Equal(bias.Values, content.Tensors["layer.bias"].Values);
        Assert.Equal("fc10-1", content.Metadata["model"]);
    }

    [Fact]
    public void Layout_follows_the_safetensors_format()
    {
        string path = Path.Combine(folder, "m.safetensors");
        SafeTensors.Write(path, [new StoredTensor("w", [2], [1f, 2f])]);
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength).TrimEnd();

        Assert.Equal(0, headerLength % 8);
        Assert.Equal("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", header);
        Assert.Equal(8 + headerLength + 8, bytes.Length);
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)headerLength + 4)));
    }

    [Fact]
    public void Truncated_data_names_the_file_and_the_tensor()
    {
        string path = Path.Combine(folder, "m.safetensors");
        SafeTensors.Write(path, [new StoredTensor("w", [4], [1f, 2f, 3f, 4f])]);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]);

        var error = Assert.Throws<BadInputException>(() => SafeTensors.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'w'", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 }, "truncated")]
    [InlineData(new byte[] { 255, 255, 0, 0, 0, 0, 0, 0, (byte)'{' }, "header")]
    public void Truncated_or_impossible_headers_are_refused(byte[] bytes, string expected)
    {
        string path = Path.Combine(folder, "bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<BadInputException>(() => SafeTensors.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("{\"w\":", "not valid JSON")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("{\"w\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", "F16")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 12")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "non-negative")]
    [InlineData("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "dtype, shape and data_offsets")]
    public void Bad_headers_say_what_is_wrong(string header, string expected)
    {
        string path = Path.Combine(folder, "bad.safetensors");
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<BadInputException>(() => SafeTensors.Read(path));
        Assert.Contains(expected, error.Message);
    }
}
