using System.Net;
using System.Net.Sockets;
using Intriguing.Data;

namespace Intriguing.Tests.Data;

/// <summary>
/// The fetcher on small made-up datasets: the HTTP path against a server on 127.0.0.1 that the test starts
/// (tests never contact an outside address), checksum refusal, and re-fetching of a corrupt cached file.
/// </summary>
public sealed class DatasetFetcherTests : IDisposable
{
    private readonly string cache = IdxFiles.TemporaryFolder();
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
            NpmPackage: null,
            NpmFolder: null,
            SystemFolders: [],
            Mirrors: []);
    }

    public void Dispose() => Directory.Delete(cache, recursive: true);

    [Fact]
    public void Downloads_gzipped_files_from_a_local_mirror_and_verifies_them()
    {
        using var server = new LocalServer(request => served.TryGetValue(request.TrimEnd(".gz".ToCharArray()), out var body) && request.EndsWith(".gz")
            ? Gzip(body)
            : null);
        var updates = new List<ProgressUpdate>();
        var result = DatasetFetcher.Fetch(spec, cache, new SynchronousProgress(updates.Add), new FetchOptions(UseNpm: false, Mirrors: [server.BaseUrl]));

        Assert.All(result.Files, file => Assert.True(file.Ok));
        Assert.Equal(served["t10k-images-idx3-ubyte"], File.ReadAllBytes(Path.Combine(cache, "t10k-images-idx3-ubyte")));
        Assert.Contains(updates, update => update.Task == "download train-images-idx3-ubyte");
        Assert.Empty(Directory.GetFiles(cache, "*.tmp"));
    }

    [Fact]
    public void Corrupt_cached_file_is_fetched_again_never_trusted()
    {
        using var server = new LocalServer(request => served.GetValueOrDefault(request));
        foreach (var (name, body) in served)
        {
            File.WriteAllBytes(Path.Combine(cache, name), body);
        }
        byte[] corrupt = served["train-labels-idx1-ubyte"].ToArray();
        corrupt[^1] ^= 1;
        File.WriteAllBytes(Path.Combine(cache, "train-labels-idx1-ubyte"), corrupt);

        var result = DatasetFetcher.Fetch(spec, cache, options: new FetchOptions(UseNpm: false, Mirrors: [server.BaseUrl]));

        Assert.Equal(served["train-labels-idx1-ubyte"], File.ReadAllBytes(Path.Combine(cache, "train-labels-idx1-ubyte")));
        Assert.Equal("cache", result.Files.Single(file => file.Name == "train-images-idx3-ubyte").Source);
        Assert.All(server.Requests, request => Assert.StartsWith("train-labels-idx1-ubyte", request));
    }

    [Fact]
    public void Mirror_serving_wrong_bytes_is_refused_and_nothing_is_cached()
    {
        using var server = new LocalServer(request => served.TryGetValue(request, out var body) ? body.Reverse().ToArray() : null);
        var error = Assert.Throws<IOException>(() => DatasetFetcher.Fetch(spec, cache, options: new FetchOptions(UseNpm: false, Mirrors: [server.BaseUrl])));
        Assert.Contains("MD5", error.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void Without_downloads_a_missing_file_is_a_clear_error()
    {
        var error = Assert.Throws<BadInputException>(() => DatasetFetcher.Fetch(spec, cache, options: new FetchOptions(AllowDownload: false)));
        Assert.Contains("train-images-idx3-ubyte", error.Message);
    }

    [Fact]
    public void Loads_images_scaled_to_unit_range_and_splits_the_training_set_in_halves()
    {
        foreach (var (name, body) in served)
        {
            File.WriteAllBytes(Path.Combine(cache, name), body);
        }
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
