using System.CommandLine;
using System.Globalization;
using Intriguing.Cli.Output;
using Intriguing.Evaluation;
using Intriguing.IO;
using Intriguing.Sharding;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing merge DIR... [--out DIR] [--json]</c>: puts together the parts that <c>--shard i/n</c> runs wrote
/// and prints (and with <c>--out</c> writes) what one unsplit run gives. Refuses, with exit code 2, parts of different
/// commands, settings, data or model weights, a missing or doubled shard, and a corrupt part, naming the part.
/// </summary>
public static class MergeCommand
{
    public static Command Create(CliIo io)
    {
        var folders = new Argument<string[]>("DIR")
        {
            Description = "Folders holding the parts (*.part-I-of-N.json) written by --shard runs, or part files.",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = CommonOptions.Out("Folder for the merged result: evaluate.json, transfer.json or units.json and their figures; for attack parts the adversarial files an unsplit attack --out writes; " +
            "for reproduce parts (required) the report: report.html, report.md, report.json and figures/.");
        var command = new Command("merge",
            "Merge the parts of a run split with --shard i/n (e.g. over a Slurm job array or a Kubernetes Indexed Job) into what one " +
            "unsplit run gives: the same numbers, tables, JSON, files and report. Times are summed over the parts (compute time, not wall time).")
        {
            folders, output,
        };
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            string? outFolder = CommonOptions.CheckOut(parseResult.GetValue(output));
            var parts = ShardParts.ReadSet(parseResult.GetValue(folders)!);
            var manifest = parts[0].Manifest;
            switch (manifest.Command)
            {
                case "evaluate":
                    {
                        var totals = CascadeParts.Merge(parts);
                        var report = EvaluateCommand.ToReport(totals, manifest.Models.Keys.Single(),
                            int.Parse(manifest.Settings["seed"], CultureInfo.InvariantCulture), manifest.Settings["device"], manifest.Dataset);
                        if (outFolder is not null)
                        {
                            AtomicFile.WriteAllText(Path.Combine(outFolder, "evaluate.json"), System.Text.Json.JsonSerializer.Serialize(report, CliIo.JsonOptions));
                        }
                        context.Emit(report, console => EvaluateCommand.Render(console, report));
                        return ExitCodes.Success;
                    }
                case "attack":
                    {
                        var report = AttackCommand.Merge(parts, outFolder);
                        context.Emit(report, console => AttackCommand.Render(console, report));
                        return ExitCodes.Success;
                    }
                case "reproduce":
                    {
                        var result = ReproduceCommand.Merge(parts, outFolder,
                            "intriguing " + string.Join(' ', parseResult.Tokens.Select(token => token.Value)));
                        var summary = new ReproduceCommand.ReproduceSummary(outFolder!, result.Files.Html, result.Files.Markdown, result.Files.Json,
                            [.. result.Report.Sections.Select(section => section.Key)], [], result.Report.Environment.WallTimeSeconds,
                            result.Report.Environment.Quick, result.Report.Environment.Seed, [.. result.FailedStudies.Select(failure => failure.Key)]);
                        context.Emit(summary, console => console.MarkupLine(
                            $"Report of {parts.Count} shards written to [bold]{Markup.Escape(result.Files.Html)}[/] (also report.md and report.json)."));
                        if (result.FailedStudies.Count > 0)
                        {
                            context.Io.StandardError.WriteLine("intriguing: failed: " + string.Join("; ", result.FailedStudies.Select(failure => $"study {failure.Key} failed ({failure.Reason})")) +
                                $"; the report in {outFolder} lists {(result.FailedStudies.Count == 1 ? "its" : "their")} claims as not run");
                            return ExitCodes.Failed;
                        }
                        return ExitCodes.Success;
                    }
                case "transfer":
                    return TransferCommand.Merge(context, parts, outFolder);
                case "units":
                    return UnitsCommand.Merge(context, parts, outFolder);
                default:
                    throw new BadInputException($"merge: '{parts[0].Path}' is a part of '{manifest.Command}', which merge does not know");
            }
        }));
        return command;
    }
}
