using System.CommandLine;
using System.Globalization;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Training;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing train --model NAME</c>: trains a zoo model (always, replacing its cache entry atomically, unless another
/// run sharing the cache trained the very same model while this one started or waited: then it reports that one),
/// evaluates it on its own split, the test set, P1 and P2, and prints the errors beside the paper's (Tables 1, 3).
/// </summary>
public static class TrainCommand
{
    /// <summary>The paper's errors for the same model and split (fractions; null where the paper gives none).</summary>
    public sealed record PaperErrors(double? TrainError, double? TestError, double? P1Error, double? P2Error);

    /// <summary>
    /// The fields of docs/json-output.md, in its order; errors are fractions. <see cref="Reused"/>: another run trained this
    /// model while this one waited for it, and its file is reported instead of training it twice.
    /// </summary>
    public sealed record TrainResult(
        string Model,
        string Split,
        int Seed,
        int Epochs,
        double TrainError,
        double TestError,
        double P1Error,
        double P2Error,
        double Seconds,
        string Path,
        bool Quick,
        string Recipe,
        PaperErrors? Paper,
        int ResumedFromEpoch,
        bool Reused,
        string Dataset,
        IReadOnlyList<string> ClassNames);

    public static Command Create(CliIo io)
    {
        var model = new Option<string>("--model")
        {
            Description = $"Zoo model to train: {string.Join(", ", ModelZoo.Names)}.",
            Required = true,
        };
        var split = new Option<string>("--split")
        {
            Description = "Training images: train (all 60,000), p1 (first 30,000) or p2 (last 30,000).",
            DefaultValueFactory = _ => "train",
        };
        var seed = CommonOptions.Seed();
        var epochs = new Option<int?>("--epochs")
        {
            Description = "Epochs instead of the recipe's (the model is cached under a name that says so).",
        };
        var quick = new Option<bool>("--quick")
        {
            Description = "The quick recipe of `reproduce --quick` (fewer epochs; cached as <model>-<split>-s<seed>-quick).",
        };
        var dataDir = CommonOptions.DataDir();
        var dataset = CommonOptions.Dataset();
        var resize = CommonOptions.Resize();
        var device = CommonOptions.Device();
        var command = new Command("train", "Train a model of the paper's zoo, store it (safetensors + JSON sidecar) and report its error rates beside the paper's.")
        {
            model,
            split,
            seed,
            epochs,
            quick,
            dataDir,
            dataset,
            resize,
            device,
        };
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            var startedAt = DateTimeOffset.UtcNow;
            // Validate names before loading 60,000 images.
            var spec = ModelZoo.Get(parseResult.GetValue(model)!);
            var trainSplit = SplitNames.Parse(parseResult.GetValue(split)!);
            if (trainSplit == Split.Test)
            {
                throw new BadInputException("--split test: models are never trained on the test set; expected train, p1 or p2");
            }
            int? requestedEpochs = parseResult.GetValue(epochs);
            if (requestedEpochs is < 1)
            {
                throw new BadInputException($"--epochs must be at least 1; got {requestedEpochs}");
            }
            int seedValue = parseResult.GetValue(seed);
            bool quickRecipe = parseResult.GetValue(quick);
            var target = ComputeDevice.Parse(parseResult.GetValue(device)!);

            var result = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                using var outcome = ModelStore.TrainOnce(spec.Name, data, startedAt, trainSplit, seedValue, quickRecipe, requestedEpochs, progress, target);
                return ToResult(spec, outcome.Model, outcome.Reused, data);
            });
            context.Emit(result, console => Render(console, result));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static TrainResult ToResult(ModelSpec spec, TrainedModel trained, bool reused, ImageDataset data)
    {
        var report = trained.Report;
        // The paper's errors are MNIST's: beside a model trained on other data they would mislead.
        var paper = data.Name == DatasetSpec.Mnist.Name ? spec.PaperFor(trained.Split) : null;
        return new TrainResult(
            trained.Name, trained.Split.Name(), trained.Seed, report.Epochs,
            report.TrainError, report.TestError, report.P1Error, report.P2Error,
            Math.Round(report.Seconds, 2), trained.Path, report.Quick, report.Recipe,
            paper is null ? null : new PaperErrors(paper.TrainError, paper.TestError, paper.P1Error, paper.P2Error),
            report.ResumedFromEpoch, reused, data.Origin, data.ClassNames);
    }

    private static void Render(IAnsiConsole console, TrainResult result)
    {
        var table = new Table()
            .Title($"{Markup.Escape(result.Model)} trained on {result.Split}")
            .Caption($"seed {result.Seed}, {result.Epochs} epoch{(result.Epochs == 1 ? "" : "s")}, {result.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s")
            .AddColumn("error on")
            .AddColumn(new TableColumn("ours").RightAligned())
            .AddColumn(new TableColumn("paper").RightAligned());
        table.AddRow($"its training split ({result.Split})", Percent(result.TrainError), Percent(result.Paper?.TrainError));
        table.AddRow("test (10,000)", Percent(result.TestError), Percent(result.Paper?.TestError));
        table.AddRow("P1 (first 30,000)", Percent(result.P1Error), Percent(result.Paper?.P1Error));
        table.AddRow("P2 (last 30,000)", Percent(result.P2Error), Percent(result.Paper?.P2Error));
        console.Write(table);
        console.MarkupLine($"[grey]recipe:[/] {Markup.Escape(result.Recipe)}");
        if (result.ResumedFromEpoch > 0)
        {
            console.MarkupLine($"[grey]continued from the checkpoint of epoch {result.ResumedFromEpoch}[/]");
        }
        console.MarkupLine(result.Reused
            ? $"[grey]trained meanwhile by another run and reused from[/] {Markup.Escape(result.Path)}"
            : $"[grey]saved to[/] {Markup.Escape(result.Path)}");
    }

    private static string Percent(double? fraction) =>
        fraction is double value ? (value * 100).ToString("F2", CultureInfo.InvariantCulture) + "%" : "-";
}
