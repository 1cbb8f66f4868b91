using System.Globalization;
using System.Text;

namespace Intriguing.Data;

/// <summary>One member of an <c>ar</c> archive: its name and where its bytes lie in the archive.</summary>
public sealed record ArMember(string Name, long Offset, long Length);

/// <summary>
/// Reads the Unix <c>ar</c> archive format that Debian packages (<c>.deb</c>) use: the global header
/// <c>!&lt;arch&gt;\n</c>, then per member a 60-byte ASCII header (name 16, mtime 12, uid 6, gid 6, mode 8, size 10,
/// the terminator <c>`\n</c>) and its bytes, padded to an even offset. GNU names ending in <c>/</c> are trimmed;
/// the symbol table and long-name tables of other ar dialects are not needed for .deb files and are listed as they are.
/// Every header is checked: a truncated or corrupt archive is an <see cref="InvalidDataException"/> naming the archive.
/// </summary>
public static class ArArchive
{
    /// <summary>The 8 bytes every ar archive starts with.</summary>
    public static ReadOnlySpan<byte> GlobalHeader => "!<arch>\n"u8;

    /// <summary>Bytes in each member's header.</summary>
    public const int MemberHeaderLength = 60;

    /// <summary>The members of the archive in <paramref name="archive"/> (a seekable stream), in order.</summary>
    /// <param name="name">How the archive is named in messages (its path).</param>
    /// <param name="archive">The archive's bytes, a seekable stream; read from its start.</param>
    /// <exception cref="InvalidDataException">Not an ar archive, or a header truncated or corrupt.</exception>
    public static IReadOnlyList<ArMember> List(Stream archive, string name)
    {
        ArgumentNullException.ThrowIfNull(archive);
        if (!archive.CanSeek)
        {
            throw new ArgumentException("the archive stream must be seekable", nameof(archive));
        }
        archive.Position = 0;
        var start = new byte[GlobalHeader.Length];
        if (archive.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) != start.Length || !start.AsSpan().SequenceEqual(GlobalHeader))
        {
            throw new InvalidDataException($"{name}: not an ar archive (a .deb starts with \"!<arch>\\n\")");
        }
        var members = new List<ArMember>();
        var header = new byte[MemberHeaderLength];
        long position = GlobalHeader.Length;
        while (position < archive.Length)
        {
            archive.Position = position;
            int read = archive.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (read == 1 && header[0] == (byte)'\n')
            {
                break; // a final padding byte
            }
            if (read != header.Length)
            {
                throw new InvalidDataException($"{name}: truncated: member header {members.Count + 1} at byte {position} has {read} of {MemberHeaderLength} bytes");
            }
            if (header[58] != (byte)'`' || header[59] != (byte)'\n')
            {
                throw new InvalidDataException($"{name}: corrupt: member header {members.Count + 1} at byte {position} does not end with \"`\\n\"");
            }
            string memberName = Encoding.ASCII.GetString(header, 0, 16).TrimEnd(' ');
            if (memberName.Length > 1 && memberName.EndsWith('/'))
            {
                memberName = memberName[..^1];
            }
            string sizeText = Encoding.ASCII.GetString(header, 48, 10).Trim(' ');
            if (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out long length))
            {
                throw new InvalidDataException($"{name}: corrupt: member '{memberName}' has size field \"{sizeText}\", expected a decimal number");
            }
            long offset = position + MemberHeaderLength;
            if (offset + length > archive.Length)
            {
                throw new InvalidDataException($"{name}: truncated: member '{memberName}' needs {length} bytes but only {archive.Length - offset} remain");
            }
            members.Add(new ArMember(memberName, offset, length));
            position = offset + length + (length % 2);
        }
        return members;
    }

    /// <summary>The bytes of <paramref name="member"/> (from <see cref="List"/> on the same stream).</summary>
    public static byte[] Read(Stream archive, ArMember member)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(member);
        var bytes = new byte[member.Length];
        archive.Position = member.Offset;
        archive.ReadExactly(bytes);
        return bytes;
    }
}
