using System.Buffers.Binary;

namespace Intriguing.Data;

/// <summary>
/// Reads the IDX format of LeCun's MNIST files (and Fashion-MNIST, which copies it): a big-endian header of
/// magic number (0x00000803 for images, 0x00000801 for labels), the item count and, for images, rows and columns;
/// then one unsigned byte per pixel or label. Everything is checked, and a bad file is named with what is wrong.
/// </summary>
public static class IdxReader
{
    /// <summary>The magic number of an IDX image file (unsigned bytes, 3 dimensions).</summary>
    public const int ImagesMagic = 0x00000803;
    /// <summary>The magic number of an IDX label file (unsigned bytes, 1 dimension).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Images as bytes [count * rows * cols], row by row.</summary>
    public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);

    /// <summary>
    /// Reads the image file at <paramref name="path"/>: <paramref name="expectedCount"/> images if given, each
    /// <paramref name="expectedRows"/> x <paramref name="expectedColumns"/> (default 28 x 28).
    /// </summary>
    /// <exception cref="BadInputException">No such file, a wrong magic, size or count, or a truncated file, naming it.</exception>
    public static IdxImages ReadImages(string path, int? expectedCount = null, int expectedRows = 28, int expectedColumns = 28) =>
        ParseImages(ReadFile(path), path, expectedCount, expectedRows, expectedColumns);

    /// <summary>
    /// Reads the label file at <paramref name="path"/>: <paramref name="expectedCount"/> labels if given, each below
    /// <paramref name="classCount"/> (default 10).
    /// </summary>
    /// <exception cref="BadInputException">No such file, a wrong magic or count, a truncated file or a label out of range, naming it.</exception>
    public static byte[] ReadLabels(string path, int? expectedCount = null, int classCount = 10) =>
        ParseLabels(ReadFile(path), path, expectedCount, classCount);

    /// <summary>Parses an image file's bytes; <paramref name="name"/> names it in messages. See <see cref="ReadImages"/>.</summary>
    /// <exception cref="BadInputException">A wrong magic, size or count, or a truncated file.</exception>
    public static IdxImages ParseImages(byte[] file, string name, int? expectedCount = null, int expectedRows = 28, int expectedColumns = 28)
    {
        RequireLength(file, 16, name, "an image header of 16 bytes");
        RequireMagic(file, name, ImagesMagic, "an IDX image file", LabelsMagic, "a label file");
        int count = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(8));
        int columns = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(12));
        if (rows != expectedRows || columns != expectedColumns)
        {
            throw new BadInputException($"{name}: images are {rows}x{columns}, expected {expectedRows}x{expectedColumns}");
        }
        CheckCount(count, expectedCount, name);
        long expectedLength = 16L + (long)count * rows * columns;
        if (file.LongLength != expectedLength)
        {
            throw new BadInputException(
                $"{name}: {file.LongLength} bytes, but a header of {count} images of {rows}x{columns} needs {expectedLength} " +
                (file.LongLength < expectedLength ? "(the file is truncated)" : "(the file has trailing bytes)"));
        }
        return new IdxImages(count, rows, columns, file.AsSpan(16).ToArray());
    }

    /// <summary>Parses a label file's bytes; <paramref name="name"/> names it in messages. See <see cref="ReadLabels"/>.</summary>
    /// <exception cref="BadInputException">A wrong magic or count, a truncated file or a label out of range.</exception>
    public static byte[] ParseLabels(byte[] file, string name, int? expectedCount = null, int classCount = 10)
    {
        RequireLength(file, 8, name, "a label header of 8 bytes");
        RequireMagic(file, name, LabelsMagic, "an IDX label file", ImagesMagic, "an image file");
        int count = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(4));
        CheckCount(count, expectedCount, name);
        long expectedLength = 8L + count;
        if (file.LongLength != expectedLength)
        {
            throw new BadInputException(
                $"{name}: {file.LongLength} bytes, but a header of {count} labels needs {expectedLength} " +
                (file.LongLength < expectedLength ? "(the file is truncated)" : "(the file has trailing bytes)"));
        }
        byte[] labels = file.AsSpan(8).ToArray();
        int bad = Array.FindIndex(labels, label => label >= classCount);
        if (bad >= 0)
        {
            throw new BadInputException($"{name}: label {labels[bad]} at index {bad} is outside 0..{classCount - 1}");
        }
        return labels;
    }

    private static byte[] ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new BadInputException($"{path}: no such file");
        }
        return File.ReadAllBytes(path);
    }

    /// <summary>The file's first four bytes must be <paramref name="magic"/>; the other kind's magic is named as such.</summary>
    private static void RequireMagic(byte[] file, string name, int magic, string kind, int otherMagic, string otherKind)
    {
        int found = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(0));
        if (found != magic)
        {
            throw new BadInputException(
                $"{name}: magic number 0x{found:x8} is not that of {kind} (0x{magic:x8})" +
                (found == otherMagic ? $"; this looks like {otherKind}" : ""));
        }
    }

    private static void RequireLength(byte[] file, int length, string name, string what)
    {
        if (file.Length < length)
        {
            throw new BadInputException($"{name}: {file.Length} bytes is too short for {what} (the file is truncated or empty)");
        }
    }

    private static void CheckCount(int count, int? expectedCount, string name)
    {
        if (count < 0)
        {
            throw new BadInputException($"{name}: negative item count {count} in the header");
        }
        if (expectedCount is int expected && count != expected)
        {
            throw new BadInputException($"{name}: header says {count} items, expected {expected}");
        }
    }
}
