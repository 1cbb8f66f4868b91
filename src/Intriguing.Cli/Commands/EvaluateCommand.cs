using System.CommandLine;
using System.Globalization;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Evaluation;
using Intriguing.Models;
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
        var command = new Command("evaluate",
            "Robust accuracy under AutoAttack (Croce and Hein 2020): an image counts as robust only if the model classifies it " +
            "correctly and every attack of the cascade fails on it. Each attack runs on the images still robust; every success " +
            "is verified by a fresh forward pass. Warnings flag randomised models, probability outputs, zero gradients and " +
            "gradient masking.")
        {
            model, eps, norm, version, count, seed, batch, dataDir, dataset, resize, device, quick, threads,
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
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            var target = ComputeDevice.Parse(parseResult.GetValue(device)!);

            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                using var trained = ModelStore.GetOrTrain(modelName, data, Split.Train, seedValue, parseResult.GetValue(quick), progress: progress, device: target,
                    declaration: declared);
                // A folder dataset may hold fewer test images than --count asks for: all of them are evaluated then.
                using var test = data.Test.Slice(0, Math.Min(imageCount, data.Test.Count));
                using var result = AutoAttack.Run(trained.Model, test.Images.to(target), test.Labels.to(target), epsilon, threatNorm, cascade,
                    seedValue, batchSize, progress);
                return new EvaluateReport(
                    trained.Name, epsilon, threatNorm == ThreatNorm.Linf ? "linf" : "l2", cascade.ToString().ToLowerInvariant(), result.Count,
                    result.CleanAccuracy, result.RobustAccuracy, result.RobustInterval,
                    [.. result.Stages.Select(stage => new StageReport(stage.Name, stage.Attacked, stage.BrokeImages, Math.Round(stage.Seconds, 2), stage.Settings))],
                    result.Warnings, Math.Round(result.Seconds, 2), seedValue, target.ToString(), TorchSharp.torch.get_num_threads(), data.Name);
            });
            context.Emit(report, console => Render(console, report));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Render(IAnsiConsole console, EvaluateReport report)
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
