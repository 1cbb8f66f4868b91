using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Intriguing.Attacks;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
using Intriguing.Spectral;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing spectral --model NAME|PATH</c> or <c>--arch alexnet [--weights FILE]</c>: the paper's Section 4.4. Per-layer
/// upper Lipschitz bounds and their product, the amplification measured on random, adversarial and worst-local
/// perturbations (<c>sound</c> says none exceeded its bound), and for a zoo model the L2 radius the bound certifies around
/// each test image beside the distortion L-BFGS, C&amp;W and DeepFool needed. <c>--out DIR</c> writes the plots.
/// </summary>
public static class SpectralCommand
{
    public static readonly string Table5Note =
        $"Table 5's numbers ({SpectralVerdicts.PaperTable5(AlexNet.PaperTable5)}) belong to the paper's AlexNet trained on ImageNet; " +
        "ours come from the weights this run was given";

    /// <summary>The methods whose smallest successful L2 perturbation is compared with the certified radius.</summary>
    public static readonly IReadOnlyList<string> AttackMethods = ["lbfgs", "cw", "deepfool"];

    /// <summary>The fields of docs/json-output.md (model, layers[]{name,kind,bound,exact}, product, empirical{maxRatio,samples}, sound).</summary>
    public sealed record SpectralReport(
        string Model,
        IReadOnlyList<LayerRow> Layers,
        double Product,
        EmpiricalSummary Empirical,
        bool Sound,
        IReadOnlyList<Violation> Violations,
        CertifiedSummary? Certified,
        IReadOnlyDictionary<string, AttackSummaryLine>? Attacks,
        string Inputs,
        string Weights,
        string? Note,
        int Seed,
        double BoundSeconds,
        double MeasureSeconds,
        double AttackSeconds,
        double CpuSeconds,
        IReadOnlyList<string> Figures);

    /// <summary>One attack's outcome on the measured images (median L2 over successes).</summary>
    public sealed record AttackSummaryLine(double SuccessRate, double MedianDistortion, int Successes, double Seconds);

    public static Command Create(CliIo io)
    {
        var model = new Option<string?>("--model")
        {
            Description = $"Zoo model ({string.Join(", ", ModelZoo.Names)}) or a model file path.",
        };
        var arch = new Option<string?>("--arch")
        {
            Description = "An architecture instead of a zoo model: alexnet (Krizhevsky et al. 2012, the paper's Table 5).",
        };
        var weights = new Option<string?>("--weights")
        {
            Description = "With --arch alexnet: a safetensors file with conv1.weight .. fc8.bias; default He-initialised random weights (seeded).",
        };
        var count = new Option<int?>("--count")
        {
            Description = "Test images measured on (default 1000), or random images for AlexNet (default 4).",
        };
        var seed = CommonOptions.Seed();
        var split = new Option<string>("--split")
        {
            Description = "Training split of the zoo model: train (default), p1 or p2.",
            DefaultValueFactory = _ => "train",
        };
        var quick = CommonOptions.QuickModels();
        var penalty = new Option<double?>("--penalty")
        {
            Description = "Analyse the zoo model trained with the spectral-norm penalty of this weight added to its loss (trained and cached on first use; the study uses 0.01).",
        };
        var dataDir = CommonOptions.DataDir();
        var dataset = CommonOptions.Dataset();
        var resize = CommonOptions.Resize();
        var threads = CommonOptions.Threads();
        var output = CommonOptions.Out("Folder for the plots (certified radius vs attack distortion; bounds beside Table 5) and certified.json.");
        var command = new Command("spectral",
            "Section 4.4: per-layer upper Lipschitz bounds (Table 5), checked against measured amplification, and the L2 radius they certify beside what attacks need.")
        {
            model, arch, weights, count, seed, split, quick, penalty, dataDir, dataset, resize, threads, output,
        };
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            string? modelName = parseResult.GetValue(model);
            string? archName = parseResult.GetValue(arch);
            string? weightsFile = parseResult.GetValue(weights);
            int seedValue = parseResult.GetValue(seed);
            if ((modelName is null) == (archName is null))
            {
                throw new BadInputException("give exactly one of --model NAME|PATH and --arch alexnet");
            }
            if (archName is not null && !string.Equals(archName.Trim(), "alexnet", StringComparison.OrdinalIgnoreCase))
            {
                throw new BadInputException($"--arch: unknown architecture '{archName}'; expected alexnet");
            }
            CommonOptions.RequireReadableLayers(modelName, "the spectral analysis");
            double? penaltyWeight = parseResult.GetValue(penalty);
            if (penaltyWeight is not null && (modelName is null || ModelStore.IsPath(modelName)))
            {
                throw new BadInputException("--penalty trains a zoo model with the spectral-norm penalty: give --model NAME of the zoo");
            }
            if (penaltyWeight is double w && !(w > 0 && double.IsFinite(w)))
            {
                throw new BadInputException($"--penalty must be a finite number > 0; got {w}");
            }
            if (weightsFile is not null && archName is null)
            {
                throw new BadInputException("--weights goes with --arch alexnet; a zoo model brings its own weights");
            }
            int imageCount = parseResult.GetValue(count) ?? (archName is null ? 1000 : 4);
            int most = archName is null ? 10_000 : 64;
            if (imageCount < 1 || imageCount > most)
            {
                throw new BadInputException($"--count must be 1..{most}; got {imageCount}");
            }
            if (modelName is not null)
            {
                CommonOptions.CheckModel(modelName);
            }
            if (weightsFile is not null)
            {
                PathChecks.ReadableFile(weightsFile, "--weights");
            }
            string? outFolder = CommonOptions.CheckOut(parseResult.GetValue(output));
            var trainSplit = SplitNames.Parse(parseResult.GetValue(split)!);
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));

            var report = ProgressDisplay.Run(context.Console, progress => archName is not null
                ? RunAlexNet(weightsFile, imageCount, seedValue, outFolder, progress)
                : RunZoo(modelName!, trainSplit, parseResult.GetValue(quick), penaltyWeight, datasetChoice, parseResult.GetValue(dataDir), imageCount, seedValue, outFolder, progress));
            context.Emit(report, console => Render(console, report));
            return report.Sound ? ExitCodes.Success : ExitCodes.Failed;
        }));
        return command;
    }

    private static SpectralReport RunAlexNet(string? weightsFile, int count, int seed, string? outFolder, IProgress<ProgressUpdate> progress)
    {
        using var network = weightsFile is null ? AlexNet.HeInitialised(seed) : AlexNet.FromSafeTensors(weightsFile);
        string weights = weightsFile is null ? $"He-initialised random weights (seed {seed})" : $"weights from {weightsFile}";
        var result = SpectralAnalysis.ForAlexNet(network, count, weights, SpectralAnalysis.AlexNetSettings(seed), progress);
        var figures = new List<string>();
        if (outFolder is not null)
        {
            string path = Path.Combine(outFolder, "spectral-alexnet-table5.png");
            AtomicFile.WriteAllBytes(path, SpectralFigures.BoundsBesidePaper("AlexNet: our per-layer bounds beside the paper's Table 5", result.Layers));
            figures.Add(path);
        }
        return ToReport(result, null, seed, 0, $"{Table5Note} ({weights}).", figures);
    }

    private static SpectralReport RunZoo(string modelName, Split split, bool quick, double? penalty, DatasetChoice datasetChoice, string? dataDir, int count, int seed,
        string? outFolder, IProgress<ProgressUpdate> progress)
    {
        using var data = ImageDataset.Load(datasetChoice, dataDir, progress);
        using var trained = penalty is double weight
            ? SpectralPenaltyTraining.GetOrTrain(modelName, data, split, seed, quick, weight, progress)
            : ModelStore.GetOrTrain(modelName, data, split, seed, quick, progress: progress);
        using var test = data.Test.Slice(0, Math.Min(count, data.Test.Count));
        var attacks = new Dictionary<string, AttackResult>();
        double attackSeconds = 0;
        foreach (string method in AttackMethods)
        {
            var result = AttackCatalog.Create(method, seed: seed).Run(trained.Model, test.Images, test.Labels, progress: progress);
            attacks[method] = result;
            attackSeconds += result.Summary.Seconds;
        }
        var analysis = SpectralAnalysis.ForClassifier(trained.Model, trained.Name, test.Images, test.Labels, attacks,
            new SpectralSettings(Seed: seed), $"{trained.Name} trained on {trained.Split.Name()}, seed {trained.Seed}, {trained.Report.Recipe}; test error {trained.Report.TestError:P2}", progress);
        var figures = new List<string>();
        if (outFolder is not null)
        {
            string plot = Path.Combine(outFolder, $"spectral-{trained.Name}-certified.png");
            AtomicFile.WriteAllBytes(plot, SpectralFigures.CertifiedVersusAttack([(trained.Name, analysis.CertifiedImages)]));
            figures.Add(plot);
            string perImage = Path.Combine(outFolder, $"spectral-{trained.Name}-certified.json");
            AtomicFile.WriteAllText(perImage, JsonSerializer.Serialize(analysis.CertifiedImages, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
            figures.Add(perImage);
        }
        var lines = attacks.ToDictionary(entry => entry.Key, entry => new AttackSummaryLine(
            entry.Value.Summary.SuccessRate, entry.Value.Summary.MedianDistortion, entry.Value.Summary.Successes, entry.Value.Summary.Seconds));
        return ToReport(analysis, lines, seed, attackSeconds, null, figures);
    }

    private static SpectralReport ToReport(SpectralResult result, IReadOnlyDictionary<string, AttackSummaryLine>? attacks, int seed,
        double attackSeconds, string? note, IReadOnlyList<string> figures) =>
        new(result.Model, result.Layers, result.Product, result.Empirical, result.Sound, result.Soundness.Violations, result.Certified,
            attacks, result.Inputs, result.Weights, note, seed, Math.Round(result.BoundSeconds, 2), Math.Round(result.MeasureSeconds, 2),
            Math.Round(attackSeconds, 2), Math.Round(result.CpuSeconds, 2), figures);

    private static void Render(IAnsiConsole console, SpectralReport report)
    {
        bool paper = report.Layers.Any(layer => layer.Paper is not null);
        var table = new Table()
            .Title($"Upper Lipschitz bounds of {Markup.Escape(report.Model)} (Section 4.4)")
            .Caption(Markup.Escape($"measured on {report.Inputs}; {report.Weights}"))
            .AddColumn("layer")
            .AddColumn("kind")
            .AddColumn(new TableColumn("bound").RightAligned())
            .AddColumn(new TableColumn("exact or estimate").RightAligned())
            .AddColumn(new TableColumn("max measured").RightAligned())
            .AddColumn("how");
        if (paper)
        {
            table.AddColumn(new TableColumn("Table 5 (paper)").RightAligned());
        }
        foreach (var layer in report.Layers)
        {
            var cells = new List<string>
            {
                Markup.Escape(layer.Name), layer.Kind, Number(layer.Bound),
                layer.Exact is double exact ? Number(exact) + (layer.ExactKind == NumberKind.Estimate ? " (estimate)" : "") : "-",
                Number(layer.MaxRatio), Markup.Escape(layer.BoundMethod),
            };
            if (paper)
            {
                cells.Add(layer.Paper is double value ? Number(value) : "");
            }
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
        console.MarkupLine($"whole network: bound (product) [bold]{Number(report.Product)}[/], largest measured ||phi(x) - phi(x+r)|| / ||r|| " +
            $"[bold]{Number(report.Empirical.MaxRatio)}[/] over {report.Empirical.Samples} pairs");
        foreach (var source in report.Empirical.BySource)
        {
            console.MarkupLine($"  [grey]{Markup.Escape(source.Source)}:[/] max {Number(source.MaxRatio)}, median {Number(source.MedianRatio)} ({source.Samples} pairs)");
        }
        console.MarkupLine(report.Sound
            ? "[green]sound[/]: every measured ratio is at or under its bound"
            : $"[red]NOT sound[/]: {Markup.Escape(SpectralVerdicts.Sound([(report.Model, new SoundnessVerdict(false, report.Violations, 0))]).Sentence)}");
        if (report.Certified is { } certified)
        {
            console.MarkupLine($"certified L2 radius margin / (sqrt(2) * {Number(report.Product)}): median {Number(certified.MedianCertifiedL2)} over {certified.Correct} correct images; " +
                $"smallest attack L2 (L-BFGS, C&W, DeepFool): median {Number(certified.MedianAttackL2)}; attack / certified: median {Number(certified.MedianRatio)} " +
                $"(min {Number(certified.MinRatio)}) over {certified.Compared} images");
        }
        if (report.Note is not null)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(report.Note)}[/]");
        }
        console.MarkupLine($"[grey]bounds {report.BoundSeconds:F1} s, measurements {report.MeasureSeconds:F1} s (processor time {report.CpuSeconds:F1} s)" +
            $"{(report.AttackSeconds > 0 ? $", attacks {report.AttackSeconds:F1} s" : "")}[/]");
        foreach (var figure in report.Figures)
        {
            console.MarkupLine($"[grey]wrote[/] {Markup.Escape(figure)}");
        }
    }

    private static string Number(double value) =>
        double.IsFinite(value) ? value.ToString(value >= 100 ? "F1" : "G4", CultureInfo.InvariantCulture) : "-";
}
