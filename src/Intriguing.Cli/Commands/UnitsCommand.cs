using System.CommandLine;
using System.Globalization;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
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
        var output = CommonOptions.Out("Folder for the figures, one PNG per layer (none are written without it).");
        var command = new Command("units", "Are single units more interpretable than random directions? Top-K test images per unit and per random direction, their coherence against chance, a Mann-Whitney test and Cliff's delta, and Figures 1-4 style pictures.")
        {
            model, layer, directions, top, pool, rows, seed, dataDir, dataset, resize, device, quick, threads, output,
        };
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            string modelName = parseResult.GetValue(model)!;
            string? layerName = parseResult.GetValue(layer);
            int poolSize = parseResult.GetValue(pool);
            int rowCount = parseResult.GetValue(rows);
            var options = new UnitAnalysisOptions(parseResult.GetValue(top), parseResult.GetValue(directions), parseResult.GetValue(seed));
            if (poolSize < 2 || poolSize > 10_000)
            {
                throw new BadInputException($"--pool must be 2..10000 (test images); got {poolSize}");
            }
            if (rowCount < 1)
            {
                throw new BadInputException($"--rows must be at least 1; got {rowCount}");
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
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            var target = ComputeDevice.Parse(parseResult.GetValue(device)!);

            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                using var trained = ModelStore.GetOrTrain(modelName, data, Split.Train, options.Seed, parseResult.GetValue(quick), progress: progress, device: target);
                var layers = UnitLayers.Resolve(trained.Model, trained.Name, layerName);
                using var images = data.Test.Slice(0, Math.Min(poolSize, data.Test.Count));
                var result = UnitAnalysis.Analyze(trained.Model, trained.Name, images, layers, options, progress);
                // The figures are written only where --out asks: a command never fills the current folder unasked.
                var figures = outFolder is null ? [] : result.Layers.Select(layerResult =>
                {
                    string path = Path.Combine(outFolder, $"units-{trained.Name}-{layerResult.Layer}.png");
                    byte[] png = UnitFigure.Render(layerResult, images.Images, images.Labels,
                        $"{trained.Name}, layer {layerResult.Layer}: top {options.Top} of {poolSize} test images per direction", rowCount);
                    AtomicFile.WriteAllBytes(path, png);
                    return path;
                }).ToList();
                return ToReport(result, figures);
            });
            if (layerName is not null)
            {
                var single = report.Layers[0];
                context.Emit(single, console => Render(console, report));
            }
            else
            {
                context.Emit(report, console => Render(console, report));
            }
            return ExitCodes.Success;
        }));
        return command;
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
