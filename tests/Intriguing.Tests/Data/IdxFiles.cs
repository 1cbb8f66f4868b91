using System.Buffers.Binary;

namespace Intriguing.Tests.Data;

/// <summary>Writes small IDX files for tests: good ones, and ones broken in a chosen way.</summary>
internal static class IdxFiles
{
    public static byte[] Images(int count, int rows = 28, int columns = 28, int magic = 0x803, int? headerCount = null, Func<int, byte>? pixel = null)
    {
        var bytes = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), headerCount ?? count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        for (int i = 16; i < bytes.Length; i++)
        {
            bytes[i] = pixel?.Invoke(i - 16) ?? (byte)((i * 7) % 256);
        }
        return bytes;
    }

    public static byte[] Labels(byte[] labels, int magic = 0x801, int? headerCount = null)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), headerCount ?? labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Labels(int count) => Labels(Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray());

    public static string TemporaryFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "intriguing-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }
}
