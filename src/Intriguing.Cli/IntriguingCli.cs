using System.CommandLine;
using Intriguing.Cli.Commands;
using Intriguing.Cli.Output;

namespace Intriguing.Cli;

/// <summary>The command tree of <c>./intriguing</c>. Tests call <see cref="Run"/> in-process.</summary>
public static class IntriguingCli
{
    public static int Run(string[] args, CliIo io)
    {
        // A plain command named like the launcher, so help reads "intriguing <command>", not the assembly's name.
        var root = new Command(
            "intriguing",
            "Intriguing: reproduce, measure and defend against the phenomena of Szegedy et al., " +
            "\"Intriguing properties of neural networks\" (2013), and the attacks that followed it.")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };
        root.Options.Add(CommandRunner.Json);
        root.Options.Add(CommandRunner.Verbose);
        foreach (var command in Commands(io))
        {
            root.Subcommands.Add(command);
        }

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                io.StandardError.WriteLine($"intriguing: bad usage: {error.Message}");
            }
            io.StandardError.WriteLine("Run './intriguing --help' (or '<command> --help') to see what is accepted.");
            return ExitCodes.BadInput;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = io.StandardOutput, Error = io.StandardError });
    }

    private static IEnumerable<Command> Commands(CliIo io)
    {
        yield return DataCommand.Create(io);
        yield return TrainCommand.Create(io);
        yield return AttackCommand.Create(io);
        yield return BenchCommand.Create(io);
        yield return UnitsCommand.Create(io);
        yield return SpectralCommand.Create(io);
        yield return TransferCommand.Create(io);
        yield return AdvTrainCommand.Create(io);
        yield return EvaluateCommand.Create(io);
        yield return ExportCommand.Create(io);
        yield return ReproduceCommand.Create(io);
        yield return MergeCommand.Create(io);
    }
}
