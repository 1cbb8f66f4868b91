using System.CommandLine;
using System.Globalization;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
using Intriguing.Sharding;
using Intriguing.Statistics;
using Intriguing.Units;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing units --model NAME [--layer L] [--directions N] [--top K]</c>: Section 3 of the paper measured. For
/// each hidden layer (or the one named), the test images that most activate every single unit and N random
/// directions, their label purity and pairwise similarity against chance, a Mann-Whitney test with Cliff's delta of
/// units against random directions, the verdict in words, and a Figures 1-4 style picture per layer.
/// </summary>
public static class UnitsCommand
{
    /// <summary>The single-layer form of docs/json-output.md (<c>model, layer, top, natural, random, chance, pValue, figures</c>) and more.</summary>
    public sealed record LayerReport(
        string Model,
        string Layer,
        int Top,
        DirectionFamily Natural,
        DirectionFamily Random,
        double Chance,
        double PValue,
        double EffectSize,
        IReadOnlyList<string> Figures,
        int LayerIndex,
        string LayerBelow,
        int Units,
        int Pool,
        int Directions,
        int Seed,
        ChanceLevels ChanceLevels,
        IReadOnlyList<MeasureComparison> Comparisons,
        UnitVerdictKind VerdictKind,
        bool PaperClaimHolds,
        string Verdict,
        double Seconds,
        double AdjustedPValue,
        int Tests);

    /// <summary>The all-layers form of docs/json-output.md (<c>model, top, layers[]</c>).</summary>
    public sealed record ModelReport(
        string Model,
        int Top,
        IReadOnlyList<LayerReport> Layers,
        IReadOnlyList<string> Figures,
        int Pool,
        int Directions,
        int Seed,
        double ActivationSeconds,
        double Seconds);

    public static Command Create(CliIo io)
    {
        var model = CommonOptions.ModelOrFile("Model to look inside");
        var layer = new Option<string?>("--layer")
        {
            Description = "Hidden layer by name (conv: conv1, conv2, fc1; fc100-100-10: hidden1, hidden2) or index from 0; default every hidden layer. The last one is the classifier's input.",
        };
        var directions = new Option<int>("--directions")
        {
            Description = "Random unit-norm directions compared with the layer's single units.",
            DefaultValueFactory = _ => new UnitAnalysisOptions().RandomDirections,
        };
        var top = new Option<int>("--top")
        {
            Description = "Images kept per direction (K; the paper shows 8).",
            DefaultValueFactory = _ => UnitAnalysisOptions.PaperTop,
        };
        var pool = new Option<int>("--pool")
        {
            Description = "Test images searched, the first ones in order (default: all 10,000, as the paper).",
            DefaultValueFactory = _ => 10_000,
        };
        var rows = new Option<int>("--rows")
        {
            Description = "Directions drawn per panel in each figure.",
            DefaultValueFactory = _ => UnitFigure.DefaultRows,
        };
        var seed = CommonOptions.Seed();
        var dataDir = CommonOptions.DataDir();
        var dataset = CommonOptions.Dataset();
        var resize = CommonOptions.Resize();
        var device = CommonOptions.Device();
        var quick = CommonOptions.QuickModels();
        var threads = CommonOptions.Threads();
        var batch = new Option<int>("--batch")
        {
            Description = $"Images per forward pass (default {UnitAnalysis.DefaultBatch}). With --shard a shard takes whole batches of the pool, so that " +
                "every image's activations come from the batch an unsplit run computes them in (a float result can differ in its last bits with " +
                "its batch): at most ceil(pool / batch) shards get images.",
            DefaultValueFactory = _ => UnitAnalysis.DefaultBatch,
        };
        var shard = CommonOptions.Shard();
        var output = CommonOptions.Out("Folder for the figures, one PNG per layer (none are written without it). With --shard, where the shard writes its part.");
        var command = new Command("units", "Are single units more interpretable than random directions? Top-K test images per unit and per random direction, their coherence against chance, a Mann-Whitney test and Cliff's delta, and Figures 1-4 style pictures.")
        {
            model, layer, directions, top, pool, rows, seed, batch, dataDir, dataset, resize, device, quick, threads, shard, output,
        };
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            string modelName = parseResult.GetValue(model)!;
            string? layerName = parseResult.GetValue(layer);
            int poolSize = parseResult.GetValue(pool);
            int rowCount = parseResult.GetValue(rows);
            int batchSize = parseResult.GetValue(batch);
            var options = new UnitAnalysisOptions(parseResult.GetValue(top), parseResult.GetValue(directions), parseResult.GetValue(seed));
            if (poolSize < 2 || poolSize > 10_000)
            {
                throw new BadInputException($"--pool must be 2..10000 (test images); got {poolSize}");
            }
            if (rowCount < 1)
            {
                throw new BadInputException($"--rows must be at least 1; got {rowCount}");
            }
            if (batchSize < 1)
            {
                throw new BadInputException($"--batch must be at least 1; got {batchSize}");
            }
            options.Validate(poolSize);
            CommonOptions.RequireReadableLayers(modelName, "the unit analysis");
            if (!CommonOptions.CheckModel(modelName))
            {
                // Unknown model or layer names are bad input before any data is loaded or model trained.
                using var blank = ModelZoo.Get(modelName).Create();
                UnitLayers.Resolve(blank, ModelZoo.Get(modelName).Name, layerName);
            }
            string? outFolder = CommonOptions.CheckOut(parseResult.GetValue(output));
            var part = CommonOptions.ParseShard(parseResult.GetValue(shard), outFolder);
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            string deviceName = parseResult.GetValue(device)!;
            var target = ComputeDevice.Parse(deviceName);
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();

            if (part.IsSplit)
            {
                var written = ProgressDisplay.Run(context.Console, progress =>
                {
                    using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                    using var trained = ModelStore.GetOrTrain(modelName, data, Split.Train, options.Seed, parseResult.GetValue(quick), progress: progress, device: target);
                    var layers = UnitLayers.Resolve(trained.Model, trained.Name, layerName);
                    int total = Math.Min(poolSize, data.Test.Count);
                    options.Validate(total);
                    var (start, length) = part.Range(total, batchSize);
                    if (length == 0)
                    {
                        throw new BadInputException(
                            $"--shard {part}: a pool of {total} images in batches of {batchSize} split {part.Count} ways leaves this shard none; " +
                            $"use at most {(total + batchSize - 1) / batchSize} shards, or a smaller --batch");
                    }
                    using var mine = data.Test.Slice(start, length);
                    using var units = UnitPool.Of(trained.Model, trained.Name, mine, layers, batchSize, progress);
                    var settings = new Dictionary<string, string>
                    {
                        ["model"] = modelName,
                        ["layer"] = layerName ?? "(every hidden layer)",
                        ["directions"] = options.RandomDirections.ToString(CultureInfo.InvariantCulture),
                        ["top"] = options.Top.ToString(CultureInfo.InvariantCulture),
                        ["chanceSamples"] = options.ChanceSamples.ToString(CultureInfo.InvariantCulture),
                        ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
                        ["pool"] = poolSize.ToString(CultureInfo.InvariantCulture),
                        ["rows"] = rowCount.ToString(CultureInfo.InvariantCulture),
                        ["batch"] = batchSize.ToString(CultureInfo.InvariantCulture),
                        ["quickModels"] = parseResult.GetValue(quick) ? "true" : "false",
                        ["device"] = deviceName,
                    };
                    var manifest = new ShardManifest("units", settings, part.ToString(), total, start, length, data.Name,
                        new Dictionary<string, string> { [trained.Name] = ShardParts.Fingerprint(trained.Path) }, Intriguing.Reproduction.ReproductionRun.CodeVersion, batchSize);
                    string path = ShardParts.Write(outFolder!, manifest, UnitParts.Of(units));
                    return new ShardPartReport("units", part.ToString(), start, length, total, batchSize, path,
                        Math.Round(stopwatch.Elapsed.TotalSeconds, 2), TorchSharp.torch.get_num_threads());
                });
                context.Emit(written, console => ShardPartReport.Render(console, written));
                return ExitCodes.Success;
            }

            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                using var trained = ModelStore.GetOrTrain(modelName, data, Split.Train, options.Seed, parseResult.GetValue(quick), progress: progress, device: target);
                var layers = UnitLayers.Resolve(trained.Model, trained.Name, layerName);
                using var images = data.Test.Slice(0, Math.Min(poolSize, data.Test.Count));
                options.Validate(images.Count);
                using var units = UnitPool.Of(trained.Model, trained.Name, images, layers, batchSize, progress);
                return Analyze(units, options, poolSize, rowCount, outFolder, progress);
            });
            Emit(context, report, single: layerName is not null);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// The analysis of a pool (computed at once, or put together from shards) and its document; with
    /// <paramref name="outFolder"/> the figures are written there.
    /// </summary>
    private static ModelReport Analyze(UnitPool units, UnitAnalysisOptions options, int poolSize, int rowCount, string? outFolder, IProgress<ProgressUpdate>? progress)
    {
        var result = UnitAnalysis.Analyze(units, options, progress);
        // The figures are written only where --out asks: a command never fills the current folder unasked.
        var figures = outFolder is null ? [] : result.Layers.Select(layerResult =>
        {
            string path = Path.Combine(outFolder, $"units-{units.Model}-{layerResult.Layer}.png");
            byte[] png = UnitFigure.Render(layerResult, units.Pixels, units.Labels,
                $"{units.Model}, layer {layerResult.Layer}: top {options.Top} of {poolSize} test images per direction", rowCount);
            AtomicFile.WriteAllBytes(path, png);
            return path;
        }).ToList();
        return ToReport(result, figures);
    }

    private static void Emit(CommandContext context, ModelReport report, bool single)
    {
        if (single)
        {
            context.Emit(report.Layers[0], console => Render(console, report));
        }
        else
        {
            context.Emit(report, console => Render(console, report));
        }
    }

    /// <summary>
    /// <c>merge</c> of units parts: the pool put back together from the shards' activations, pixels and labels, then the
    /// analysis of an unsplit run on it; with <paramref name="outFolder"/> writes units.json and the figures.
    /// </summary>
    internal static int Merge(CommandContext context, IReadOnlyList<ShardPart> parts, string? outFolder)
    {
        var settings = parts[0].Manifest.Settings;
        string Get(string key) => settings.TryGetValue(key, out string? value) ? value : throw new BadInputException($"merge: the units parts' settings lack '{key}'");
        int Number(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new BadInputException($"merge: the units parts' setting '{key}' is '{Get(key)}'; expected a whole number");
        var options = new UnitAnalysisOptions(Number("top"), Number("directions"), Number("seed"), Number("chanceSamples"));
        bool single = Get("layer") != "(every hidden layer)";
        var report = ProgressDisplay.Run(context.Console, progress =>
        {
            using var units = UnitParts.Merge(parts);
            return Analyze(units, options, Number("pool"), Number("rows"), outFolder, progress);
        });
        if (outFolder is not null)
        {
            object document = single ? report.Layers[0] : report;
            AtomicFile.WriteAllText(Path.Combine(outFolder, "units.json"), System.Text.Json.JsonSerializer.Serialize(document, CliIo.JsonOptions));
        }
        Emit(context, report, single);
        return ExitCodes.Success;
    }

    private static ModelReport ToReport(ModelUnits result, IReadOnlyList<string> figures)
    {
        var layers = result.Layers.Select((layer, index) => new LayerReport(
            result.Model, layer.Layer, layer.Top, layer.Natural, layer.Random, layer.Chance, layer.PValue, layer.EffectSize,
            figures.Count > 0 ? [figures[index]] : [], layer.LayerIndex, layer.LayerBelow, layer.Units, layer.Pool, result.RandomDirections, layer.Seed,
            layer.ChanceLevels, layer.Comparisons, layer.Verdict.Kind, layer.Verdict.PaperClaimHolds, layer.Verdict.Sentence,
            Math.Round(layer.Seconds, 3), layer.AdjustedPValue, layer.Verdict.Tests)).ToList();
        return new ModelReport(result.Model, result.Top, layers, figures, result.Pool, result.RandomDirections, result.Seed,
            Math.Round(result.ActivationSeconds, 3), Math.Round(result.Seconds, 3));
    }

    private static void Render(IAnsiConsole console, ModelReport report)
    {
        var purity = new Table()
            .Title($"Label purity of the top {report.Top} of {report.Pool} test images: single units vs {report.Directions} random directions, {Markup.Escape(report.Model)}")
            .AddColumn("layer")
            .AddColumn(new TableColumn("units compared").RightAligned())
            .AddColumn(new TableColumn("units").RightAligned())
            .AddColumn(new TableColumn("random").RightAligned())
            .AddColumn(new TableColumn("chance").RightAligned())
            .AddColumn(new TableColumn("Cliff's delta").RightAligned())
            .AddColumn(new TableColumn("p (Mann-Whitney; Holm-adjusted)").RightAligned())
            .AddColumn("verdict");
        foreach (var layer in report.Layers)
        {
            var comparison = layer.Comparisons.First(item => item.Measure == LayerUnits.PurityMeasure);
            purity.AddRow(
                Markup.Escape(layer.Layer),
                $"{layer.Natural.Compared}/{layer.Units}",
                WithInterval(layer.Natural),
                WithInterval(layer.Random),
                Number(layer.Chance),
                $"{Signed(comparison.CliffsDelta)} ({UnitVerdicts.Words(comparison.Magnitude)})",
                Markup.Escape($"{PValues.Format(comparison.PValue)} ({PValues.Format(comparison.AdjustedPValue)})"),
                Markup.Escape(UnitVerdicts.Words(layer.VerdictKind)));
        }
        console.Write(purity);

        var similarity = new Table()
            .Title("Without labels: mean pairwise cosine similarity of the top images (units / random / chance, Cliff's delta, p, Holm-adjusted p)")
            .AddColumn("layer")
            .AddColumn("in the layer below")
            .AddColumn("in pixel space");
        foreach (var layer in report.Layers)
        {
            similarity.AddRow(
                Markup.Escape(layer.Layer),
                Markup.Escape($"{layer.LayerBelow}: {Cosine(layer, LayerUnits.LayerBelowCosineMeasure)}"),
                Markup.Escape(Cosine(layer, LayerUnits.PixelCosineMeasure)));
        }
        console.Write(similarity);
        foreach (var layer in report.Layers)
        {
            console.MarkupLine(Markup.Escape(layer.Verdict));
            if (layer.Natural.InactiveExcluded > 0 || layer.Natural.TiedAtCut > 0)
            {
                console.MarkupLine($"[grey]  {layer.Natural.InactiveExcluded} units are active on fewer than {report.Top} images (dead or almost dead) and left out (mean purity with them: {Number(layer.Natural.MeanPurityAllDirections)}); {layer.Natural.TiedAtCut} compared units share their K-th score with further images (cut by index).[/]");
            }
        }
        int tests = report.Layers.FirstOrDefault()?.Tests ?? 0;
        console.MarkupLine($"[grey]p-values Holm-adjusted over the {tests} tests shown; \"no difference detected\" is not a test of equivalence. Directions share top images, so the tests' independence assumption makes p optimistic.[/]");
        console.MarkupLine($"[grey]Paper (Section 3): single units are no more semantically coherent than random directions. Figures:[/] " +
            (report.Figures.Count > 0 ? Markup.Escape(string.Join(", ", report.Figures)) : "[grey]none written (give --out DIR for them)[/]"));
        console.MarkupLine($"[grey]Time: {report.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s ({report.ActivationSeconds.ToString("F1", CultureInfo.InvariantCulture)} s of activations), seed {report.Seed}.[/]");
    }

    private static string Cosine(LayerReport layer, string measure)
    {
        var comparison = layer.Comparisons.First(item => item.Measure == measure);
        return $"{Number(comparison.Natural)} / {Number(comparison.Random)} / {Number(comparison.Chance)}, {Signed(comparison.CliffsDelta)}, p {PValues.Format(comparison.PValue)} ({PValues.Format(comparison.AdjustedPValue)})";
    }

    private static string WithInterval(DirectionFamily family) =>
        Markup.Escape($"{Number(family.MeanPurity)} [{Number(family.PurityInterval[0])}, {Number(family.PurityInterval[1])}]");

    private static string Number(double value) => double.IsFinite(value) ? value.ToString("0.000", CultureInfo.InvariantCulture) : "-";

    private static string Signed(double value) => value.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture);
}
