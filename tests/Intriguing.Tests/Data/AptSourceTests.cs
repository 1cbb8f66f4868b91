using Intriguing.Data;

namespace Intriguing.Tests.Data;

/// <summary>
/// The fetcher's <c>apt-get download</c> step through a fake apt-get (a shell script that drops a .deb the test built
/// into the folder it runs in), so no test reaches a package registry: good files are placed, files failing their
/// checksums are reported and never cached, and apt-get's own failure is named.
/// </summary>
public sealed class AptSourceTests : IDisposable
{
    private const string Folder = "usr/share/datasets/tiny";

    private readonly string cache = IdxFiles.TemporaryFolder();
    private readonly string tools = IdxFiles.TemporaryFolder();
    private readonly Dictionary<string, byte[]> served = new()
    {
        ["train-images-idx3-ubyte"] = IdxFiles.Images(4),
        ["train-labels-idx1-ubyte"] = IdxFiles.Labels(4),
        ["t10k-images-idx3-ubyte"] = IdxFiles.Images(2),
        ["t10k-labels-idx1-ubyte"] = IdxFiles.Labels(2),
    };
    private readonly DatasetSpec spec;

    public AptSourceTests()
    {
        DatasetFile Describe(string name, DatasetFileKind kind, int count)
        {
            var (md5, sha256) = DatasetFetcher.Checksums(served[name]);
            return new DatasetFile(name, kind, count, md5, sha256);
        }
        spec = new DatasetSpec(
            "tiny-apt",
            Describe("train-images-idx3-ubyte", DatasetFileKind.Images, 4),
            Describe("train-labels-idx1-ubyte", DatasetFileKind.Labels, 4),
            Describe("t10k-images-idx3-ubyte", DatasetFileKind.Images, 2),
            Describe("t10k-labels-idx1-ubyte", DatasetFileKind.Labels, 2),
            NpmPackage: null,
            NpmFolder: null,
            SystemFolders: [],
            Mirrors: [])
        {
            DebianPackage = "dataset-tiny",
            DebianFolder = Folder,
        };
    }

    public void Dispose()
    {
        Directory.Delete(cache, recursive: true);
        Directory.Delete(tools, recursive: true);
    }

    private FetchOptions AptOnly(string aptGet) => FetchOptions.AptOnly with { Cache = cache, AptGet = aptGet };

    /// <summary>A fake apt-get that logs its arguments and copies <paramref name="deb"/> into its working folder, or fails like apt.</summary>
    private string FakeAptGet(byte[]? deb)
    {
        string script = Path.Combine(tools, "apt-get");
        if (deb is null)
        {
            File.WriteAllText(script,
                "#!/bin/sh\nprintf 'W: Unable to read /etc/apt/preferences.d/ - DirectoryExists\\nE: Unable to locate package dataset-tiny\\n' >&2\nexit 100\n");
        }
        else
        {
            string package = Path.Combine(tools, "dataset-tiny_1.0-1_all.deb");
            File.WriteAllBytes(package, deb);
            File.WriteAllText(script, $"#!/bin/sh\necho \"$@\" >> '{tools}/calls.log'\ncp '{package}' ./dataset-tiny_1.0-1_all.deb\n");
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return script;
    }

    private byte[] DebOf(Func<string, byte[], byte[]> content) =>
        DebFiles.Deb(DebFiles.GzippedTar(served.Select(file => ($"{Folder}/{file.Key}.gz", DebFiles.Gzip(content(file.Key, file.Value))))));

    private string[] CachedIdxFiles() => Directory.GetFiles(cache).Where(path => served.ContainsKey(Path.GetFileName(path))).ToArray();

    [Fact]
    public void Downloads_the_package_unpacks_it_in_process_and_places_every_verified_file()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the fake apt-get is a shell script
        }
        string aptGet = FakeAptGet(DebOf((_, body) => body));

        var result = DatasetFetcher.Fetch(spec, options: AptOnly(aptGet));

        Assert.All(result.Files, file => Assert.Equal("apt-get download dataset-tiny", file.Source));
        Assert.All(result.Files, file => Assert.True(file.Ok));
        foreach (var (name, body) in served)
        {
            Assert.Equal(body, File.ReadAllBytes(Path.Combine(cache, name)));
        }
        Assert.Equal("download dataset-tiny", File.ReadAllText(Path.Combine(tools, "calls.log")).Trim());
        Assert.Empty(Directory.GetFiles(cache, "*.tmp"));
    }

    [Fact]
    public void Files_in_the_package_that_fail_their_checksums_are_reported_and_never_cached()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        // Same lengths and headers, one byte changed: only the checksums can tell.
        string aptGet = FakeAptGet(DebOf((_, body) =>
        {
            byte[] changed = body.ToArray();
            changed[^1] ^= 1;
            return changed;
        }));
        var updates = new List<ProgressUpdate>();

        var error = Assert.Throws<BadInputException>(() =>
            DatasetFetcher.Fetch(spec, progress: new SynchronousProgress(updates.Add), options: AptOnly(aptGet)));

        Assert.Contains("apt-get download: ", error.Message);
        Assert.Contains("from apt-get download dataset-tiny: checksum mismatch: MD5 ", error.Message);
        Assert.Contains(updates, update => update.IsWarning && update.Detail?.Contains("checksum mismatch", StringComparison.Ordinal) == true);
        Assert.Empty(CachedIdxFiles());
    }

    [Fact]
    public void A_package_missing_a_file_says_which()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string aptGet = FakeAptGet(DebFiles.Deb(DebFiles.GzippedTar([($"{Folder}/train-images-idx3-ubyte", served["train-images-idx3-ubyte"])])));

        var error = Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, options: AptOnly(aptGet)));

        Assert.Contains($"dataset-tiny_1.0-1_all.deb has no train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte in /{Folder}", error.Message);
    }

    [Fact]
    public void A_corrupt_package_is_reported_as_such()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        byte[] deb = DebOf((_, body) => body);
        string aptGet = FakeAptGet(deb[..(deb.Length / 2)]);

        var error = Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, options: AptOnly(aptGet)));

        Assert.Contains("dataset-tiny_1.0-1_all.deb: truncated", error.Message);
        Assert.Empty(CachedIdxFiles());
    }

    [Fact]
    public void A_failing_apt_get_is_named_with_its_error_line_not_its_warnings()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string aptGet = FakeAptGet(null);

        var error = Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, options: AptOnly(aptGet)));

        Assert.Contains("apt-get download: apt-get download dataset-tiny exited with 100: Unable to locate package dataset-tiny (apt's package lists may be empty or old", error.Message);
    }

    [Fact]
    public void Npm_only_and_a_spec_without_a_package_never_run_apt_get()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string aptGet = FakeAptGet(DebOf((_, body) => body));

        Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, options: FetchOptions.NpmOnly with { Cache = cache, AptGet = aptGet }));
        Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec with { DebianPackage = null }, options: AptOnly(aptGet)));

        Assert.False(File.Exists(Path.Combine(tools, "calls.log")));
    }

    private sealed class SynchronousProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
