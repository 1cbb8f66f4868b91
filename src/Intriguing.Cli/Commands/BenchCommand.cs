using System.CommandLine;
using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Training.Adversarial;
using Spectre.Console;
using TorchSharp;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing bench</c>: gradient evaluations per second inside PGD and L-BFGS against a plain TorchSharp
/// forward+backward loop over the same model and batch, in the same run, plus L-BFGS (with its c search) images per
/// second and gradient evaluations per image (<see cref="AttackBenchmark"/>); with <c>--training</c>, what a PGD-k
/// and an FGSM training epoch cost beyond their bare passes, at one and two threads (<see cref="TrainingBenchmark"/>).
/// Given an ONNX model (scores only), Square's query throughput against ONNX Runtime's raw forward calls instead
/// (<see cref="SquareBenchmark"/>).
/// </summary>
public static class BenchCommand
{
    /// <summary>
    /// The floor the engine keeps on the paper's path (fc100-100-10, one thread): PGD at 0.8 of the raw loop's gradient
    /// rate, L-BFGS at 0.5 and 1,000 images per second, at most 1,000 gradients per image. (An L-BFGS ratio of 0.85 was
    /// found out of reach on this model: its per-image optimiser work is a fixed share of a pass this small; docs/attacks.md.)
    /// </summary>
    public sealed record BenchTargets(double PgdRatio, double LbfgsRatio, double LbfgsImagesPerSecond, double LbfgsGradientsPerImage, double TrainingOverhead);

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
        bool MeetsTargets,
        IReadOnlyList<TrainingBenchmark.Result>? Training);

    /// <summary>Square on an ONNX model: the fields of docs/json-output.md; the floor is 0.8 of ONNX Runtime's raw rate.</summary>
    public sealed record SquareBenchReport(
        string Model,
        int Images,
        double Epsilon,
        int QueryBudget,
        long Queries,
        double QueriesPerSecond,
        double RawRowsPerSecond,
        double Ratio,
        int ForwardCalls,
        double SquareSeconds,
        double SuccessRate,
        double? MedianQueries,
        int Threads,
        int Repetitions,
        double TargetRatio,
        bool MeetsTargets);

    /// <summary>Square's rows per second at least this share of ONNX Runtime's on the same calls.</summary>
    private const double SquareTargetRatio = 0.8;

    /// <summary>The floors above, and an adversarial-training epoch at most 15% above its bare passes.</summary>
    private static readonly BenchTargets IssueTargets = new(0.8, 0.5, 1000, 1000, 0.15);

    public static Command Create(CliIo io)
    {
        var model = new Option<string>("--model")
        {
            Description = "Model to measure on (zoo name or model file). An ONNX file (.onnx, declared by <name>.json or model.json " +
                "beside it, or --input-shape and --classes) measures Square's queries per second against ONNX Runtime's raw forward calls.",
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
        var training = new Option<bool>("--training")
        {
            Description = "Also measure adversarial training: a PGD-k and an FGSM training epoch against the bare passes they need (k input gradients and one training step per batch), at 1 and 2 threads, on a fresh model of --model.",
        };
        var trainingSteps = new Option<int>("--training-steps")
        {
            Description = "k, the PGD steps per batch of the PGD training measured with --training.",
            DefaultValueFactory = _ => 10,
        };
        var trainingBatches = new Option<int>("--training-batches")
        {
            Description = "Training batches per measured epoch part with --training (the epoch time is scaled to a whole epoch).",
            DefaultValueFactory = _ => 50,
        };
        var eps = new Option<double?>("--eps")
        {
            Description = "L-inf budget: of Square on an ONNX model (default 0.1), of the cascade with --autoattack (default 0.3).",
        };
        var autoAttack = new Option<bool>("--autoattack")
        {
            Description = "Measure the standard AutoAttack cascade (APGD-CE, APGD-T, FAB-T, Square) on --model over --batch images at --eps: " +
                "its gradient stages' image gradients per second against the raw forward+backward loop, Square's queries per second against a raw forward loop.",
        };
        var queries = new Option<int?>("--queries")
        {
            Description = "Square's query budget per image on an ONNX model (default 5000).",
        };
        var dataDir = CommonOptions.DataDir();
        var device = CommonOptions.Device();
        var declaration = CommonOptions.Declaration();
        var command = new Command("bench", "Measure the attacks' gradient throughput against a raw TorchSharp loop, and L-BFGS images per second; with --training, adversarial training's overhead; on an ONNX model, Square's queries per second against ONNX Runtime.")
        {
            model, batch, quick, threads, repetitions, training, trainingSteps, trainingBatches, autoAttack, eps, queries, dataDir, device,
        };
        declaration.Add(command);
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            string modelName = parseResult.GetValue(model)!;
            if (ModelStore.IsPath(modelName) && ModelStore.FormatOf(modelName) == ModelStore.FileFormat.Onnx)
            {
                return RunSquare(context, parseResult, modelName, declaration, batch, repetitions, eps, queries, threads, dataDir);
            }
            if (parseResult.GetValue(queries) is not null)
            {
                throw new BadInputException("--queries applies to Square on an ONNX model (--model FILE.onnx) only");
            }
            if (parseResult.GetValue(autoAttack))
            {
                return RunCascade(context, parseResult, modelName, batch, eps, threads, dataDir, device, quick);
            }
            int batchSize = parseResult.GetValue(batch);
            if (batchSize < 1 || batchSize > 10_000)
            {
                throw new BadInputException($"--batch must be 1..10000 (test images); got {batchSize}");
            }
            if (parseResult.GetValue(eps) is not null)
            {
                throw new BadInputException("--eps applies to --autoattack and to Square on an ONNX model only; the gradient-rate bench has no budget");
            }
            bool isFile = ModelStore.IsPath(modelName);
            int repetitionCount = parseResult.GetValue(repetitions);
            if (repetitionCount < 1 || repetitionCount > 100)
            {
                throw new BadInputException($"--repetitions must be 1..100; got {repetitionCount}");
            }
            bool measureTraining = parseResult.GetValue(training);
            int steps = parseResult.GetValue(trainingSteps), trainBatches = parseResult.GetValue(trainingBatches);
            if (measureTraining && isFile)
            {
                throw new BadInputException($"--training needs a zoo model name (it trains a fresh one); got the file '{modelName}'");
            }
            if (steps is < 1 or > 1000 || trainBatches is < 1 or > 10_000)
            {
                throw new BadInputException($"--training-steps must be 1..1000 and --training-batches 1..10000; got {steps} and {trainBatches}");
            }
            CommonOptions.CheckModel(modelName);
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
                List<TrainingBenchmark.Result>? trainingResults = null;
                if (measureTraining)
                {
                    var spec = ModelZoo.Get(modelName);
                    trainingResults =
                    [
                        TrainingBenchmark.Run(spec, data.Train, AdversarialMethod.Pgd, steps, 0.3, trainBatches, repetitionCount, progress: progress),
                        TrainingBenchmark.Run(spec, data.Train, AdversarialMethod.Fgsm, 1, 0.25, trainBatches, repetitionCount, progress: progress),
                    ];
                    // Asked of the faster thread count: the one training would use.
                    meets &= trainingResults.All(measured => measured.ByThreads.Min(entry => entry.Overhead) <= IssueTargets.TrainingOverhead);
                }
                return new BenchReport(
                    trained.Name, result.Batch, Math.Round(result.RawGradientsPerSecond), Math.Round(result.AttackGradientsPerSecond),
                    Math.Round(result.Ratio, 3), Math.Round(result.LbfgsImagesPerSecond, 1), Math.Round(result.LbfgsGradientsPerImage, 1),
                    Math.Round(result.PgdGradientsPerSecond), Math.Round(result.LbfgsGradientsPerSecond),
                    Math.Round(result.PgdRatio, 3), Math.Round(result.LbfgsRatio, 3), result.LbfgsSuccessRate,
                    double.IsFinite(result.LbfgsMeanDistortion) ? result.LbfgsMeanDistortion : null,
                    result.Threads, result.Repetitions, IssueTargets, meets, trainingResults);
            });
            context.Emit(report, console => Render(console, report));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Square on an ONNX model against ONNX Runtime's raw forward calls (<see cref="SquareBenchmark"/>).</summary>
    private static int RunSquare(CommandContext context, ParseResult parseResult, string modelName, CommonOptions.DeclarationGroup declaration,
        Option<int> batch, Option<int> repetitions, Option<double?> eps, Option<int?> queries, Option<int?> threads, Option<string?> dataDir)
    {
        int images = parseResult.GetValue(batch), rounds = parseResult.GetValue(repetitions);
        if (images < 1 || images > 10_000 || rounds < 1 || rounds > 100)
        {
            throw new BadInputException($"--batch must be 1..10000 and --repetitions 1..100; got {images} and {rounds}");
        }
        var square = new SquareLinf { Epsilon = parseResult.GetValue(eps) ?? 0.1, Queries = parseResult.GetValue(queries) ?? 5000 };
        square.Validate();
        var declared = declaration.Read(parseResult);
        CommonOptions.CheckModel(modelName, declared);
        CommonOptions.ApplyThreads(parseResult.GetValue(threads));
        var report = ProgressDisplay.Run(context.Console, progress =>
        {
            using var data = ImageDataset.Load("mnist", parseResult.GetValue(dataDir), progress);
            using var loaded = ModelStore.LoadFile(modelName, declared, progress);
            var onnx = (OnnxClassifier)loaded.Model;
            ModelStore.CheckFits(onnx.Input.Shape, modelName, data);
            using var test = data.Test.Slice(0, images);
            var result = SquareBenchmark.Run(onnx, square, test.Images, test.Labels, rounds, progress);
            return new SquareBenchReport(loaded.Name, result.Images, square.Epsilon, result.QueryBudget, result.Queries,
                Math.Round(result.QueriesPerSecond), Math.Round(result.RawRowsPerSecond), Math.Round(result.Ratio, 3), result.ForwardCalls,
                Math.Round(result.SquareSeconds, 2), result.SuccessRate, result.MedianQueries, TorchSharp.torch.get_num_threads(), rounds,
                SquareTargetRatio, result.Ratio >= SquareTargetRatio);
        });
        context.Emit(report, console =>
        {
            var table = new Table()
                .Title($"Square (L-inf eps {report.Epsilon.ToString(CultureInfo.InvariantCulture)}, {report.QueryBudget} queries) on {Markup.Escape(report.Model)}, {report.Images} images, median of {report.Repetitions} rounds")
                .AddColumn("measure")
                .AddColumn(new TableColumn("ours").RightAligned())
                .AddColumn(new TableColumn("target").RightAligned());
            table.AddRow("ONNX Runtime, the same calls replayed (rows/s)", Number(report.RawRowsPerSecond), "");
            table.AddRow("Square (queries/s)", Number(report.QueriesPerSecond), "");
            table.AddRow("Square / raw", Ratio(report.Ratio), $">= {Ratio(report.TargetRatio)}");
            table.AddRow("forward calls / queries in all", $"{Number(report.ForwardCalls)} / {Number(report.Queries)}", "");
            table.AddRow("success (of correctly classified) / median queries", $"{report.SuccessRate:P1} / {(report.MedianQueries is double median ? Number(median) : "-")}", "");
            console.Write(table);
        });
        return ExitCodes.Success;
    }

    /// <summary>The cascade on a model: the fields of docs/json-output.md; the floor is 0.8 of the raw loops' rates.</summary>
    public sealed record CascadeBenchReport(
        string Model,
        int Images,
        double Epsilon,
        double RobustAccuracy,
        double Seconds,
        double GradientsPerSecond,
        double RawGradientsPerSecond,
        double GradientRatio,
        double? QueriesPerSecond,
        double RawForwardsPerSecond,
        double? QueryRatio,
        IReadOnlyList<StageResult> Stages,
        int Threads,
        double TargetRatio,
        bool MeetsTargets);

    /// <summary>The standard cascade against the raw loops (<see cref="AutoAttackBenchmark"/>).</summary>
    private static int RunCascade(CommandContext context, ParseResult parseResult, string modelName, Option<int> batch, Option<double?> eps,
        Option<int?> threads, Option<string?> dataDir, Option<string> device, Option<bool> quick)
    {
        int images = parseResult.GetValue(batch);
        if (images < 1 || images > 10_000)
        {
            throw new BadInputException($"--batch must be 1..10000 (test images); got {images}");
        }
        double epsilon = parseResult.GetValue(eps) ?? 0.3;
        AutoAttack.Stages(AutoAttackVersion.Standard, ThreatNorm.Linf, epsilon);
        CommonOptions.CheckModel(modelName);
        CommonOptions.ApplyThreads(parseResult.GetValue(threads));
        var target = ComputeDevice.Parse(parseResult.GetValue(device)!);
        var report = ProgressDisplay.Run(context.Console, progress =>
        {
            using var data = ImageDataset.Load("mnist", parseResult.GetValue(dataDir), progress);
            using var trained = ModelStore.GetOrTrain(modelName, data, quick: parseResult.GetValue(quick), progress: progress, device: target);
            using var test = data.Test.Slice(0, images);
            var result = AutoAttackBenchmark.Run(trained.Model, test.Images.to(target), test.Labels.to(target), epsilon, progress: progress);
            bool meets = result.GradientRatio >= SquareTargetRatio && (result.QueryRatio ?? 1) >= SquareTargetRatio;
            return new CascadeBenchReport(trained.Name, result.Images, epsilon, result.RobustAccuracy, Math.Round(result.Seconds, 1),
                Math.Round(result.GradientsPerSecond), Math.Round(result.RawGradientsPerSecond), Math.Round(result.GradientRatio, 3),
                result.QueriesPerSecond is double q ? Math.Round(q) : null, Math.Round(result.RawForwardsPerSecond),
                result.QueryRatio is double r ? Math.Round(r, 3) : null, result.Stages, TorchSharp.torch.get_num_threads(), SquareTargetRatio, meets);
        });
        context.Emit(report, console =>
        {
            var table = new Table()
                .Title($"AutoAttack (standard, L-inf eps {report.Epsilon.ToString(CultureInfo.InvariantCulture)}) on {Markup.Escape(report.Model)}, {report.Images} images, {report.Threads} thread(s)")
                .AddColumn("measure")
                .AddColumn(new TableColumn("ours").RightAligned())
                .AddColumn(new TableColumn("target").RightAligned());
            table.AddRow("raw forward+backward (image gradients/s)", Number(report.RawGradientsPerSecond), "");
            table.AddRow("gradient stages (image gradients/s)", Number(report.GradientsPerSecond), "");
            table.AddRow("  gradient stages / raw", Ratio(report.GradientRatio), $">= {Ratio(report.TargetRatio)}");
            table.AddRow("raw forward (images/s)", Number(report.RawForwardsPerSecond), "");
            table.AddRow("Square (queries/s)", report.QueriesPerSecond is double q ? Number(q) : "- (no image left)", "");
            table.AddRow("  Square / raw forward", report.QueryRatio is double r ? Ratio(r) : "-", $">= {Ratio(report.TargetRatio)}");
            foreach (var stage in report.Stages)
            {
                table.AddRow($"{Markup.Escape(stage.Name)}: images / broke / passes / seconds",
                    $"{stage.Attacked} / {stage.BrokeImages} / {Number(stage.Passes)} / {stage.Seconds.ToString("F1", CultureInfo.InvariantCulture)}", "");
            }
            table.AddRow("robust accuracy / cascade seconds", $"{report.RobustAccuracy:P1} / {report.Seconds.ToString("F1", CultureInfo.InvariantCulture)}", "");
            console.Write(table);
        });
        return ExitCodes.Success;
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
        foreach (var measured in report.Training ?? [])
        {
            var training = new Table()
                .Title($"{Markup.Escape(measured.Method)} training on {Markup.Escape(measured.Model)}: {measured.BatchesPerEpoch} batches of {measured.BatchSize} per epoch, {measured.InputGradientPasses} input-gradient pass(es) per batch; measured on {measured.Batches} batches, median of {measured.Repetitions}")
                .AddColumn("threads")
                .AddColumn(new TableColumn("ours (ms/batch)").RightAligned())
                .AddColumn(new TableColumn("bare passes (ms/batch)").RightAligned())
                .AddColumn(new TableColumn("checkpoint (s)").RightAligned())
                .AddColumn(new TableColumn("epoch (s)").RightAligned())
                .AddColumn(new TableColumn("overhead").RightAligned())
                .AddColumn(new TableColumn("target").RightAligned());
            foreach (var entry in measured.ByThreads)
            {
                training.AddRow(entry.Threads.ToString(CultureInfo.InvariantCulture) + (entry.Threads == measured.FastestThreads ? " (faster)" : ""),
                    (entry.SecondsPerBatch * 1000).ToString("F2", CultureInfo.InvariantCulture),
                    (entry.PlainSecondsPerBatch * 1000).ToString("F2", CultureInfo.InvariantCulture),
                    entry.CheckpointSeconds.ToString("F3", CultureInfo.InvariantCulture),
                    entry.EpochSeconds.ToString("F1", CultureInfo.InvariantCulture),
                    entry.Overhead.ToString("P1", CultureInfo.InvariantCulture),
                    $"<= {report.Targets.TrainingOverhead.ToString("P0", CultureInfo.InvariantCulture)}");
            }
            console.Write(training);
        }
    }

    private static string Number(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ratio(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
