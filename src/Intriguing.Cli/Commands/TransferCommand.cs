using System.CommandLine;
using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
using Intriguing.Reproduction;
using Intriguing.Transfer;
using Spectre.Console;

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
        var output = CommonOptions.Out("Folder for the heat maps and curves (PNG); none written without it.");
        var command = new Command("transfer", "Do adversarial examples made for one model fool others (the paper's Tables 2 and 4)? Rates with 95% intervals, beside noise of the same size and the paper's numbers.")
        {
            sources, targets, count, method, magnify, crossSplit, seed, dataDir, dataset, resize, device, quick, threads, output,
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
            int seedValue = parseResult.GetValue(seed);
            bool isCrossSplit = parseResult.GetValue(crossSplit);
            string? outFolder = CommonOptions.CheckOut(parseResult.GetValue(output));
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            var target = ComputeDevice.Parse(parseResult.GetValue(device)!);
            double rms = magnifyRms ?? 0.1;
            var lbfgs = new BoxConstrainedLbfgs();
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();

            var report = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                using var study = new StudyContext(data, seedValue, parseResult.GetValue(quick), progress, target) { Declaration = declared };
                var table2Options = TransferOptions.Table2(seedValue, rms);
                if (magnifyRms is double extra && !table2Options.NoiseStddevs.Contains(extra))
                {
                    table2Options = table2Options with { NoiseStddevs = [.. table2Options.NoiseStddevs, extra] };
                }
                var matrix = TransferStudy.Measure(study, sourceNames, targetNames, [methodName], imageCount, lbfgs, table2Options)[0].Result;
                CrossSplitReport? cross = null;
                TransferMatrix? table4 = null;
                if (isCrossSplit)
                {
                    table4 = TransferStudy.Measure(study, PaperTransfer.Table4Models, [methodName], imageCount, lbfgs, TransferOptions.Table4(seedValue, rms))[0].Result;
                    cross = new CrossSplitReport(table4.Targets, table4.Rows, table4.Magnified, table4.Noise, table4.Curves, table4.CleanErrors, table4.EqualDistortion);
                }
                var figures = outFolder is null ? [] : WriteFigures(Path.GetFullPath(outFolder), methodName, matrix, table4);
                string settings = matrix.Rows.FirstOrDefault()?.Attack ?? lbfgs.Describe();
                return new TransferReport(
                    matrix.Count,
                    magnifyRms is null ? [.. matrix.Rows.Cast<object>()] : [.. matrix.Magnified.Cast<object>()],
                    matrix.Noise,
                    cross,
                    methodName,
                    settings,
                    magnifyRms is not null,
                    rms,
                    matrix.Sources,
                    matrix.Targets,
                    matrix.Rows,
                    matrix.Magnified,
                    matrix.Curves,
                    matrix.CleanErrors,
                    matrix.EqualDistortion,
                    figures,
                    seedValue,
                    Math.Round(stopwatch.Elapsed.TotalSeconds, 2),
                    Math.Round(matrix.Seconds + (table4?.Seconds ?? 0), 2),
                    TorchSharp.torch.get_num_threads());
            });
            context.Emit(report, console => Render(console, report));
            return ExitCodes.Success;
        }));
        return command;
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
}
