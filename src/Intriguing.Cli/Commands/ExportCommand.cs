using System.CommandLine;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Models;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing export --model NAME --out DIR</c>: writes a zoo model (trained first if it is not cached) as a PyTorch
/// state dict in safetensors plus a <c>model.json</c>, which <c>tools/intriguing_zoo.py</c> loads into PyTorch.
/// </summary>
public static class ExportCommand
{
    /// <summary>What <c>--json</c> prints.</summary>
    public sealed record ExportResult(string Model, string Split, int Seed, string Folder, string Weights, string Declaration, string Sha256, double TestError);

    public static Command Create(CliIo io)
    {
        var model = new Option<string>("--model")
        {
            Description = $"Model to export: a zoo name ({string.Join(", ", ModelZoo.Names)}; trained first when it is not cached) or a model file the product wrote.",
            Required = true,
        };
        var split = new Option<string>("--split")
        {
            Description = "Training images of the model: train (all 60,000), p1 or p2.",
            DefaultValueFactory = _ => "train",
        };
        var seed = CommonOptions.Seed();
        var quick = CommonOptions.QuickModels();
        var dataset = CommonOptions.Dataset();
        var dataDir = CommonOptions.DataDir();
        var output = new Option<string>("--out")
        {
            Description = "Folder to write model.safetensors and model.json into (created if missing; files there of those names are replaced).",
            Required = true,
        };
        var command = new Command("export",
            "Export a zoo model for PyTorch: model.safetensors (the state dict under PyTorch's layer names) and model.json " +
            "(architecture, input shape, classes, training). tools/intriguing_zoo.py rebuilds it as a torch.nn.Module; " +
            "--model accepts such a folder's model.safetensors back.")
        {
            model, split, seed, quick, dataset, dataDir, output,
        };
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            string name = parseResult.GetValue(model)!;
            CommonOptions.CheckModel(name);
            var splitValue = SplitNames.Parse(parseResult.GetValue(split)!);
            string folder = Intriguing.IO.PathChecks.WritableFolder(parseResult.GetValue(output)!, "--out");
            int seedValue = parseResult.GetValue(seed);
            var exported = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(parseResult.GetValue(dataset)!, parseResult.GetValue(dataDir), progress);
                using var trained = ModelStore.GetOrTrain(name, data, splitValue, seedValue, parseResult.GetValue(quick), progress: progress);
                var files = ModelExport.Export(trained, folder);
                return new ExportResult(trained.Name, trained.Split.Name(), trained.Seed, files.Folder, files.WeightsPath, files.DeclarationPath, files.Sha256, trained.Report.TestError);
            });
            context.Emit(exported, console =>
            {
                console.MarkupLine($"exported [bold]{Markup.Escape(exported.Model)}[/] (test error {exported.TestError * 100:F2}%) to {Markup.Escape(exported.Folder)}");
                console.MarkupLine($"  {Markup.Escape(exported.Weights)}  [grey]sha256 {exported.Sha256}[/]");
                console.MarkupLine($"  {Markup.Escape(exported.Declaration)}");
                console.MarkupLine("[grey]load it in PyTorch: python3 tools/intriguing_zoo.py " + Markup.Escape(exported.Folder) + "[/]");
            });
            return ExitCodes.Success;
        }));
        return command;
    }
}
