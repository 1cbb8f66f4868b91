using System.CommandLine;
using System.Globalization;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Reproduction;
using Intriguing.Sharding;
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
    public static IReadOnlyList<IStudy> Studies(bool quick, bool extended = false)
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
            new AdversarialTrainingStudy(extended: extended && !quick),
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
        var extended = new Option<bool>("--extended")
        {
            Description = "Also train and evaluate the arms at a later paper's full scale that no default claim needs: a convnet PGD-trained at " +
                "Madry et al.'s eps 0.3 (" + AdversarialTrainingStudy.ExtendedCost + "). Ignored with --quick.",
        };
        var workers = new Option<int?>("--workers")
        {
            Description = "Processes to use (default 2 on a machine with at least 2 cores, else 1; 1 with --quick unless given). Each extra process " +
                "starts with the adversarial-training study and trains a share of its arms whose training is single-threaded (the fc100-100-10 " +
                "arms, last first) while this one takes them first to last; each arm is cached with its evaluations and read back, so the numbers " +
                "are the same as with 1. Helper logs go to <out>/.results/helper-N.log.",
        };
        var trainArms = new Option<string?>("--train-arms")
        {
            Description = "Only train and evaluate these adversarial-training arms of the run (comma-separated names, or all) into the model " +
                "cache, and write no report: a later reproduce with the same seed and mode reads them back. For spreading the training over " +
                "processes or cluster jobs that share $INTRIGUING_HOME.",
        };
        var shard = new Option<string?>("--shard")
        {
            Description = "Run only shard i of n (0 <= i < n) of the work, e.g. 0/4 (a Slurm array task or a Kubernetes Indexed Job pod): the studies and " +
                "adversarial-training arms are dealt to the shards by estimated cost; this shard trains its arms, runs its studies and writes its part, " +
                "reproduce.part-I-of-N.json, to --out (no report, no helper processes). `intriguing merge DIR... --out REPORT` writes the report of the " +
                "whole run. Shards that share $INTRIGUING_HOME train each zoo model once (the first that needs it; the others wait for it).",
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
            extended,
            workers,
            trainArms,
            shard,
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
            bool isExtended = parseResult.GetValue(extended);
            string deviceName = parseResult.GetValue(device)!;
            int workerCount = parseResult.GetValue(workers) ?? (Environment.ProcessorCount >= 2 && !isQuick ? 2 : 1);
            if (workerCount < 1 || workerCount > 64)
            {
                throw new BadInputException($"--workers must be 1..64; got {workerCount}");
            }
            if (parseResult.GetValue(trainArms) is { } armList)
            {
                return TrainArmsOnly(context, armList, datasetChoice, parseResult.GetValue(dataDir), parseResult.GetValue(seed), isQuick, isExtended,
                    parseResult.GetValue(quiet), ComputeDevice.Parse(deviceName));
            }
            string folder = CommonOptions.CheckOut(parseResult.GetValue(outDir) ?? (isQuick ? "reports-quick" : "reports"))!;
            var settings = new ReproductionSettings(folder, parseResult.GetValue(seed), isQuick, datasetChoice.Spec?.Name ?? DatasetChoice.FolderPrefix + datasetChoice.FolderPath, parseResult.GetValue(dataDir),
                "intriguing " + string.Join(' ', parseResult.Tokens.Select(token => token.Value)), deviceName, datasetChoice.Resize);
            bool isQuiet = parseResult.GetValue(quiet);
            if (parseResult.GetValue(shard) is { } shardText)
            {
                return RunShard(context, settings, Shard.Parse(shardText), isExtended, isQuiet, parseResult.GetValue(resize));
            }
            // The helpers' options: what decides an arm's numbers (seed, mode, data), nothing about the report.
            var helperArguments = new List<string> { "--seed", settings.Seed.ToString(CultureInfo.InvariantCulture), "--dataset", parseResult.GetValue(dataset)! };
            if (parseResult.GetValue(resize) is { } size)
            {
                helperArguments.AddRange(["--resize", size]);
            }
            if (settings.DataDir is { } folderOfData)
            {
                helperArguments.AddRange(["--data-dir", folderOfData]);
            }
            if (isQuick)
            {
                helperArguments.Add("--quick");
            }
            if (isExtended)
            {
                helperArguments.Add("--extended");
            }
            helperArguments.AddRange(["--device", deviceName]);
            IReadOnlyList<string> helperFailures = [];
            ReproductionResult Work(IProgress<ProgressUpdate> progress)
            {
                // The helpers start with the adversarial-training study, not before: the studies before it keep both cores
                // busy themselves, while its fc100-100-10 arms train on one thread each.
                HelperProcesses? helpers = null;
                try
                {
                    var run = ReproductionRun.Run(settings, Studies(isQuick, isExtended), progress, key =>
                    {
                        if (key == AdversarialTrainingStudy.StudyKey && workerCount > 1)
                        {
                            helpers = HelperProcesses.Start(workerCount, AdversarialTrainingStudy.HelperArms(isQuick, isExtended), helperArguments,
                                Path.Combine(folder, ".results"));
                        }
                    });
                    helperFailures = helpers?.WaitForAll() ?? [];
                    return run;
                }
                finally
                {
                    helpers?.Dispose();
                }
            }
            // One display for the whole run: a line per study with its elapsed time, the study's own work beneath it.
            var result = isQuiet
                ? ProgressDisplay.Quiet(context.Io.StandardError, Work)
                : ProgressDisplay.Run(context.Console, Work, ReproductionRun.StudyTaskPrefix);
            foreach (var failure in helperFailures)
            {
                context.Io.StandardError.WriteLine($"intriguing: warning: {failure}");
            }
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

    /// <summary>What <c>reproduce --shard</c> prints: the part it wrote and the work it did.</summary>
    public sealed record ShardSummary(string Part, string Shard, IReadOnlyList<string> Studies, IReadOnlyList<string> Arms, IReadOnlyList<string> Resumed,
        double Seconds, int Seed, bool Quick, IReadOnlyList<string> Failed);

    private static int RunShard(CommandContext context, ReproductionSettings settings, Shard shard, bool extended, bool quiet, string? resize)
    {
        var studies = Studies(settings.Quick, extended);
        ReproductionPart Work(IProgress<ProgressUpdate> progress) => ReproductionRun.RunPart(settings, studies, shard, progress);
        var part = quiet ? ProgressDisplay.Quiet(context.Io.StandardError, Work) : ProgressDisplay.Run(context.Console, Work, ReproductionRun.StudyTaskPrefix);
        int total = studies.Count + ReproductionShards.ArmsOf(studies, settings).Count;
        var manifest = new ShardManifest("reproduce", PartSettings(settings, extended, resize), shard.ToString(), total, 0, part.Units.Count,
            settings.Dataset, part.Models, ReproductionRun.CodeVersion, Units: part.Units);
        string path = ShardParts.Write(settings.OutDir, manifest, part);
        var summary = new ShardSummary(path, shard.ToString(), [.. part.Sections.Select(section => section.Key)], part.Arms,
            [.. part.WallTimes.Where(time => time.Resumed).Select(time => time.Study)], part.Seconds, settings.Seed, settings.Quick,
            [.. part.WallTimes.Where(time => time.Failed).Select(time => time.Study)]);
        context.Emit(summary, console => console.MarkupLine(
            $"Shard {shard}: {(part.Arms.Count > 0 ? $"arms {Markup.Escape(string.Join(", ", part.Arms))}; " : "")}studies " +
            $"{Markup.Escape(string.Join(", ", summary.Studies))} in {part.Seconds:F0} s; part written to [bold]{Markup.Escape(path)}[/]."));
        return summary.Failed.Count > 0 ? ExitCodes.Failed : ExitCodes.Success;
    }

    /// <summary>The settings a reproduce part records: everything a section's numbers depend on (the report folder does not).</summary>
    private static Dictionary<string, string> PartSettings(ReproductionSettings settings, bool extended, string? resize) => new()
    {
        ["seed"] = settings.Seed.ToString(CultureInfo.InvariantCulture),
        ["quick"] = settings.Quick ? "true" : "false",
        ["extended"] = extended && !settings.Quick ? "true" : "false",
        ["dataset"] = settings.Dataset,
        ["resize"] = resize ?? "",
        ["device"] = ComputeDevice.Parse(settings.Device).ToString(),
    };

    /// <summary>
    /// The report of a <c>reproduce</c> split with <c>--shard</c>, from its parts, written to <paramref name="outFolder"/>:
    /// every section as the shard that ran it kept it (see <see cref="ReproductionRun.Merge"/>).
    /// </summary>
    public static ReproductionResult Merge(IReadOnlyList<ShardPart> parts, string? outFolder, string commandLine)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (outFolder is null)
        {
            throw new BadInputException("merge: reproduce parts make a report: give --out DIR for report.html, report.md, report.json and figures/");
        }
        var settings = parts[0].Manifest.Settings;
        string Setting(string key) => settings.TryGetValue(key, out var value) ? value
            : throw new BadInputException($"merge: the manifest of '{parts[0].Path}' lacks the setting {key}");
        bool quick = Setting("quick") == "true";
        if (!int.TryParse(Setting("seed"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int seed))
        {
            throw new BadInputException($"merge: the manifest of '{parts[0].Path}' gives the seed '{Setting("seed")}'; expected an integer");
        }
        var run = new ReproductionSettings(outFolder, seed, quick, Setting("dataset"), null, commandLine,
            Setting("device"), Setting("resize") is { Length: > 0 } size ? ImageSize.Parse(size) : null);
        var payloads = parts.Select(part => part.Read<ReproductionPart>("reproduce part",
            payload => payload is { Sections: not null, WallTimes: not null, Arms: not null, DataOrigin: not null })).ToList();
        return ReproductionRun.Merge(payloads, Studies(quick, Setting("extended") == "true"), run);
    }

    /// <summary>The arms summary of <c>--train-arms</c>.</summary>
    public sealed record TrainArmsSummary(IReadOnlyList<string> Arms, IReadOnlyList<string> Models, double Seconds, int Seed, bool Quick);

    private static int TrainArmsOnly(CommandContext context, string list, DatasetChoice datasetChoice, string? dataDir, int seed,
        bool quick, bool extended, bool quiet, TorchSharp.torch.Device device)
    {
        var names = list.Trim() == "all"
            ? [.. AdversarialTrainingStudy.ForRun(AdversarialTrainingStudy.DefaultArms, quick, seed, extended).Select(arm => arm.Name)]
            : list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        if (names.Count == 0)
        {
            throw new BadInputException("--train-arms: give at least one arm name (or all)");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<Intriguing.Training.Adversarial.AdversarialTrainingResult> Work(IProgress<ProgressUpdate> progress)
        {
            using var data = ImageDataset.Load(datasetChoice, dataDir, progress);
            return AdversarialTrainingStudy.TrainArms(data, names, seed, quick, extended, progress, device);
        }
        var results = quiet ? ProgressDisplay.Quiet(context.Io.StandardError, Work) : ProgressDisplay.Run(context.Console, Work);
        var summary = new TrainArmsSummary(names, [.. results.Select(result => result.Path)], Math.Round(clock.Elapsed.TotalSeconds, 1), seed, quick);
        context.Emit(summary, console =>
            console.MarkupLine($"Trained and evaluated {Markup.Escape(string.Join(", ", names))} into the model cache in {summary.Seconds:F0} s."));
        return ExitCodes.Success;
    }
}
