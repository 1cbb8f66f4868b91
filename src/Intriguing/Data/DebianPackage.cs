using System.Formats.Tar;
using System.IO.Compression;
using SharpCompress.Compressors.Xz;

namespace Intriguing.Data;

/// <summary>
/// Reads the files a Debian package (<c>.deb</c>) would install, without installing it: a .deb is an
/// <see cref="ArArchive"/> of <c>debian-binary</c>, <c>control.tar.*</c> and <c>data.tar.*</c>, the last a tar
/// archive compressed with xz, zstd or gzip (or none), decompressed here in managed code. Nothing in the package runs.
/// </summary>
public static class DebianPackage
{
    /// <summary>
    /// The files directly in <paramref name="folderInside"/> (e.g. <c>usr/share/datasets/fashion-mnist</c>) whose name,
    /// less a <c>.gz</c> ending, is one of <paramref name="names"/>: the bare name mapped to the bytes as stored
    /// (still gzipped when the package gzips them).
    /// </summary>
    /// <exception cref="InvalidDataException">Not a .deb, no data.tar member, a truncated or corrupt archive; the file named.</exception>
    public static Dictionary<string, byte[]> ReadFiles(string debPath, string folderInside, IReadOnlySet<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        string wantedFolder = folderInside.Trim('/');
        using var archive = File.OpenRead(debPath);
        var members = ArArchive.List(archive, debPath);
        var data = members.FirstOrDefault(member => member.Name.StartsWith("data.tar", StringComparison.Ordinal))
            ?? throw new InvalidDataException($"{debPath}: no data.tar member (found {string.Join(", ", members.Select(member => member.Name))})");
        var contents = new Dictionary<string, byte[]>();
        using var tarStream = Decompress(new MemoryStream(ArArchive.Read(archive, data)), data.Name, debPath);
        try
        {
            using var reader = new TarReader(tarStream);
            while (reader.GetNextEntry() is { } entry)
            {
                string entryName = entry.Name.Replace('\\', '/');
                entryName = entryName.StartsWith("./", StringComparison.Ordinal) ? entryName[2..] : entryName.TrimStart('/');
                string parent = (Path.GetDirectoryName(entryName) ?? "").Replace('\\', '/');
                string fileName = Path.GetFileName(entryName);
                string bare = fileName.EndsWith(".gz", StringComparison.Ordinal) ? fileName[..^3] : fileName;
                if (entry.DataStream is null || parent != wantedFolder || !names.Contains(bare))
                {
                    continue;
                }
                using var buffer = new MemoryStream();
                entry.DataStream.CopyTo(buffer);
                contents[bare] = buffer.ToArray();
            }
        }
        // The decompressors and the tar reader throw their own kinds of error on bad data: each is named here as the package's fault.
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{debPath}: {data.Name} is truncated or corrupt ({error.Message})", error);
        }
        return contents;
    }

    /// <summary>A decompressing stream chosen by the member's ending: .xz, .zst, .gz, or a plain .tar.</summary>
    private static Stream Decompress(Stream compressed, string memberName, string debPath) => Path.GetExtension(memberName) switch
    {
        ".xz" => new XZStream(compressed),
        ".zst" => new SharpCompress.Compressors.ZStandard.DecompressionStream(compressed),
        ".gz" => new GZipStream(compressed, CompressionMode.Decompress),
        ".tar" => compressed,
        _ => throw new InvalidDataException($"{debPath}: {memberName} is compressed in a way this reader does not know (expected .xz, .zst, .gz or plain .tar)"),
    };
}
