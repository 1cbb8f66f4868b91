using System.CommandLine;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Reproduction;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing reproduce</c>: the main job. Fetches MNIST, trains (or reuses) the paper's zoo, runs every study and
/// writes report.html, report.md, report.json and figures/ with the paper's numbers beside ours.
/// </summary>
public static class ReproduceCommand
{
    public sealed record ReproduceSummary(string Out, string Html, string Markdown, string Json, IReadOnlyList<string> Sections, IReadOnlyList<string> Resumed, double WallTimeSeconds, bool Quick, int Seed, IReadOnlyList<string> Failed);

    /// <summary>The studies in report order. Each later study appends itself here.</summary>
    public static IReadOnlyList<IStudy> Studies(bool quick)
    {
        int attackCount = quick ? 100 : 1000;
        return
        [
            new Table1Study(attackCount, restarts: quick ? new(20, 4) : Table1Study.DefaultRestarts),
            new Table2Study(attackCount),
            new Table3Study(attackCount),
            new Table4Study(attackCount),
            new AttacksStudy(attackCount),
            new UnitsStudy(quick ? 2000 : 10_000, quick ? 100 : 500),
            new SpectralStudy(attackCount, quick ? 2 : 4),
            new AdversarialTrainingStudy(),
        ];
    }

    public static Command Create(CliIo io)
    {
        var quick = new Option<bool>("--quick")
        {
            Description = "Fewer epochs and images: the whole run in about three minutes (numbers are rougher).",
        };
        var outDir = new Option<string>("--out")
        {
            Description = "Folder for report.html, report.md, report.json and figures/ (default: reports, or reports-quick with --quick).",
        };
        var quiet = new Option<bool>("--quiet")
        {
            Description = "No progress and no tables: only warnings and errors (on standard error) and, at the end, the one line " +
                "saying where the report is (or the JSON document with --json). The exit code says whether the run succeeded.",
        };
        var seed = CommonOptions.Seed();
        var dataDir = CommonOptions.DataDir();
        var dataset = CommonOptions.Dataset();
        var resize = CommonOptions.Resize();
        var device = CommonOptions.Device();
        var command = new Command(
            "reproduce",
            "Reproduce the paper: train (or reuse) the zoo, run the studies, and write the report with the paper's numbers beside ours. " +
            "Resumes from cached models and finished studies after an interruption.")
        {
            quick,
            outDir,
            quiet,
            seed,
            dataDir,
            dataset,
            resize,
            device,
        };
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            bool isQuick = parseResult.GetValue(quick);
            string deviceName = parseResult.GetValue(device)!;
            string folder = CommonOptions.CheckOut(parseResult.GetValue(outDir) ?? (isQuick ? "reports-quick" : "reports"))!;
            var settings = new ReproductionSettings(folder, parseResult.GetValue(seed), isQuick, datasetChoice.Spec?.Name ?? DatasetChoice.FolderPrefix + datasetChoice.FolderPath, parseResult.GetValue(dataDir),
                "intriguing " + string.Join(' ', parseResult.Tokens.Select(token => token.Value)), deviceName, datasetChoice.Resize);
            bool isQuiet = parseResult.GetValue(quiet);
            // One display for the whole run: a line per study with its elapsed time, the study's own work beneath it.
            var result = isQuiet
                ? ProgressDisplay.Quiet(context.Io.StandardError, progress => ReproductionRun.Run(settings, Studies(isQuick), progress))
                : ProgressDisplay.Run(context.Console, progress => ReproductionRun.Run(settings, Studies(isQuick), progress), ReproductionRun.StudyTaskPrefix);
            var summary = new ReproduceSummary(folder, result.Files.Html, result.Files.Markdown, result.Files.Json,
                result.Report.Sections.Select(section => section.Key).ToList(), result.ResumedStudies,
                result.Report.Environment.WallTimeSeconds, isQuick, settings.Seed, result.FailedStudies.Select(failure => failure.Key).ToList());
            context.Emit(summary, console =>
            {
                if (isQuiet)
                {
                    console.Profile.Out.Writer.WriteLine($"Report written to {result.Files.Html} (also report.md and report.json) in {summary.WallTimeSeconds:F0} s.");
                    return;
                }
                foreach (var section in result.Report.Sections)
                {
                    foreach (var table in section.Tables)
                    {
                        var rendered = new Table().Title(Markup.Escape(section.Title));
                        foreach (var header in table.Headers)
                        {
                            rendered.AddColumn(Markup.Escape(header.Text));
                        }
                        foreach (var row in table.Rows)
                        {
                            rendered.AddRow(row.Select(cell => Markup.Escape(cell.Text)).ToArray());
                        }
                        console.Write(rendered);
                    }
                }
                if (result.ResumedStudies.Count > 0)
                {
                    console.MarkupLine($"[grey]Read back from an earlier run: {Markup.Escape(string.Join(", ", result.ResumedStudies))}[/]");
                }
                console.MarkupLine($"Report written to [bold]{Markup.Escape(result.Files.Html)}[/] (also report.md and report.json) in {summary.WallTimeSeconds:F0} s.");
            });
            if (result.FailedStudies.Count > 0)
            {
                // The report is written, with the failed studies' claims "not run"; the run as a whole still failed.
                context.Io.StandardError.WriteLine("intriguing: failed: " + string.Join("; ", result.FailedStudies.Select(failure => $"study {failure.Key} failed ({failure.Reason})")) +
                    $"; the report in {folder} lists {(result.FailedStudies.Count == 1 ? "its" : "their")} claims as not run");
                return ExitCodes.Failed;
            }
            return ExitCodes.Success;
        }));
        return command;
    }
}
