using System.CommandLine;
using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Models;
using Spectre.Console;
using TorchSharp;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing bench</c>: gradient evaluations per second inside PGD and L-BFGS against a plain TorchSharp
/// forward+backward loop over the same model and batch, in the same run, plus L-BFGS (with its c search) images per
/// second and gradient evaluations per image (<see cref="AttackBenchmark"/>).
/// </summary>
public static class BenchCommand
{
    /// <summary>
    /// The floor the engine keeps on the paper's path (fc100-100-10, one thread): PGD at 0.8 of the raw loop's gradient
    /// rate, L-BFGS at 0.5 and 1,000 images per second, at most 1,000 gradients per image. (An L-BFGS ratio of 0.85 was
    /// found out of reach on this model: its per-image optimiser work is a fixed share of a pass this small; docs/attacks.md.)
    /// </summary>
    public sealed record BenchTargets(double PgdRatio, double LbfgsRatio, double LbfgsImagesPerSecond, double LbfgsGradientsPerImage);

    /// <summary>The fields of docs/json-output.md, in its order.</summary>
    public sealed record BenchReport(
        string Model,
        int Batch,
        double RawGradientsPerSecond,
        double AttackGradientsPerSecond,
        double Ratio,
        double LbfgsImagesPerSecond,
        double LbfgsGradientsPerImage,
        double PgdGradientsPerSecond,
        double LbfgsGradientsPerSecond,
        double PgdRatio,
        double LbfgsRatio,
        double LbfgsSuccessRate,
        double? LbfgsMeanDistortion,
        int Threads,
        int Repetitions,
        BenchTargets Targets,
        bool MeetsTargets);

    private static readonly BenchTargets IssueTargets = new(0.8, 0.5, 1000, 1000);

    public static Command Create(CliIo io)
    {
        var model = new Option<string>("--model")
        {
            Description = "Model to measure on (zoo name or model file).",
            DefaultValueFactory = _ => "fc100-100-10",
        };
        var batch = new Option<int>("--batch")
        {
            Description = "Test images in the batch (the first ones).",
            DefaultValueFactory = _ => 1000,
        };
        var quick = new Option<bool>("--quick")
        {
            Description = "Use (or train) the quick-recipe model.",
        };
        var threads = CommonOptions.Threads();
        var repetitions = new Option<int>("--repetitions")
        {
            Description = "Rounds of raw / PGD / raw / L-BFGS / raw; the round with the median ratio is reported.",
            DefaultValueFactory = _ => 3,
        };
        var dataDir = CommonOptions.DataDir();
        var device = CommonOptions.Device();
        var command = new Command("bench", "Measure the attacks' gradient throughput against a raw TorchSharp loop, and L-BFGS images per second.")
        {
            model, batch, quick, threads, repetitions, dataDir, device,
        };
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            string modelName = parseResult.GetValue(model)!;
            int batchSize = parseResult.GetValue(batch);
            if (batchSize < 1 || batchSize > 10_000)
            {
                throw new BadInputException($"--batch must be 1..10000 (test images); got {batchSize}");
            }
            if (!modelName.Contains('/') && !modelName.EndsWith(ModelStore.Extension, StringComparison.OrdinalIgnoreCase))
            {
                ModelZoo.Get(modelName);
            }
            int repetitionCount = parseResult.GetValue(repetitions);
            if (repetitionCount < 1 || repetitionCount > 100)
            {
                throw new BadInputException($"--repetitions must be 1..100; got {repetitionCount}");
            }
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            var target = ComputeDevice.Parse(parseResult.GetValue(device)!);
            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load("mnist", parseResult.GetValue(dataDir), progress);
                // Loaded (or trained) on the device the benchmark runs on, as train and reproduce do.
                using var trained = ModelStore.GetOrTrain(modelName, data, quick: parseResult.GetValue(quick), progress: progress, device: target);
                using var images = data.Test.Slice(0, batchSize);
                var result = AttackBenchmark.Run(trained.Model, images.Images.to(target), images.Labels.to(target),
                    repetitions: repetitionCount, progress: progress);
                // Asked of the gradient rate inside each attack, so both attacks must reach their floor.
                bool meets = result.PgdRatio >= IssueTargets.PgdRatio && result.LbfgsRatio >= IssueTargets.LbfgsRatio
                    && result.LbfgsImagesPerSecond >= IssueTargets.LbfgsImagesPerSecond
                    && result.LbfgsGradientsPerImage <= IssueTargets.LbfgsGradientsPerImage;
                return new BenchReport(
                    trained.Name, result.Batch, Math.Round(result.RawGradientsPerSecond), Math.Round(result.AttackGradientsPerSecond),
                    Math.Round(result.Ratio, 3), Math.Round(result.LbfgsImagesPerSecond, 1), Math.Round(result.LbfgsGradientsPerImage, 1),
                    Math.Round(result.PgdGradientsPerSecond), Math.Round(result.LbfgsGradientsPerSecond),
                    Math.Round(result.PgdRatio, 3), Math.Round(result.LbfgsRatio, 3), result.LbfgsSuccessRate,
                    double.IsFinite(result.LbfgsMeanDistortion) ? result.LbfgsMeanDistortion : null,
                    result.Threads, result.Repetitions, IssueTargets, meets);
            });
            context.Emit(report, console => Render(console, report));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Render(IAnsiConsole console, BenchReport report)
    {
        var table = new Table()
            .Title($"attack throughput on {Markup.Escape(report.Model)}, batch {report.Batch}, {report.Threads} thread(s), median of {report.Repetitions} rounds")
            .AddColumn("measure")
            .AddColumn(new TableColumn("ours").RightAligned())
            .AddColumn(new TableColumn("target").RightAligned());
        table.AddRow("raw forward+backward (image gradients/s)", Number(report.RawGradientsPerSecond), "");
        table.AddRow("PGD (image gradients/s)", Number(report.PgdGradientsPerSecond), "");
        table.AddRow("L-BFGS (image gradients/s)", Number(report.LbfgsGradientsPerSecond), "");
        table.AddRow("attacks / raw (both together)", Ratio(report.Ratio), "");
        table.AddRow("  PGD / raw", Ratio(report.PgdRatio), $">= {Ratio(report.Targets.PgdRatio)}");
        table.AddRow("  L-BFGS / raw", Ratio(report.LbfgsRatio), $">= {Ratio(report.Targets.LbfgsRatio)}");
        table.AddRow("L-BFGS with c search (images/s)", report.LbfgsImagesPerSecond.ToString("F1", CultureInfo.InvariantCulture), $">= {report.Targets.LbfgsImagesPerSecond:F0}");
        table.AddRow("L-BFGS gradient evaluations per image", report.LbfgsGradientsPerImage.ToString("F1", CultureInfo.InvariantCulture), $"<= {report.Targets.LbfgsGradientsPerImage:F0}");
        table.AddRow("L-BFGS success / mean distortion", $"{report.LbfgsSuccessRate:P1} / {report.LbfgsMeanDistortion:F4}", "");
        console.Write(table);
    }

    private static string Number(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ratio(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
