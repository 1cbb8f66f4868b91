using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Intriguing.IO;

namespace Intriguing.Models;

/// <summary>A float32 tensor as stored in a safetensors file: its name, shape and values (row-major).</summary>
public sealed record StoredTensor(string Name, long[] Shape, float[] Values);

/// <summary>
/// The tensors and the string metadata of one safetensors file, and the SHA-256 of the bytes they were read from
/// (lower-case hex; empty for content that was not read from a file).
/// </summary>
public sealed record SafeTensorsContent(IReadOnlyDictionary<string, StoredTensor> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The SHA-256 of the bytes read, lower-case hex; empty when not read from a file.</summary>
    public string Sha256 { get; init; } = "";
}

/// <summary>
/// The safetensors format (huggingface/safetensors), float32 only, written and read here without a dependency:
/// an 8-byte little-endian header length N, N bytes of JSON header
/// <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}</c>
/// (padded with spaces to a multiple of 8), then the raw little-endian data, offsets relative to its start.
/// Reading checks everything a truncated or corrupted file could get wrong and names the file and the tensor.
/// </summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>
    /// Writes the tensors (in the given order) and metadata to <paramref name="path"/> atomically and returns the
    /// SHA-256 of the bytes written (lower-case hex), for a sidecar to keep.
    /// </summary>
    public static string Write(string path, IEnumerable<StoredTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 })
        {
            header[MetadataKey] = metadata;
        }
        long offset = 0;
        foreach (var stored in list)
        {
            long bytes = checked(stored.Values.LongLength * sizeof(float));
            if (ElementCount(stored.Shape) != stored.Values.LongLength)
            {
                throw new ArgumentException($"tensor '{stored.Name}' has {stored.Values.Length} values but shape [{string.Join(", ", stored.Shape)}]");
            }
            header[stored.Name] = new Dictionary<string, object>
            {
                ["dtype"] = "F32",
                ["shape"] = stored.Shape,
                ["data_offsets"] = new[] { offset, offset + bytes },
            };
            offset += bytes;
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        json.CopyTo(headerBytes, 0);
        headerBytes.AsSpan(json.Length).Fill((byte)' ');

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AtomicFile.Write(path, stream =>
        {
            void Put(ReadOnlySpan<byte> bytes)
            {
                stream.Write(bytes);
                hash.AppendData(bytes);
            }
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            Put(length);
            Put(headerBytes);
            foreach (var stored in list)
            {
                Put(LittleEndianBytes(stored.Values));
            }
        });
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Reads and validates a whole file; every problem is a <see cref="BadInputException"/> naming the file.</summary>
    public static SafeTensorsContent Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"{path}: model file not found");
        }
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8)
        {
            throw new BadInputException($"{path}: truncated: {file.Length} bytes, shorter than the 8-byte safetensors header length");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes || (long)headerLength > file.Length - 8)
        {
            throw new BadInputException($"{path}: bad or truncated safetensors header: it claims {headerLength} header bytes but the file has {file.Length - 8} after the length");
        }
        var dataStart = 8 + (int)headerLength;
        long dataLength = file.Length - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        }
        catch (JsonException error)
        {
            throw new BadInputException($"{path}: the safetensors header is not valid JSON ({error.Message})", error);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new BadInputException($"{path}: the safetensors header must be a JSON object");
            }
            var tensors = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == MetadataKey)
                {
                    ReadMetadata(path, entry.Value, metadata);
                    continue;
                }
                tensors[entry.Name] = ReadTensor(path, entry, file, dataStart, dataLength);
            }
            return new SafeTensorsContent(tensors, metadata) { Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)) };
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new BadInputException($"{path}: {MetadataKey} must be an object of strings");
        }
        foreach (var item in value.EnumerateObject())
        {
            metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String
                ? item.Value.GetString()!
                : throw new BadInputException($"{path}: {MetadataKey}.{item.Name} must be a string");
        }
    }

    private static StoredTensor ReadTensor(string path, JsonProperty entry, byte[] file, int dataStart, long dataLength)
    {
        string where = $"{path}: tensor '{entry.Name}'";
        var value = entry.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtype)
            || !value.TryGetProperty("shape", out var shapeElement)
            || !value.TryGetProperty("data_offsets", out var offsets))
        {
            throw new BadInputException($"{where}: expected an object with dtype, shape and data_offsets");
        }
        if (dtype.ValueKind != JsonValueKind.String || dtype.GetString() != "F32")
        {
            throw new BadInputException($"{where}: dtype {dtype.GetRawText()}, expected \"F32\" (float32)");
        }
        long[] shape = ReadIntegers(where, "shape", shapeElement);
        long[] range = ReadIntegers(where, "data_offsets", offsets);
        if (range.Length != 2 || range[0] > range[1])
        {
            throw new BadInputException($"{where}: data_offsets must be [begin, end] with begin <= end");
        }
        long elements = ElementCount(shape);
        if (range[1] - range[0] != elements * sizeof(float))
        {
            throw new BadInputException($"{where}: data_offsets span {range[1] - range[0]} bytes but shape [{string.Join(", ", shape)}] needs {elements * sizeof(float)}");
        }
        if (range[1] > dataLength)
        {
            throw new BadInputException($"{where}: truncated file: its data ends at byte {range[1]} but the data section has {dataLength} bytes");
        }
        var values = new float[elements];
        var bytes = file.AsSpan(dataStart + (int)range[0], (int)(range[1] - range[0]));
        if (BitConverter.IsLittleEndian)
        {
            bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float)));
            }
        }
        return new StoredTensor(entry.Name, shape, values);
    }

    private static long[] ReadIntegers(string where, string field, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new BadInputException($"{where}: {field} must be an array of non-negative integers");
        }
        var result = new List<long>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long number) || number < 0)
            {
                throw new BadInputException($"{where}: {field} must be an array of non-negative integers; found {item.GetRawText()}");
            }
            result.Add(number);
        }
        return result.ToArray();
    }

    private static long ElementCount(long[] shape) => shape.Aggregate(1L, (product, size) => checked(product * size));

    private static byte[] LittleEndianBytes(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes);
        }
        else
        {
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
            }
        }
        return bytes;
    }
}
