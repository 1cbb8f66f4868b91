using System.CommandLine;
using Intriguing.Cli.Output;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>The exit codes users rely on (docs/json-output.md): 0 success, 1 a run that failed, 2 bad usage or bad input.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
}

/// <summary>
/// Runs one command's work and turns what it throws into the contract's exit codes and a one-line reason on
/// standard error (the stack trace only with <c>--verbose</c>).
/// </summary>
public static class CommandRunner
{
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print exactly one JSON document on standard output (progress and tables go to standard error).",
        Recursive = true,
    };

    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces of failures.",
        Recursive = true,
    };

    public static int Run(CliIo io, ParseResult parseResult, Func<CommandContext, int> work)
    {
        bool json = parseResult.GetValue(Json);
        bool verbose = parseResult.GetValue(Verbose);
        var context = new CommandContext(io, json, io.HumanConsole(json));
        try
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            return work(context);
        }
        catch (Exception error) when (IsBadInput(error))
        {
            Report(io, "bad input", error, verbose);
            return ExitCodes.BadInput;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            Report(io, "failed", error, verbose);
            return ExitCodes.Failed;
        }
    }

    private static bool IsBadInput(Exception error) =>
        error is BadInputException or FileNotFoundException or DirectoryNotFoundException;

    private static void Report(CliIo io, string kind, Exception error, bool verbose)
    {
        io.StandardError.WriteLine($"intriguing: {kind}: {error.Message}");
        if (verbose)
        {
            io.StandardError.WriteLine(error.ToString());
        }
    }
}

/// <summary>What a command's work gets: the streams, whether <c>--json</c> was asked, and a console for people.</summary>
public sealed record CommandContext(CliIo Io, bool Json, IAnsiConsole Console)
{
    /// <summary>Prints the JSON document under <c>--json</c>; otherwise runs the human rendering.</summary>
    public void Emit<T>(T document, Action<IAnsiConsole> renderForPeople)
    {
        if (Json)
        {
            Io.WriteJson(document);
        }
        else
        {
            renderForPeople(Console);
        }
    }
}
