using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Intriguing.Cli.Tests;

/// <summary>
/// What <c>dotnet pack</c> makes of the repository, made once for <see cref="PackageTests"/>: the command line packed as
/// the .NET tool Intriguing.Cli for this machine's platform (the small package naming the platform and the platform's own
/// package), installed with <c>dotnet tool install --tool-path</c> from those packages only, and the library packed as
/// Intriguing. Everything goes to a temporary folder of its own (<c>--artifacts-path</c>), so the repository's bin and
/// obj folders are left as they are; the folder (about 3 GB, libtorch included) is deleted afterwards.
/// </summary>
public sealed class PackedProducts : IDisposable
{
    /// <summary>Free space the packing needs on the temporary folder's disk: libtorch is built, packed and installed.</summary>
    public const long RequiredBytes = 4L << 30;

    public PackedProducts()
    {
        Directory.CreateDirectory(Root);
        try
        {
            Make();
        }
        catch
        {
            // xunit does not dispose a fixture whose constructor threw: nothing of a failed attempt is left behind.
            Dispose();
            throw;
        }
    }

    private void Make()
    {
        long free = new DriveInfo(Root).AvailableFreeSpace;
        if (free < RequiredBytes)
        {
            throw new InvalidOperationException(
                $"packing and installing the tool needs about {RequiredBytes >> 30} GB free under {Path.GetTempPath()}; {free / (double)(1L << 30):0.0} GB are free");
        }
        string repository = Repository();
        var clock = Stopwatch.StartNew();
        // One platform, as `dotnet pack` does for each of ToolPackageRuntimeIdentifiers (the csproj lists linux-x64 and win-x64).
        Dotnet.Run(Root, TimeSpan.FromMinutes(10), "pack", Path.Combine(repository, "src", "Intriguing.Cli", "Intriguing.Cli.csproj"),
            "-c", "Release", "-o", Packages, "--artifacts-path", Artifacts, "-p:ToolPackageRuntimeIdentifiers=" + Platform).ThrowUnlessSucceeded();
        ToolPackSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        Dotnet.Run(Root, TimeSpan.FromMinutes(5), "pack", Path.Combine(repository, "src", "Intriguing", "Intriguing.csproj"),
            "-c", "Release", "-o", Packages, "--artifacts-path", Artifacts).ThrowUnlessSucceeded();
        LibraryPackSeconds = clock.Elapsed.TotalSeconds;

        // The build outputs (libtorch twice over) are not needed once the packages exist.
        Directory.Delete(Artifacts, recursive: true);

        // Only the packages just made: the install needs nothing else (a tool package carries its dependencies).
        string config = Path.Combine(Root, "nuget.config");
        File.WriteAllText(config,
            $"<configuration><packageSources><clear /><add key=\"packed\" value=\"{Packages}\" /></packageSources></configuration>\n");
        clock.Restart();
        Dotnet.Run(Root, TimeSpan.FromMinutes(5), "tool", "install", "--tool-path", Tools, "--configfile", config, "--add-source", Packages,
            "Intriguing.Cli").ThrowUnlessSucceeded();
        InstallSeconds = clock.Elapsed.TotalSeconds;
    }

    /// <summary>This machine's platform, e.g. linux-x64: the tool package made and installed is this one's.</summary>
    public static string Platform => RuntimeInformation.RuntimeIdentifier;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "intriguing-pack-tests-" + Guid.NewGuid().ToString("N"));

    public string Packages => Path.Combine(Root, "packages");

    public string Artifacts => Path.Combine(Root, "artifacts");

    public string Tools => Path.Combine(Root, "tools");

    /// <summary>The installed command, <c>intriguing</c>, as <c>dotnet tool install --tool-path</c> placed it.</summary>
    public string Command => Path.Combine(Tools, OperatingSystem.IsWindows() ? "intriguing.exe" : "intriguing");

    public double ToolPackSeconds { get; private set; }

    public double LibraryPackSeconds { get; private set; }

    public double InstallSeconds { get; private set; }

    /// <summary>The one package in <see cref="Packages"/> whose file name starts with <paramref name="stem"/> and a version.</summary>
    public string Package(string stem) =>
        Directory.GetFiles(Packages, stem + ".*.nupkg")
            .Single(path => char.IsDigit(Path.GetFileName(path)[stem.Length + 1]));

    /// <summary>The repository root: the folder above the tests that holds Intriguing.slnx.</summary>
    public static string Repository()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Intriguing.slnx")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"cannot find the repository (Intriguing.slnx) above {AppContext.BaseDirectory}");
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}

/// <summary>A finished child process: its exit code and what it printed.</summary>
public sealed record ProcessRun(string Command, int ExitCode, string StandardOutput, string StandardError, double Seconds)
{
    /// <summary>Throws, with the command and the end of both streams, unless it exited with 0.</summary>
    public ProcessRun ThrowUnlessSucceeded()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"`{Command}` exited with {ExitCode} after {Seconds:0} s\n{Tail(StandardOutput)}\n{Tail(StandardError)}");
        }
        return this;
    }

    private static string Tail(string text)
    {
        var lines = text.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 60)));
    }
}

/// <summary>
/// Runs <c>dotnet</c> (the host running the tests) or another program as a child process, with a time limit. MSBuild
/// nodes are not kept alive after a build, and the run ends when the process does (a compiler server it leaves behind
/// may hold the pipes open; nothing waits for them).
/// </summary>
public static class Dotnet
{
    public static ProcessRun Run(string workingDirectory, TimeSpan timeout, params string[] arguments) =>
        RunProgram(Host(), workingDirectory, timeout, null, arguments);

    public static ProcessRun RunProgram(string program, string workingDirectory, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The test host's own MSBuild settings are not the child's business.
        foreach (string name in start.Environment.Keys.Where(name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var standardOutput = new StringBuilder();
        var standardError = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Append(standardOutput, line.Data);
        process.ErrorDataReceived += (_, line) => Append(standardError, line.Data);
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string command = $"{Path.GetFileName(program)} {string.Join(' ', arguments)}";
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{command}` did not finish within {timeout.TotalMinutes:0} minutes\n{Text(standardOutput)}\n{Text(standardError)}");
        }
        // The streams' last lines arrive just after the exit.
        Thread.Sleep(100);
        return new ProcessRun(command, process.ExitCode, Text(standardOutput), Text(standardError), clock.Elapsed.TotalSeconds);
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (text)
        {
            text.AppendLine(line);
        }
    }

    private static string Text(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private static string Host()
    {
        string? host = Environment.ProcessPath;
        return host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
    }
}
