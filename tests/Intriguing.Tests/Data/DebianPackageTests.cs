using System.Text;
using Intriguing.Data;

namespace Intriguing.Tests.Data;

/// <summary>The ar reader and the .deb reader on archives the tests build, whole and broken.</summary>
public sealed class DebianPackageTests : IDisposable
{
    private readonly string folder = IdxFiles.TemporaryFolder();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static IReadOnlyList<ArMember> List(byte[] archive) => ArArchive.List(new MemoryStream(archive), "test.deb");

    private string Write(byte[] bytes, string name = "test.deb")
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Lists_members_with_names_and_lengths_past_odd_length_padding()
    {
        byte[] archive = DebFiles.Ar(("debian-binary", "2.0\n"u8.ToArray()), ("odd", [1, 2, 3]), ("data.tar.gz", [9, 8]));

        var members = List(archive);

        Assert.Equal(["debian-binary", "odd", "data.tar.gz"], members.Select(member => member.Name));
        Assert.Equal([4L, 3L, 2L], members.Select(member => member.Length));
        using var stream = new MemoryStream(archive);
        Assert.Equal([1, 2, 3], ArArchive.Read(stream, members[1]));
        Assert.Equal([9, 8], ArArchive.Read(stream, members[2]));
    }

    [Fact]
    public void An_empty_archive_has_no_members()
    {
        Assert.Empty(List("!<arch>\n"u8.ToArray()));
    }

    public static TheoryData<string, string> Broken => new()
    {
        { "not-ar", "not an ar archive" },
        { "cut-body", "truncated: member 'data.tar.gz' needs 100 bytes but only 40 remain" },
        { "cut-header", "truncated: member header 2 at byte" },
        { "bad-terminator", "corrupt: member header 1 at byte 8 does not end with" },
        { "bad-size", "corrupt: member 'debian-binary' has size field \"4x\"" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void A_truncated_or_corrupt_archive_is_invalid_data_naming_the_archive(string how, string expected)
    {
        byte[] good = DebFiles.Ar(("debian-binary", "2.0\n"u8.ToArray()), ("data.tar.gz", new byte[100]));
        byte[] bad = how switch
        {
            "not-ar" => Encoding.ASCII.GetBytes("PK\u0003\u0004 a zip file, not a package"),
            "cut-body" => good[..^60],
            "cut-header" => good[..(8 + 60 + 4 + 30)],
            "bad-terminator" => Patched(good, 8 + 58, (byte)'x'),
            _ => Patched(good, 8 + 48 + 1, (byte)'x'),
        };

        var error = Assert.Throws<InvalidDataException>(() => List(bad));

        Assert.StartsWith("test.deb: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    private static byte[] Patched(byte[] bytes, int index, byte value)
    {
        byte[] copy = bytes.ToArray();
        copy[index] = value;
        return copy;
    }

    [Fact]
    public void Reads_the_wanted_files_of_a_gzipped_data_tar_and_skips_the_rest()
    {
        byte[] data = DebFiles.GzippedTar([
            ("usr/share/datasets/tiny/a-idx.gz", DebFiles.Gzip([1, 2, 3])),
            ("usr/share/datasets/tiny/b-idx", [4, 5]),
            ("usr/share/datasets/tiny/unwanted", [6]),
            ("usr/share/doc/tiny/a-idx.gz", [7]),
        ]);
        string deb = Write(DebFiles.Deb(data));

        var files = DebianPackage.ReadFiles(deb, "/usr/share/datasets/tiny", new HashSet<string> { "a-idx", "b-idx", "c-idx" });

        Assert.Equal(["a-idx", "b-idx"], files.Keys.Order());
        Assert.Equal([1, 2, 3], DatasetFetcher.MaybeGunzip(files["a-idx"]));
        Assert.Equal([4, 5], files["b-idx"]);
    }

    [Theory]
    [InlineData("data.tar.xz")]
    [InlineData("data.tar.zst")]
    public void Reads_data_tars_compressed_with_xz_and_zstd(string member)
    {
        byte[] data = member.EndsWith(".xz", StringComparison.Ordinal) ? DebFiles.HelloTarXz : DebFiles.HelloTarZst;
        string deb = Write(DebFiles.Deb(data, member));

        var files = DebianPackage.ReadFiles(deb, "usr/share/x", new HashSet<string> { "hello" });

        Assert.Equal("hello\n", Encoding.ASCII.GetString(files["hello"]));
    }

    [Fact]
    public void A_corrupt_xz_member_is_invalid_data_naming_the_package()
    {
        byte[] corrupt = DebFiles.HelloTarXz.ToArray();
        for (int index = 40; index < 100; index++)
        {
            corrupt[index] ^= 0x5a;
        }
        string deb = Write(DebFiles.Deb(corrupt, "data.tar.xz"));

        var error = Assert.ThrowsAny<InvalidDataException>(() => DebianPackage.ReadFiles(deb, "usr/share/x", new HashSet<string> { "hello" }));

        Assert.StartsWith(deb, error.Message);
    }

    [Fact]
    public void A_truncated_xz_member_is_invalid_data_naming_the_package()
    {
        string deb = Write(DebFiles.Deb(DebFiles.HelloTarXz[..90], "data.tar.xz"));

        var error = Assert.ThrowsAny<InvalidDataException>(() => DebianPackage.ReadFiles(deb, "usr/share/x", new HashSet<string> { "hello" }));

        Assert.StartsWith(deb, error.Message);
    }

    [Fact]
    public void A_package_without_a_data_tar_is_invalid_data_listing_what_it_holds()
    {
        string deb = Write(DebFiles.Ar(("debian-binary", "2.0\n"u8.ToArray()), ("control.tar.gz", [1])));

        var error = Assert.Throws<InvalidDataException>(() => DebianPackage.ReadFiles(deb, "usr", new HashSet<string> { "x" }));

        Assert.Equal($"{deb}: no data.tar member (found debian-binary, control.tar.gz)", error.Message);
    }

    [Fact]
    public void An_unknown_compression_is_named()
    {
        string deb = Write(DebFiles.Deb([1, 2, 3], "data.tar.lzma"));

        var error = Assert.Throws<InvalidDataException>(() => DebianPackage.ReadFiles(deb, "usr", new HashSet<string> { "x" }));

        Assert.Contains("data.tar.lzma is compressed in a way this reader does not know", error.Message);
    }

    [Fact]
    public void Fashion_mnist_is_fetched_from_debians_package_and_knows_its_class_names()
    {
        var spec = DatasetSpec.FashionMnist;
        Assert.Equal("dataset-fashion-mnist", spec.DebianPackage);
        Assert.Equal("usr/share/datasets/fashion-mnist", spec.DebianFolder);
        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], spec.ClassNames);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], DatasetSpec.Mnist.ClassNames);
        Assert.Null(DatasetSpec.Mnist.DebianPackage);
    }
}
