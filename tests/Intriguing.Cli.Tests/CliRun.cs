using System.Text.Json;
using Intriguing.Cli;
using Intriguing.Cli.Output;

namespace Intriguing.Cli.Tests;

/// <summary>Runs the command line in-process and captures its two streams.</summary>
public sealed record CliRun(int ExitCode, string StandardOutput, string StandardError)
{
    public static CliRun Of(params string[] args)
    {
        var standardOutput = new StringWriter();
        var standardError = new StringWriter();
        int exitCode = IntriguingCli.Run(args, new CliIo(standardOutput, standardError, interactive: false));
        return new CliRun(exitCode, standardOutput.ToString(), standardError.ToString());
    }

    /// <summary>The single JSON document that --json must leave on standard output (and nothing else).</summary>
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(StandardOutput);
        return document.RootElement.Clone();
    }
}
