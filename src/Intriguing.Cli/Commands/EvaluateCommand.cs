using System.CommandLine;
using System.Globalization;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Sharding;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing evaluate --model M --eps E [--norm linf|l2] [--version standard|fast] [--count N]</c>: robust accuracy
/// under the AutoAttack cascade on the first <c>--count</c> test images, with which attack broke how many images, the
/// 95% interval, the time per attack, and the reference implementation's sanity checks as warnings.
/// </summary>
public static class EvaluateCommand
{
    /// <summary>One stage in the JSON: its name, the images it was given and broke, its seconds and settings.</summary>
    public sealed record StageReport(string Name, int Attacked, int BrokeImages, double Seconds, string Settings);

    /// <summary>The JSON document (fields of the contract first).</summary>
    public sealed record EvaluateReport(
        string Model,
        double Eps,
        string Norm,
        string Version,
        int Count,
        double CleanAccuracy,
        double RobustAccuracy,
        double[] RobustInterval,
        IReadOnlyList<StageReport> Attacks,
        IReadOnlyList<string> Warnings,
        double Seconds,
        int Seed,
        string Device,
        int Threads,
        string Dataset = "mnist");

    public static Command Create(CliIo io)
    {
        var model = CommonOptions.ModelOrForeignFile("Model to evaluate");
        var declaration = CommonOptions.Declaration();
        var eps = new Option<double?>("--eps")
        {
            Description = "Radius of the threat model: L-inf (default 0.3, MNIST's usual) or L2 (default 2.0) with --norm l2.",
        };
        var norm = new Option<string>("--norm")
        {
            Description = "Threat model: linf or l2.",
            DefaultValueFactory = _ => "linf",
        };
        var version = new Option<string>("--version")
        {
            Description = "standard: APGD-CE, APGD-T (9 targets), FAB-T (9 targets), Square (5,000 queries), AutoAttack's cascade; " +
                "fast: the two APGD attacks only.",
            DefaultValueFactory = _ => "standard",
        };
        var count = new Option<int>("--count")
        {
            Description = "How many test images, the first ones in order.",
            DefaultValueFactory = _ => 1000,
        };
        var seed = CommonOptions.Seed();
        var batch = new Option<int>("--batch")
        {
            Description = "Images attacked at once by each attack.",
            DefaultValueFactory = _ => 500,
        };
        var dataDir = CommonOptions.DataDir();
        var device = CommonOptions.Device();
        var quick = CommonOptions.QuickModels();
        var threads = CommonOptions.Threads();
        var dataset = CommonOptions.Dataset();
        var resize = CommonOptions.Resize();
        var shard = CommonOptions.Shard();
        var output = CommonOptions.Out("With --shard: the folder this shard writes its part to (evaluate.part-I-of-N.json).");
        var command = new Command("evaluate",
            "Robust accuracy under AutoAttack (Croce and Hein 2020): an image counts as robust only if the model classifies it " +
            "correctly and every attack of the cascade fails on it. Each attack runs on the images still robust; every success " +
            "is verified by a fresh forward pass. Warnings flag randomised models, probability outputs, zero gradients and " +
            "gradient masking.")
        {
            model, eps, norm, version, count, seed, batch, dataDir, dataset, resize, device, quick, threads, shard, output,
        };
        declaration.Add(command);
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            var threatNorm = parseResult.GetValue(norm)!.Trim().ToLowerInvariant() switch
            {
                "linf" or "l-inf" or "inf" => ThreatNorm.Linf,
                "l2" => ThreatNorm.L2,
                var other => throw new BadInputException($"--norm: unknown norm '{other}'; expected linf or l2"),
            };
            var cascade = parseResult.GetValue(version)!.Trim().ToLowerInvariant() switch
            {
                "standard" => AutoAttackVersion.Standard,
                "fast" => AutoAttackVersion.Fast,
                var other => throw new BadInputException($"--version: unknown version '{other}'; expected standard or fast"),
            };
            double epsilon = parseResult.GetValue(eps) ?? (threatNorm == ThreatNorm.Linf ? 0.3 : 2.0);
            int imageCount = parseResult.GetValue(count);
            int batchSize = parseResult.GetValue(batch);
            int seedValue = parseResult.GetValue(seed);
            if (imageCount < 1 || imageCount > 10_000)
            {
                throw new BadInputException($"--count must be 1..10000 (test images); got {imageCount}");
            }
            if (batchSize < 1)
            {
                throw new BadInputException($"--batch must be at least 1; got {batchSize}");
            }
            // Settings are checked before any data is loaded or model trained.
            AutoAttack.Stages(cascade, threatNorm, epsilon, seedValue);
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            string modelName = parseResult.GetValue(model)!;
            var declared = declaration.Read(parseResult);
            CommonOptions.CheckModel(modelName, declared);
            string? outFolder = CommonOptions.CheckOut(parseResult.GetValue(output));
            var part = CommonOptions.ParseShard(parseResult.GetValue(shard), outFolder);
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            var target = ComputeDevice.Parse(parseResult.GetValue(device)!);

            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                using var trained = ModelStore.GetOrTrain(modelName, data, Split.Train, seedValue, parseResult.GetValue(quick), progress: progress, device: target,
                    declaration: declared);
                // A folder dataset may hold fewer test images than --count asks for: all of them are evaluated then.
                int total = Math.Min(imageCount, data.Test.Count);
                if (!part.IsSplit)
                {
                    using var test = data.Test.Slice(0, total);
                    using var result = AutoAttack.Run(trained.Model, test.Images.to(target), test.Labels.to(target), epsilon, threatNorm, cascade,
                        seedValue, batchSize, progress);
                    return ToReport(CascadeTotals.Of(result), trained.Name, seedValue, target.ToString(), data.Name);
                }
                // A shard: its own images, numbered in the whole run, and the checks on the whole run's first images,
                // so that the merged parts say exactly what one unsplit run says.
                var (start, length) = part.Range(total);
                if (length == 0)
                {
                    throw new BadInputException($"--shard {part}: {total} images split {part.Count} ways leave this shard none; use at most {total} shards");
                }
                IReadOnlyList<string> checks;
                using (var sample = data.Test.Slice(0, Math.Min(AutoAttackChecks.SampleSize, total)))
                {
                    checks = AutoAttackChecks.Before(trained.Model, sample.Images.to(target), sample.Labels.to(target));
                }
                using var mine = data.Test.Slice(start, length);
                using var shardResult = AutoAttack.Run(trained.Model, mine.Images.to(target), mine.Labels.to(target), epsilon, threatNorm, cascade,
                    seedValue, batchSize, progress, firstImage: start, checksBefore: checks);
                var manifest = new ShardManifest("evaluate",
                    Settings(epsilon, threatNorm, cascade, seedValue, total, parseResult.GetValue(quick), target.ToString()),
                    part.ToString(), total, start, length, data.Name,
                    new Dictionary<string, string> { [trained.Name] = ShardParts.Fingerprint(trained.Path) }, Intriguing.Reproduction.ReproductionRun.CodeVersion);
                ShardParts.Write(outFolder!, manifest, CascadeParts.Of(shardResult, start, checks));
                return ToReport(CascadeTotals.Of(shardResult), trained.Name, seedValue, target.ToString(), data.Name);
            });
            context.Emit(report, console => Render(console, report));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The settings a part records: everything that changes a number (the batch size does not).</summary>
    private static Dictionary<string, string> Settings(double epsilon, ThreatNorm norm, AutoAttackVersion version, int seed, int count, bool quick, string device) => new()
    {
        ["device"] = device,
        ["eps"] = epsilon.ToString("R", CultureInfo.InvariantCulture),
        ["norm"] = NormName(norm),
        ["version"] = version.ToString().ToLowerInvariant(),
        ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
        ["count"] = count.ToString(CultureInfo.InvariantCulture),
        ["quickModels"] = quick ? "true" : "false",
    };

    private static string NormName(ThreatNorm norm) => norm == ThreatNorm.Linf ? "linf" : "l2";

    /// <summary>The JSON document of a run's (or merged parts') totals.</summary>
    internal static EvaluateReport ToReport(CascadeTotals totals, string model, int seed, string device, string dataset) => new(
        model, totals.Epsilon, NormName(totals.Norm), totals.Version.ToString().ToLowerInvariant(), totals.Count,
        totals.CleanAccuracy, totals.RobustAccuracy, totals.RobustInterval,
        [.. totals.Stages.Select(stage => new StageReport(stage.Name, stage.Attacked, stage.BrokeImages, Math.Round(stage.Seconds, 2), stage.Settings))],
        totals.Warnings, Math.Round(totals.Seconds, 2), seed, device, TorchSharp.torch.get_num_threads(), dataset);

    internal static void Render(IAnsiConsole console, EvaluateReport report)
    {
        var table = new Table()
            .Title($"AutoAttack ({report.Version}) on {Markup.Escape(report.Model)}: {report.Norm} eps {report.Eps.ToString(CultureInfo.InvariantCulture)}, {report.Count} test images of {Markup.Escape(report.Dataset)}")
            .AddColumn("attack")
            .AddColumn(new TableColumn("images attacked").RightAligned())
            .AddColumn(new TableColumn("broke").RightAligned())
            .AddColumn(new TableColumn("robust after").RightAligned())
            .AddColumn(new TableColumn("seconds").RightAligned());
        int correct = (int)Math.Round(report.CleanAccuracy * report.Count);
        table.AddRow("clean", report.Count.ToString(CultureInfo.InvariantCulture), (report.Count - correct).ToString(CultureInfo.InvariantCulture),
            Percent(report.CleanAccuracy), "");
        int robust = correct;
        foreach (var stage in report.Attacks)
        {
            robust -= stage.BrokeImages;
            table.AddRow(stage.Name, stage.Attacked.ToString(CultureInfo.InvariantCulture), stage.BrokeImages.ToString(CultureInfo.InvariantCulture),
                Percent((double)robust / report.Count), stage.Seconds.ToString("F1", CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.MarkupLine($"robust accuracy [bold]{Percent(report.RobustAccuracy)}[/] (95% Wilson interval {Percent(report.RobustInterval[0])} to {Percent(report.RobustInterval[1])}), " +
            $"clean accuracy {Percent(report.CleanAccuracy)}; {report.Seconds:F1} s");
        foreach (var warning in report.Warnings)
        {
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
        }
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
