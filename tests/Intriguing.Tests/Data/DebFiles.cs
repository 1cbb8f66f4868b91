using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Intriguing.Tests.Data;

/// <summary>Builds small ar archives and .deb-like packages in memory, as <c>apt-get download</c> would leave them.</summary>
internal static class DebFiles
{
    /// <summary>An ar archive of the given members (each header 60 bytes, bodies padded to an even length).</summary>
    public static byte[] Ar(params (string Name, byte[] Body)[] members)
    {
        using var output = new MemoryStream();
        output.Write("!<arch>\n"u8);
        foreach (var (name, body) in members)
        {
            string header = $"{name + "/",-16}{"1591347900",-12}{"0",-6}{"0",-6}{"100644",-8}{body.Length,-10}`\n";
            output.Write(Encoding.ASCII.GetBytes(header));
            output.Write(body);
            if (body.Length % 2 == 1)
            {
                output.WriteByte((byte)'\n');
            }
        }
        return output.ToArray();
    }

    /// <summary>A gzipped tar holding <paramref name="files"/> (path inside, bytes), with "./" paths as dpkg-deb writes them.</summary>
    public static byte[] GzippedTar(IEnumerable<(string Path, byte[] Body)> files)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu))
        {
            foreach (var (path, body) in files)
            {
                tar.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "./" + path) { DataStream = new MemoryStream(body) });
            }
        }
        return output.ToArray();
    }

    /// <summary>A .deb: debian-binary, a control.tar.gz, and <paramref name="dataMember"/> holding <paramref name="data"/>.</summary>
    public static byte[] Deb(byte[] data, string dataMember = "data.tar.gz") => Ar(
        ("debian-binary", "2.0\n"u8.ToArray()),
        ("control.tar.gz", GzippedTar([("control", "Package: dataset-tiny\n"u8.ToArray())])),
        (dataMember, data));

    public static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(body);
        }
        return output.ToArray();
    }

    /// <summary>A tar of one file, ./usr/share/x/hello = "hello\n", compressed by xz 5.4 (made once with `xz -9e`).</summary>
    public static byte[] HelloTarXz { get; } = Convert.FromBase64String(
        "/Td6WFoAAATm1rRGAgAhARwAAAAQz1jM4Cf/AHVdABcLyyeJ8u037UHTqbAtYvApKzOSQsZOTTp7DJ7QEfH0RYZigOa1NrVLcY/VpTOPWcAVMf3nyvHput5MLhaghZ4NqSbANi48EthOSOjFDUWhswRxv9Uhqdj/a4qLaa+d237oeL9DibhuLrmMd/oNXhWAXeDKAAAAAAC8iLHM7XqBHQABkQGAUAAAAKDqqbHEZ/sCAAAAAARZWg==");

    /// <summary>The same tar compressed by zstd 1.5 (`zstd -19`), as Ubuntu's packages are.</summary>
    public static byte[] HelloTarZst { get; } = Convert.FromBase64String(
        "KLUv/WQAJ60CABJEDRGw6wAJGUl0WFR0szLwnUIuBQZua61D2NOY84NJJsn7L1czriStdyl6L6VQwodoT2K4zKEICyCAGVkH9gU41hfieQpjANgfkIYxc4JBAabRegfB/lZ/");
}
