using System.CommandLine;
using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
using Intriguing.Reproduction;
using Intriguing.Sharding;
using Intriguing.Transfer;
using Spectre.Console;
using static TorchSharp.torch;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing transfer [--sources a,b] [--targets a,b] [--count N] [--method lbfgs|lbfgs-untargeted|fgsm|pgd]
/// [--magnify RMS] [--cross-split]</c>: the paper's Table 2 (and with <c>--cross-split</c> Table 4). Adversarial examples
/// are made for each source model and verified on it; every target's error on them, with 95% Wilson intervals, the
/// examples' mean distortion and count, each target's clean error on the same images, Gaussian noise rows, noise of each
/// row's own size, the rows magnified to one RMS, and the error-against-distortion curves. <c>--out</c> writes the heat
/// maps and curves.
/// </summary>
public static class TransferCommand
{
    /// <summary>Table 4's part of the document (docs/json-output.md): <c>models, rows, magnified, noise</c> and more.</summary>
    public sealed record CrossSplitReport(
        IReadOnlyList<string> Models,
        IReadOnlyList<TransferRow> Rows,
        IReadOnlyList<MagnifiedRow> Magnified,
        IReadOnlyList<NoiseRow> Noise,
        IReadOnlyList<TransferCurve> Curves,
        IReadOnlyDictionary<string, double> CleanErrors,
        EqualDistortion EqualDistortion);

    /// <summary>
    /// The document of docs/json-output.md: <c>count, rows[]{source, distortion, errors, intervals, counts}, noise[]{stddev, errors}</c>,
    /// <c>crossSplit</c> with <c>--cross-split</c>. With <c>--magnify</c>, <c>rows</c> hold the magnified rows
    /// (<see cref="RowsMagnified"/>); <see cref="Plain"/> and <see cref="Magnified"/> are always both there.
    /// </summary>
    public sealed record TransferReport(
        int Count,
        IReadOnlyList<object> Rows,
        IReadOnlyList<NoiseRow> Noise,
        CrossSplitReport? CrossSplit,
        string Method,
        string Settings,
        bool RowsMagnified,
        double MagnifyRms,
        IReadOnlyList<string> Sources,
        IReadOnlyList<string> Targets,
        IReadOnlyList<TransferRow> Plain,
        IReadOnlyList<MagnifiedRow> Magnified,
        IReadOnlyList<TransferCurve> Curves,
        IReadOnlyDictionary<string, double> CleanErrors,
        EqualDistortion EqualDistortion,
        IReadOnlyList<string> Figures,
        int Seed,
        double Seconds,
        double MeasurementSeconds,
        int Threads);

    public static Command Create(CliIo io)
    {
        var sources = new Option<string?>("--sources")
        {
            Description = $"Models to make examples for, comma-separated zoo names, each optionally name@p1 or name@p2, or model files " +
                $"(.safetensors, TorchScript .pt/.pth, or ONNX .onnx as a target only (it gives no gradients), declared by <name>.json or {ModelDeclaration.FolderFileName} beside it, or by --input-shape and --classes) " +
                $"(default: Table 2's {string.Join(",", PaperTransfer.Table2Models)}).",
        };
        var targets = new Option<string?>("--targets")
        {
            Description = "Models measured on the examples, same form (default: the same as the sources' default).",
        };
        var count = new Option<int>("--count")
        {
            Description = "Test images attacked, the first ones in order.",
            DefaultValueFactory = _ => 1000,
        };
        var method = new Option<string>("--method")
        {
            Description = "lbfgs (towards a random wrong class, the paper's), lbfgs-untargeted, fgsm or pgd (both sized to each source's L-BFGS mean L2).",
            DefaultValueFactory = _ => "lbfgs",
        };
        var magnify = new Option<double?>("--magnify")
        {
            Description = "Scale each example's perturbation to this RMS distortion (clipped to [0,1]); rows then hold the magnified examples. Default 0.1 for the magnified table.",
        };
        var crossSplit = new Option<bool>("--cross-split")
        {
            Description = "Also run Table 4: fc100-100-10 and fc123-456-10 trained on P1, fc100-100-10 on P2.",
        };
        var declaration = CommonOptions.Declaration();
        var seed = CommonOptions.Seed();
        var dataDir = CommonOptions.DataDir();
        var dataset = CommonOptions.Dataset();
        var resize = CommonOptions.Resize();
        var device = CommonOptions.Device();
        var quick = CommonOptions.QuickModels();
        var threads = CommonOptions.Threads();
        var batch = new Option<int>("--batch")
        {
            Description = $"Images attacked per batch (default {DefaultBatch}). With --shard a shard takes whole batches, so that every image is " +
                "attacked in the batch an unsplit run attacks it in (a float result can differ in its last bits with its batch): " +
                "at most ceil(count / batch) shards get images.",
            DefaultValueFactory = _ => DefaultBatch,
        };
        var shard = CommonOptions.Shard();
        var output = CommonOptions.Out("Folder for the heat maps and curves (PNG); none written without it. With --shard, where the shard writes its part.");
        var command = new Command("transfer", "Do adversarial examples made for one model fool others (the paper's Tables 2 and 4)? Rates with 95% intervals, beside noise of the same size and the paper's numbers.")
        {
            sources, targets, count, method, magnify, crossSplit, seed, batch, dataDir, dataset, resize, device, quick, threads, shard, output,
        };
        declaration.Add(command);
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            var declared = declaration.Read(parseResult);
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            var sourceNames = Names(parseResult.GetValue(sources), "--sources", declared);
            var targetNames = Names(parseResult.GetValue(targets), "--targets", declared);
            if (declared.Any && !sourceNames.Concat(targetNames).Any(ModelStore.IsForeign))
            {
                throw new BadInputException("--input-shape, --classes, --mean and --std declare TorchScript or ONNX model files; none is among --sources and --targets");
            }
            int imageCount = parseResult.GetValue(count);
            if (imageCount < 1 || imageCount > 10_000)
            {
                throw new BadInputException($"--count must be 1..10000 (test images); got {imageCount}");
            }
            string methodName = TransferAttacks.Check(parseResult.GetValue(method)!);
            double? magnifyRms = parseResult.GetValue(magnify);
            if (magnifyRms is double requested && (!double.IsFinite(requested) || requested <= 0))
            {
                throw new BadInputException($"--magnify must be a finite RMS distortion > 0; got {requested.ToString(CultureInfo.InvariantCulture)}");
            }
            int batchSize = parseResult.GetValue(batch);
            if (batchSize < 1)
            {
                throw new BadInputException($"--batch must be at least 1; got {batchSize}");
            }
            string? outFolder = CommonOptions.CheckOut(parseResult.GetValue(output));
            var part = CommonOptions.ParseShard(parseResult.GetValue(shard), outFolder);
            if (part.IsSplit && !TransferParts.Splits(methodName))
            {
                throw new BadInputException(
                    $"--shard {part}: --method {methodName} sizes each source's attack to the mean L2 of its L-BFGS examples over all the run's images, " +
                    "which no shard sees; split --method lbfgs or lbfgs-untargeted, or run this method unsplit");
            }
            var run = new RunSettings(sourceNames, targetNames, methodName, imageCount, magnifyRms, parseResult.GetValue(crossSplit), parseResult.GetValue(seed),
                batchSize, parseResult.GetValue(quick), parseResult.GetValue(device)!, parseResult.GetValue(dataset)!, parseResult.GetValue(resize),
                parseResult.GetValue(declaration.InputShape), parseResult.GetValue(declaration.Classes), parseResult.GetValue(declaration.Mean), parseResult.GetValue(declaration.Std));
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            var target = ComputeDevice.Parse(run.Device);
            string? dataFolder = parseResult.GetValue(dataDir);
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();

            if (part.IsSplit)
            {
                var written = ProgressDisplay.Run(context.Console, progress =>
                {
                    using var data = ImageDataset.Load(datasetChoice, dataFolder, progress);
                    using var study = new StudyContext(data, run.Seed, run.Quick, progress, target) { Declaration = declared };
                    int total = Math.Min(run.Count, data.Test.Count);
                    // Each source's attack cuts the images into batches of min(--batch, the rows its model takes per pass), counted
                    // from the first image; a shard starts where every source starts a batch, so every image is attacked beside the
                    // same images as in the unsplit run.
                    var attacked = run.CrossSplit ? run.Sources.Concat(PaperTransfer.Table4Models) : run.Sources;
                    int block = attacked.Select(name => Math.Min(run.Batch, Load(study, name).Model.RowsPerPass)).Aggregate(1, LeastCommonMultiple);
                    var (start, length) = part.Range(total, block);
                    if (length == 0)
                    {
                        int blocks = (total + block - 1) / block;
                        throw new BadInputException(
                            $"--shard {part}: {total} images in blocks of {block} (where every source's batches, min(--batch, the rows its model " +
                            $"takes per pass), line up) split {part.Count} ways leave this shard none; use at most {blocks} shards, or a --batch " +
                            "that the sources' rows per pass divide");
                    }
                    using var mine = data.Test.Slice(start, length);
                    var runner = TransferParts.Runner(mine.Images.to(target), mine.Labels.to(target), start, run.Seed, run.Batch, progress);
                    var lbfgs = new BoxConstrainedLbfgs();
                    var models = new Dictionary<string, string>();
                    List<SourcePart> AttackAll(IReadOnlyList<string> names) => [.. names.Select(name =>
                    {
                        var trained = Load(study, name);
                        models[name] = ShardParts.Fingerprint(trained.Path);
                        return TransferParts.Make(run.Method, new TransferModel(name, trained.Model), runner, lbfgs, start);
                    })];
                    var payload = new TransferPart(AttackAll(run.Sources), run.CrossSplit ? AttackAll(PaperTransfer.Table4Models) : [],
                        dataFolder is null ? null : Path.GetFullPath(dataFolder), stopwatch.Elapsed.TotalSeconds);
                    var manifest = new ShardManifest("transfer", run.ToSettings(total), part.ToString(), total, start, length, data.Name, models,
                        ReproductionRun.CodeVersion, block);
                    string path = ShardParts.Write(outFolder!, manifest, payload);
                    return new ShardPartReport("transfer", part.ToString(), start, length, total, block, path,
                        Math.Round(stopwatch.Elapsed.TotalSeconds, 2), get_num_threads());
                });
                context.Emit(written, console => ShardPartReport.Render(console, written));
                return ExitCodes.Success;
            }

            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, dataFolder, progress);
                using var study = new StudyContext(data, run.Seed, run.Quick, progress, target) { Declaration = declared };
                int total = Math.Min(run.Count, data.Test.Count);
                using var images = data.Test.Slice(0, total);
                var inputs = images.Images.to(target);
                var labels = images.Labels.to(target);
                var runner = TransferParts.Runner(inputs, labels, 0, run.Seed, run.Batch, progress);
                var lbfgs = new BoxConstrainedLbfgs();
                IReadOnlyList<SourceExamples> Examples(IReadOnlyList<string> names) =>
                    [.. names.Select(name => TransferAttacks.Make(run.Method, new TransferModel(name, Load(study, name).Model), runner, inputs, labels, lbfgs, run.Seed))];
                var matrix = Measure(study, run, Examples(run.Sources), run.Targets, Table2Options(run), inputs, labels);
                var table4 = run.CrossSplit
                    ? Measure(study, run, Examples(PaperTransfer.Table4Models), PaperTransfer.Table4Models, TransferOptions.Table4(run.Seed, run.Rms), inputs, labels)
                    : null;
                return ToReport(run, matrix, table4, outFolder, lbfgs, stopwatch.Elapsed.TotalSeconds);
            });
            context.Emit(report, console => Render(console, report));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Images attacked per batch unless --batch says otherwise: <see cref="Attack.Run"/>'s default.</summary>
    private const int DefaultBatch = 500;

    /// <summary>
    /// What a transfer run was asked for: every option that changes a number, as a shard's manifest records it
    /// (<see cref="ToSettings"/>) and merge reads it back (<see cref="FromSettings"/>).
    /// </summary>
    private sealed record RunSettings(
        IReadOnlyList<string> Sources,
        IReadOnlyList<string> Targets,
        string Method,
        int Count,
        double? MagnifyRms,
        bool CrossSplit,
        int Seed,
        int Batch,
        bool Quick,
        string Device,
        string Dataset,
        string? Resize,
        string? InputShape,
        int? Classes,
        string? Mean,
        string? Std)
    {
        /// <summary>The RMS of the magnified rows: --magnify, or 0.1.</summary>
        public double Rms => MagnifyRms ?? 0.1;

        public Dictionary<string, string> ToSettings(int total)
        {
            var settings = new Dictionary<string, string>
            {
                ["sources"] = string.Join(",", Sources),
                ["targets"] = string.Join(",", Targets),
                ["method"] = Method,
                ["count"] = total.ToString(CultureInfo.InvariantCulture),
                ["magnify"] = MagnifyRms is double rms ? rms.ToString("R", CultureInfo.InvariantCulture) : "none",
                ["crossSplit"] = CrossSplit ? "true" : "false",
                ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
                ["batch"] = Batch.ToString(CultureInfo.InvariantCulture),
                ["quickModels"] = Quick ? "true" : "false",
                ["device"] = Device,
                ["dataset"] = Dataset,
            };
            void Optional(string key, string? value)
            {
                if (value is not null)
                {
                    settings[key] = value;
                }
            }
            Optional("resize", Resize);
            Optional("inputShape", InputShape);
            Optional("classes", Classes?.ToString(CultureInfo.InvariantCulture));
            Optional("mean", Mean);
            Optional("std", Std);
            return settings;
        }

        public static RunSettings FromSettings(IReadOnlyDictionary<string, string> settings)
        {
            string Get(string key) => settings.TryGetValue(key, out string? value)
                ? value
                : throw new BadInputException($"merge: the transfer parts' settings lack '{key}'");
            int Number(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
                ? value
                : throw new BadInputException($"merge: the transfer parts' setting '{key}' is '{Get(key)}'; expected a whole number");
            string magnify = Get("magnify");
            return new RunSettings(
                Get("sources").Split(','), Get("targets").Split(','), TransferAttacks.Check(Get("method")), Number("count"),
                magnify == "none" ? null : double.Parse(magnify, NumberStyles.Float, CultureInfo.InvariantCulture),
                Get("crossSplit") == "true", Number("seed"), Number("batch"), Get("quickModels") == "true", Get("device"), Get("dataset"),
                settings.GetValueOrDefault("resize"), settings.GetValueOrDefault("inputShape"),
                settings.ContainsKey("classes") ? Number("classes") : null, settings.GetValueOrDefault("mean"), settings.GetValueOrDefault("std"));
        }

        /// <summary>The declared input of TorchScript and ONNX model files, as the options gave it.</summary>
        public DeclarationOptions Declaration() => new(
            InputShape is null ? null : ModelDeclaration.ParseShape(InputShape, "--input-shape"),
            Classes,
            Mean is null ? null : ModelDeclaration.ParseValues(Mean, "--mean"),
            Std is null ? null : ModelDeclaration.ParseValues(Std, "--std"));
    }

    /// <summary>Table 2's options, with the --magnify RMS added as a noise row when it is not one already.</summary>
    private static TransferOptions Table2Options(RunSettings run)
    {
        var options = TransferOptions.Table2(run.Seed, run.Rms);
        return run.MagnifyRms is double extra && !options.NoiseStddevs.Contains(extra)
            ? options with { NoiseStddevs = [.. options.NoiseStddevs, extra] }
            : options;
    }

    /// <summary>A model of the study by its name in the matrix: "name", "name@p1", or a file's path.</summary>
    private static TrainedModel Load(StudyContext study, string name)
    {
        var (model, split) = TransferStudy.Parse(name);
        return study.Model(model, split);
    }

    /// <summary>Every target measured on the sources' examples over the run's images (the first ones of the test set).</summary>
    private static TransferMatrix Measure(StudyContext study, RunSettings run, IReadOnlyList<SourceExamples> examples, IReadOnlyList<string> targets,
        TransferOptions options, Tensor inputs, Tensor labels) =>
        TransferMeasurement.Measure(examples, [.. targets.Select(name => new TransferModel(name, Load(study, name).Model))], inputs, labels, options, study.Progress);

    /// <summary>The document of a run (or of merged parts) from its matrices; with <paramref name="outFolder"/> the figures are written there.</summary>
    private static TransferReport ToReport(RunSettings run, TransferMatrix matrix, TransferMatrix? table4, string? outFolder, BoxConstrainedLbfgs lbfgs, double seconds)
    {
        var cross = table4 is null
            ? null
            : new CrossSplitReport(table4.Targets, table4.Rows, table4.Magnified, table4.Noise, table4.Curves, table4.CleanErrors, table4.EqualDistortion);
        var figures = outFolder is null ? [] : WriteFigures(Path.GetFullPath(outFolder), run.Method, matrix, table4);
        string settings = matrix.Rows.FirstOrDefault()?.Attack ?? lbfgs.Describe();
        return new TransferReport(
            matrix.Count,
            run.MagnifyRms is null ? [.. matrix.Rows.Cast<object>()] : [.. matrix.Magnified.Cast<object>()],
            matrix.Noise,
            cross,
            run.Method,
            settings,
            run.MagnifyRms is not null,
            run.Rms,
            matrix.Sources,
            matrix.Targets,
            matrix.Rows,
            matrix.Magnified,
            matrix.Curves,
            matrix.CleanErrors,
            matrix.EqualDistortion,
            figures,
            run.Seed,
            Math.Round(seconds, 2),
            Math.Round(matrix.Seconds + (table4?.Seconds ?? 0), 2),
            get_num_threads());
    }

    /// <summary>
    /// <c>merge</c> of transfer parts: each source's examples put together from the shards, then every target measured
    /// on them over the whole run's images, as the unsplit run measures them (the matched-noise rows need each row's mean
    /// distortion over all its examples). Loads the targets (from the model cache, checked against the weights the shards
    /// used where they used the same model) and the data; with <paramref name="outFolder"/> writes transfer.json and the figures.
    /// </summary>
    internal static int Merge(CommandContext context, IReadOnlyList<ShardPart> parts, string? outFolder)
    {
        var manifest = parts[0].Manifest;
        var run = RunSettings.FromSettings(manifest.Settings);
        var declared = run.Declaration();
        var datasetChoice = DatasetChoice.Parse(run.Dataset, run.Resize is null ? null : ImageSize.Parse(run.Resize));
        var target = ComputeDevice.Parse(run.Device);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var report = ProgressDisplay.Run(context.Console, progress =>
        {
            using var scope = NewDisposeScope();
            var merged = TransferParts.Merge(parts);
            // The data folder the shards read, where it is here too; otherwise the cache (where it is fetched if missing).
            using var data = ImageDataset.Load(datasetChoice, merged.DataDir is string folder && Directory.Exists(folder) ? folder : null, progress);
            if (data.Name != manifest.Dataset)
            {
                throw new BadInputException($"merge: the data here is '{data.Name}'; the shards read '{manifest.Dataset}'");
            }
            using var study = new StudyContext(data, run.Seed, run.Quick, progress, target) { Declaration = declared };
            foreach (string name in run.Targets.Concat(run.CrossSplit ? PaperTransfer.Table4Models : []).Distinct())
            {
                if (manifest.Models.TryGetValue(name, out string? used) && ShardParts.Fingerprint(Load(study, name).Path) is var here && here != used)
                {
                    throw new BadInputException($"merge: the weights of model '{name}' here (SHA-256 {here}...) differ from those the shards used ({used}...)");
                }
            }
            using var images = data.Test.Slice(0, manifest.Total);
            var inputs = images.Images.to(target);
            var labels = images.Labels.to(target);
            var matrix = Measure(study, run, merged.Sources, run.Targets, Table2Options(run), inputs, labels);
            var table4 = run.CrossSplit
                ? Measure(study, run, merged.CrossSplit, PaperTransfer.Table4Models, TransferOptions.Table4(run.Seed, run.Rms), inputs, labels)
                : null;
            return ToReport(run, matrix, table4, outFolder, new BoxConstrainedLbfgs(), merged.Seconds + stopwatch.Elapsed.TotalSeconds);
        });
        if (outFolder is not null)
        {
            AtomicFile.WriteAllText(Path.Combine(outFolder, "transfer.json"), System.Text.Json.JsonSerializer.Serialize(report, CliIo.JsonOptions));
        }
        context.Emit(report, console => Render(console, report));
        return ExitCodes.Success;
    }

    /// <summary>
    /// A comma-separated model list; every name checked against the zoo, and every file (with its sidecar or declaration)
    /// checked readable, before any data is loaded.
    /// </summary>
    private static IReadOnlyList<string> Names(string? option, string optionName, DeclarationOptions declared)
    {
        if (option is null)
        {
            return PaperTransfer.Table2Models;
        }
        var names = option.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0)
        {
            throw new BadInputException($"{optionName}: the list is empty; expected comma-separated model names ({string.Join(", ", ModelZoo.Names)}), each optionally name@p1 or name@p2");
        }
        foreach (string name in names)
        {
            try
            {
                if (ModelStore.IsPath(name))
                {
                    ModelStore.CheckFile(name, optionName, declared);
                    continue;
                }
                var (model, _) = TransferStudy.Parse(name);
                ModelZoo.Get(model);
            }
            catch (BadInputException error)
            {
                throw new BadInputException($"{optionName}: {error.Message}");
            }
        }
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            throw new BadInputException($"{optionName}: a model is listed twice in '{option}'");
        }
        return names;
    }

    private static IReadOnlyList<string> WriteFigures(string folder, string method, TransferMatrix matrix, TransferMatrix? table4)
    {
        var written = new List<string>();
        void Write(string name, byte[] png)
        {
            string path = Path.Combine(folder, name);
            AtomicFile.WriteAllBytes(path, png);
            written.Add(path);
        }
        Write($"transfer-{method}.png", TransferStudy.PlainHeatMap("x.png", $"Error of the column model on {method} examples for the row model", "", matrix).Png);
        Write($"transfer-{method}-magnified.png", TransferStudy.MagnifiedHeatMap("x.png",
            FormattableString.Invariant($"Perturbations magnified to RMS {matrix.EqualDistortion.Rms}, with noise of the same RMS"), "", matrix).Png);
        if (matrix.Curves.Count > 0)
        {
            Write($"transfer-{method}-curves.png", TransferFigures.Curves("Error vs RMS distortion", matrix.Curves));
        }
        if (table4 is not null)
        {
            Write($"transfer-cross-split-{method}.png", TransferStudy.PlainHeatMap("x.png", "Table 4: error of the column model on examples for the row model", "", table4).Png);
            Write($"transfer-cross-split-{method}-magnified.png", TransferStudy.MagnifiedHeatMap("x.png",
                FormattableString.Invariant($"Table 4 magnified to RMS {table4.EqualDistortion.Rms}, with noise of the same RMS"), "", table4).Png);
            Write($"transfer-cross-split-{method}-curves.png", TransferFigures.Curves("Table 4: error vs RMS distortion", table4.Curves));
        }
        return written;
    }

    private static void Render(IAnsiConsole console, TransferReport report)
    {
        RenderMatrix(console, $"{report.Method} examples for each row model, error of each column model ({report.Count} test images; paper's value in brackets)",
            report.Targets, report.Plain, report.Noise, PaperTransfer.Table2, PaperTransfer.Table2Noise);
        RenderMagnified(console, report.Targets, report.Magnified, (_, _) => null); // the paper magnified only Table 4
        Verdict(console, report.EqualDistortion);
        if (report.CrossSplit is { } cross)
        {
            RenderMatrix(console, "Table 4: across training sets (P1 / P2)", cross.Models, cross.Rows, cross.Noise, PaperTransfer.Table4, null);
            RenderMagnified(console, cross.Models, cross.Magnified, PaperTransfer.Table4Magnified);
            Verdict(console, cross.EqualDistortion);
        }
        if (report.Figures.Count > 0)
        {
            console.MarkupLine($"[grey]wrote[/] {Markup.Escape(string.Join(", ", report.Figures))}");
        }
        console.MarkupLine($"[grey]{report.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s, seed {report.Seed}; rates with 95% Wilson intervals.[/]");
    }

    private static void RenderMatrix(IAnsiConsole console, string title, IReadOnlyList<string> targets, IReadOnlyList<TransferRow> rows,
        IReadOnlyList<NoiseRow> noise, Func<string, string, double?> paper, Func<double, string, double?>? paperNoise)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumn("examples for");
        foreach (string target in targets)
        {
            table.AddColumn(new TableColumn(Markup.Escape(target)).RightAligned());
        }
        table.AddColumn(new TableColumn("distortion").RightAligned()).AddColumn(new TableColumn("n").RightAligned());
        foreach (var row in rows)
        {
            table.AddRow([Markup.Escape(row.Source), .. targets.Select(target => Cell(row.Errors[target], paper(row.Source, target))),
                Number(row.Distortion), row.Examples.ToString(CultureInfo.InvariantCulture)]);
        }
        foreach (var line in noise)
        {
            table.AddRow([Markup.Escape(TransferStudy.NoiseLabel(line)),
                .. targets.Select(target => Cell(line.Errors[target], line.Kind == "stddev" ? paperNoise?.Invoke(line.Stddev, target) : null)),
                Number(line.Rms), line.Examples.ToString(CultureInfo.InvariantCulture)]);
        }
        console.Write(table);
    }

    private static void RenderMagnified(IAnsiConsole console, IReadOnlyList<string> targets, IReadOnlyList<MagnifiedRow> rows, Func<string, string, double?> paper)
    {
        if (rows.Count == 0)
        {
            return;
        }
        var table = new Table().Title(Markup.Escape(FormattableString.Invariant($"Magnified to RMS {rows[0].RequestedRms}, and noise of the same RMS on the same images"))).AddColumn("examples for");
        foreach (string target in targets)
        {
            table.AddColumn(new TableColumn(Markup.Escape(target)).RightAligned());
        }
        table.AddColumn(new TableColumn("RMS reached").RightAligned()).AddColumn(new TableColumn("clipped").RightAligned());
        foreach (var row in rows)
        {
            table.AddRow([Markup.Escape(row.Source), .. targets.Select(target => Cell(row.Errors[target], paper(row.Source, target))),
                Number(row.Distortion), TransferStudy.Percent(row.ClippedFraction)]);
            table.AddRow(["[grey]  noise[/]", .. targets.Select(target => Cell(row.Noise.Errors[target], null)), Number(row.Noise.Rms), ""]);
        }
        console.Write(table);
    }

    private static void Verdict(IAnsiConsole console, EqualDistortion equal) =>
        console.MarkupLine(Markup.Escape(FormattableString.Invariant(
            $"At equal distortion (RMS {equal.Rms}), significantly above noise of the same RMS on the same images: {equal.AboveRmsNoise} of {equal.Cells} off-diagonal cells; ") +
            (equal.StddevCells == 0
                ? FormattableString.Invariant($"no stddev-{equal.Rms} noise row to compare with")
                : FormattableString.Invariant($"above the stddev-{equal.Rms} noise row: {equal.AboveStddevNoise} of {equal.StddevCells}")) +
            FormattableString.Invariant($"; significantly below: {equal.BelowRmsNoise} and {equal.BelowStddevNoise} ({equal.Test}, p < {equal.Alpha}). ") +
            $"Smallest difference: {TransferText.Points(equal.WorstMargin)} ({equal.WorstCell ?? "-"})."));

    private static string Cell(double rate, double? paper) =>
        // Intervals are in --json; the table keeps to ours and the paper's so that six columns fit a terminal.
        Markup.Escape(TransferStudy.Percent(rate)) + (paper is double value ? $" [grey]({Markup.Escape(TransferStudy.Percent(value))})[/]" : "");

    private static string Number(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    private static int LeastCommonMultiple(int a, int b)
    {
        static int Divisor(int x, int y) => y == 0 ? x : Divisor(y, x % y);
        return checked(a / Divisor(a, b) * b);
    }
}
