using System.CommandLine;
using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Attacks.Figures;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Sharding;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing attack --model NAME|PATH --method lbfgs|fgsm|pgd|pgd-l2|cw|deepfool|noise|square|square-l2</c>: attacks the first
/// <c>--count</c> test images, verifies every success with a fresh forward pass, and reports success rate and
/// distortion (the paper's Table 1 column for L-BFGS), the model's error on the attacked set (FGSM/PGD numbers), and
/// how many adversarial examples survive being saved as 8-bit PNGs. <c>--out DIR</c> writes the examples.
/// </summary>
public static class AttackCommand
{
    public static IReadOnlyList<string> Methods => AttackCatalog.Methods;

    /// <summary>
    /// The fields of docs/json-output.md, in its order. Rates are fractions; distortions the paper's RMS measure unless named. Every field is
    /// described for users in docs/json-output.md. <see cref="Settings"/> is the attack's full settings as it ran them.
    /// </summary>
    public sealed record AttackReport(
        string Model,
        string Method,
        int Count,
        double SuccessRate,
        double? MeanDistortion,
        double? MedianDistortion,
        double? MeanLinf,
        bool Verified,
        double Seconds,
        double ImagesPerSecond,
        bool Targeted,
        string SuccessRateOver,
        int Attempted,
        int Successes,
        double ErrorRate,
        double CleanErrorRate,
        double? MeanL2,
        long GradientEvaluations,
        double GradientEvaluationsPerImage,
        double? EightBitSurvival,
        int EightBitChecked,
        int RejectedClaims,
        double? Epsilon,
        double? Stddev,
        int Seed,
        double? PaperMinDistortion,
        AdversarialFiles? Files,
        string Settings,
        int Threads,
        string Device,
        string Dataset,
        IReadOnlyList<string> ClassNames,
        int? Queries = null,
        double? MedianQueries = null,
        double? MeanQueries = null);

    public static Command Create(CliIo io)
    {
        var model = CommonOptions.ModelOrForeignFile("Model to attack");
        var declaration = CommonOptions.Declaration();
        var method = new Option<string>("--method")
        {
            Description = $"Attack: {string.Join(", ", Methods)}.",
            Required = true,
        };
        var count = new Option<int>("--count")
        {
            Description = "How many test images to attack, the first ones in order.",
            DefaultValueFactory = _ => 1000,
        };
        var eps = new Option<double?>("--eps")
        {
            Description = "Size of the perturbation budget: L-inf for fgsm (default 0.25), pgd, apgd-ce, apgd-t, fab-t and square (0.3), L2 for pgd-l2 and square-l2 (2.0). " +
                "lbfgs, cw and deepfool have no eps (they search for the smallest perturbation); giving one is an error.",
        };
        var stddev = new Option<double?>("--stddev")
        {
            Description = "Standard deviation of the noise baseline (default 0.1); only for --method noise.",
        };
        var queries = new Option<int?>("--queries")
        {
            Description = "Query budget per image of the score-based square and square-l2 attacks (default 5000 forward passes).",
        };
        var targeted = new Option<bool>("--targeted")
        {
            Description = "Aim each image at a random wrong class (seeded) instead of any wrong class.",
        };
        var seed = CommonOptions.Seed();
        var batch = new Option<int>("--batch")
        {
            Description = "Images attacked at once (each keeps its own optimiser state).",
            DefaultValueFactory = _ => 500,
        };
        var dataDir = CommonOptions.DataDir();
        var dataset = CommonOptions.Dataset();
        var resize = CommonOptions.Resize();
        var device = CommonOptions.Device();
        var quick = CommonOptions.QuickModels();
        var threads = CommonOptions.Threads();
        var output = CommonOptions.Out("Folder for the adversarial examples: adversarials.safetensors, adversarials.npy, png/, figure5.png " +
            "(with --shard: the folder this shard writes its part to, attack.part-I-of-N.json; `merge --out` writes the examples).");
        var shard = CommonOptions.Shard();
        var command = new Command("attack", "Attack a model with the paper's box-constrained L-BFGS or a later attack, verify every success, report distortion and error rates.")
        {
            model, method, count, eps, stddev, queries, targeted, seed, batch, dataDir, dataset, resize, device, quick, threads, output, shard,
        };
        declaration.Add(command);
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            string methodName = parseResult.GetValue(method)!;
            double? epsilon = parseResult.GetValue(eps);
            double? deviation = parseResult.GetValue(stddev);
            int seedValue = parseResult.GetValue(seed);
            var attack = AttackCatalog.Create(methodName, epsilon, deviation, seedValue, parseResult.GetValue(queries));
            int imageCount = parseResult.GetValue(count);
            int batchSize = parseResult.GetValue(batch);
            if (imageCount < 1 || imageCount > 10_000)
            {
                throw new BadInputException($"--count must be 1..10000 (test images); got {imageCount}");
            }
            if (batchSize < 1)
            {
                throw new BadInputException($"--batch must be at least 1; got {batchSize}");
            }
            string modelName = parseResult.GetValue(model)!;
            // An unknown name, an unreadable model file or an unwritable --out is bad input before any data is loaded.
            var declared = declaration.Read(parseResult);
            CommonOptions.CheckModel(modelName, declared);
            string? outFolder = CommonOptions.CheckOut(parseResult.GetValue(output));
            var part = CommonOptions.ParseShard(parseResult.GetValue(shard), outFolder);
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            var target = ComputeDevice.Parse(parseResult.GetValue(device)!);
            bool isTargeted = parseResult.GetValue(targeted);

            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                // Loaded (or trained) where the attack runs, as train and reproduce do.
                using var trained = ModelStore.GetOrTrain(modelName, data, Split.Train, seedValue, parseResult.GetValue(quick), progress: progress, device: target,
                    declaration: declared);
                // A folder dataset may hold fewer test images than --count asks for: all of them are attacked then.
                int total = Math.Min(imageCount, data.Test.Count);
                // A split run is cut at the attack's batch boundaries: every image is attacked beside the same images as in one run
                // (an optimiser that drops finished rows multiplies matrices of other sizes otherwise, which can move a last bit).
                int block = Math.Min(batchSize, trained.Model.RowsPerPass);
                var (start, length) = part.Range(total, block);
                if (length == 0 && part.IsSplit)
                {
                    int blocks = (total + block - 1) / block;
                    throw new BadInputException($"--shard {part}: {total} images in batches of {block} make {blocks} batch{(blocks == 1 ? "" : "es")}, which leave this shard none; " +
                        $"use at most {blocks} shards, or a smaller --batch");
                }
                using var test = data.Test.Slice(start, length);
                var images = test.Images.to(target);
                var labels = test.Labels.to(target);
                // Each image takes the target the whole run draws for it: an image's target does not depend on the split.
                var targets = isTargeted ? AttackTargets.RandomWrong(labels, seedValue, trained.Model.ClassCount, firstIndex: start) : null;
                // Each image's random streams are keyed on its index in the whole run, so a shard's images come out as in one run.
                long[]? keys = part.IsSplit ? [.. Enumerable.Range(start, length).Select(index => (long)index)] : null;
                var result = attack.Run(trained.Model, images, labels, targets, batchSize, progress, keys);
                var survival = EightBitSurvival.Measure(trained.Model, result, block);
                // The paper's distortions were measured on MNIST: none is shown beside a run on other data.
                double? paper = methodName == "lbfgs" && data.Name == DatasetSpec.Mnist.Name && ModelZoo.TryGet(trained.Name, out var spec)
                    ? spec.PaperFor(trained.Split)?.MinDistortion
                    : null;
                // The settings the attack used, read from the attack itself: never an option it ignored.
                double? usedEpsilon = attack switch { Fgsm fgsm => fgsm.Epsilon, Pgd pgd => pgd.Epsilon, Intriguing.Evaluation.Apgd apgd => apgd.Epsilon, Intriguing.Evaluation.FabTargeted fab => fab.Epsilon, Square square => square.Epsilon, _ => null };
                double? usedStddev = attack is GaussianNoise noise ? noise.StandardDeviation : null;
                var shared = new AttackShared(trained.Name, usedEpsilon, usedStddev, seedValue, paper, attack.Describe(), target.ToString(), data.Origin, data.ClassNames,
                    (attack as Square)?.Queries, trained.Model.Input.Shape);
                AdversarialFiles? files = null;
                if (part.IsSplit)
                {
                    var settings = PartSettings(shared, methodName, isTargeted, total, parseResult.GetValue(quick));
                    // A model file's declaration changes what the model computes: parts must agree on it too.
                    settings["inputShape"] = parseResult.GetValue(declaration.InputShape) ?? "";
                    settings["classes"] = parseResult.GetValue(declaration.Classes)?.ToString(CultureInfo.InvariantCulture) ?? "";
                    settings["mean"] = parseResult.GetValue(declaration.Mean) ?? "";
                    settings["std"] = parseResult.GetValue(declaration.Std) ?? "";
                    var manifest = new ShardManifest("attack", settings,
                        part.ToString(), total, start, length, data.Name,
                        new Dictionary<string, string> { [trained.Name] = ShardParts.Fingerprint(trained.Path) }, Intriguing.Reproduction.ReproductionRun.CodeVersion, block);
                    ShardParts.Write(outFolder!, manifest, new AttackShardPayload(AttackParts.Of(result, survival, test.Images, start), shared));
                }
                else if (outFolder is not null)
                {
                    files = AdversarialExport.Write(outFolder, result, ImageRows(test.Images, trained.Model.Features), trained.Name, trained.Model.Input);
                }
                return ToReport(shared, result, survival, files);
            });
            context.Emit(report, console => Render(console, report));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static float[][] ImageRows(Tensor images, int features) =>
        [.. Intriguing.Reporting.ImageGrid.SplitRows(images.contiguous().data<float>().ToArray(), features)];

    /// <summary>What a run's report says beside the attack's outcome: the same in every shard of a split run.</summary>
    public sealed record AttackShared(string Model, double? Epsilon, double? Stddev, int Seed, double? PaperMinDistortion, string Settings, string Device,
        string Dataset, IReadOnlyList<string> ClassNames, int? Queries, long[] InputShape);

    /// <summary>A shard's part of an attack run: its share of the outcome and what the report says beside it.</summary>
    public sealed record AttackShardPayload(AttackPart Attack, AttackShared Shared);

    /// <summary>The settings an attack part records: everything that changes a number (the batch size is the manifest's block).</summary>
    private static Dictionary<string, string> PartSettings(AttackShared shared, string method, bool targeted, int count, bool quick) => new()
    {
        ["method"] = method,
        ["attack"] = shared.Settings,
        ["targeted"] = targeted ? "true" : "false",
        ["seed"] = shared.Seed.ToString(CultureInfo.InvariantCulture),
        ["count"] = count.ToString(CultureInfo.InvariantCulture),
        ["quickModels"] = quick ? "true" : "false",
        ["device"] = shared.Device,
        ["dataset"] = shared.Dataset,
    };

    /// <summary>
    /// The parts of a split attack run put together (see <see cref="AttackParts.Merge"/>): the report one unsplit run
    /// prints, and with <paramref name="outFolder"/> the same adversarial files it writes.
    /// </summary>
    public static AttackReport Merge(IReadOnlyList<ShardPart> parts, string? outFolder)
    {
        var payloads = parts.Select(part => Read(part)).ToList();
        for (int index = 0; index < parts.Count; index++)
        {
            if (payloads[index].Attack.Examples.Count != parts[index].Manifest.Length)
            {
                throw new BadInputException($"merge: '{parts[index].Path}' holds {payloads[index].Attack.Examples.Count} images' outcomes but its manifest says it covers {parts[index].Manifest.Length}");
            }
        }
        var shared = payloads[0].Shared;
        using var scope = NewDisposeScope();
        var merged = AttackParts.Merge([.. payloads.Select(payload => payload.Attack)]);
        AdversarialFiles? files = null;
        if (outFolder is not null)
        {
            int features = (int)merged.Result.Adversarials.shape[1];
            var input = new InputSpace(shared.InputShape, shared.ClassNames.Count, InputBox.Uniform(0f, 1f, features));
            files = AdversarialExport.Write(outFolder, merged.Result, merged.Originals, shared.Model, input);
        }
        return ToReport(shared, merged.Result, merged.Survival, files);

        static AttackShardPayload Read(ShardPart part) => part.Read<AttackShardPayload>("attack part", payload => payload is
        {
            Attack: { Examples: not null, Adversarials: not null, Originals: not null, Method: not null },
            Shared: { Model: not null, ClassNames: not null, InputShape: not null, Settings: not null, Device: not null, Dataset: not null },
        });
    }

    private static AttackReport ToReport(AttackShared shared, AttackResult result, EightBitSurvival survival, AdversarialFiles? files)
    {
        var summary = result.Summary;
        double cleanError = result.Examples.Count(example => !example.OriginallyCorrect) / (double)summary.Count;
        var report = new AttackReport(
            shared.Model, summary.Method, summary.Count, summary.SuccessRate,
            Finite(summary.MeanDistortion), Finite(summary.MedianDistortion), Finite(summary.MeanLinf),
            summary.Verified, Math.Round(summary.Seconds, 3), Math.Round(summary.ImagesPerSecond, 1),
            summary.Targeted, "correctly classified images", summary.Attempted, summary.Successes,
            summary.ErrorRate, cleanError, Finite(summary.MeanL2), summary.GradientEvaluations,
            Math.Round(summary.GradientEvaluationsPerImage, 1), Finite(survival.Rate), survival.Checked,
            summary.RejectedClaims, shared.Epsilon, shared.Stddev, shared.Seed, shared.PaperMinDistortion, files, shared.Settings, torch.get_num_threads(),
            shared.Device, shared.Dataset, shared.ClassNames);
        return shared.Queries is int budget ? WithQueries(report, result, budget) : report;
    }

    /// <summary>
    /// Square's per-image count is forward queries: the budget, and the median and mean queries over the images it fooled
    /// (of those classified correctly), as the paper reports them.
    /// </summary>
    private static AttackReport WithQueries(AttackReport report, AttackResult result, int budget)
    {
        var spent = result.Examples.Where(example => example.OriginallyCorrect && example.Success)
            .Select(example => (double)example.GradientEvaluations).Order().ToList();
        double? median = spent.Count == 0 ? null : spent.Count % 2 == 1 ? spent[spent.Count / 2] : (spent[spent.Count / 2 - 1] + spent[spent.Count / 2]) / 2;
        double? mean = spent.Count == 0 ? null : Math.Round(spent.Average(), 1);
        return report with { Queries = budget, MedianQueries = median, MeanQueries = mean };
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    internal static void Render(IAnsiConsole console, AttackReport report)
    {
        var table = new Table()
            .Title($"{Markup.Escape(report.Method)} on {Markup.Escape(report.Model)}: {report.Count} test images of {Markup.Escape(report.Dataset)}{(report.Targeted ? ", targeted" : "")}")
            .AddColumn("measure")
            .AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("success rate (of correctly classified)", $"{Percent(report.SuccessRate)} ({report.Successes}/{report.Attempted})");
        table.AddRow("error rate on all attacked images", Percent(report.ErrorRate));
        table.AddRow("clean error rate", Percent(report.CleanErrorRate));
        table.AddRow("mean distortion (RMS)", Number(report.MeanDistortion));
        if (report.PaperMinDistortion is double paper)
        {
            table.AddRow("paper's Table 1 distortion", Number(paper));
        }
        table.AddRow("median distortion (RMS)", Number(report.MedianDistortion));
        table.AddRow("mean L2 / mean L-inf", $"{Number(report.MeanL2)} / {Number(report.MeanLinf)}");
        table.AddRow("verified (fresh forward pass)", report.Verified ? "yes" : "no");
        table.AddRow("still adversarial as 8-bit PNG", report.EightBitSurvival is double rate ? $"{Percent(rate)} of {report.EightBitChecked}" : "-");
        if (report.Queries is int budget)
        {
            table.AddRow("queries per fooled image (median / mean)", $"{Number(report.MedianQueries, "F0")} / {Number(report.MeanQueries, "F1")} of {budget}");
        }
        else
        {
            table.AddRow("gradient evaluations per image", report.GradientEvaluationsPerImage.ToString("F1", CultureInfo.InvariantCulture));
        }
        table.AddRow("time", $"{report.Seconds:F1} s ({report.ImagesPerSecond:F1} images/s)");
        console.Write(table);
        if (report.Files is { } files)
        {
            console.MarkupLine($"[grey]wrote[/] {Markup.Escape(files.TensorFile)}, {Markup.Escape(files.NpyFile)}, {files.PngCount} PNGs in {Markup.Escape(files.PngFolder)}, {Markup.Escape(files.Figure)}");
        }
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

    private static string Number(double? value, string format = "F4") => value is double number ? number.ToString(format, CultureInfo.InvariantCulture) : "-";
}
