using System.Text.Json.Nodes;
using Intriguing.Reporting;

namespace Intriguing.Tests.Reporting;

/// <summary>Small reports shared by the reporting tests; no TorchSharp needed.</summary>
internal static class ReportSamples
{
    public sealed record ModelErrors(string Model, double TrainError, double TestError, double PaperTestError);

    public static ReportEnvironment Environment() => new(
        DotnetVersion: ".NET 10.0.0",
        TorchSharpVersion: "0.107.0",
        LibTorchVersion: "2.10.0",
        OperatingSystem: "Linux (X64)",
        CpuThreads: 2,
        TorchThreads: 2,
        Seed: 42,
        Quick: true,
        WallTime: TimeSpan.FromSeconds(75.5),
        CommandLine: "./intriguing reproduce --quick",
        StartedUtc: new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    /// <summary>A 1x1 white PNG drawn with the image grid, so tests have real PNG bytes without a chart.</summary>
    public static byte[] TinyPng() =>
        ImageGrid.Render([new ImageGridRow(null, [[1f]])], new ImageGridOptions(ImageWidth: 1, ImageHeight: 1, Scale: 1, Gap: 0, Margin: 0));

    public static Report TwoSections(string figureCaption = "Test error per model", string proseExtra = "") => new(
        "Intriguing properties: reproduction",
        Environment(),
        [
            new ReportSection("table1", "Table 1: MNIST models", "The paper trains six models. **Ours** beside *theirs* with `--quick`." + proseExtra)
            {
                Tables =
                [
                    new ReportTable(
                        "Error rates",
                        ["model", ReportCell.Ours("test error"), ReportCell.Paper("paper")],
                        [
                            ["FC10(1e-4)", .. ReportFormat.OursAndPaperCells(ReportFormat.Percent(0.071), ReportFormat.Percent(0.074))],
                            ["FC100-100-10", .. ReportFormat.OursAndPaperCells(ReportFormat.Percent(0.0171), "1.64%")],
                        ]),
                ],
                Figures = [new ReportFigure("table1-errors.png", figureCaption, TinyPng())],
                Data = new[] { new ModelErrors("fc10-1e-4", 0.065, 0.071, 0.074) },
            },
            new ReportSection("attacks", "Attacks", "FGSM and PGD on the zoo.")
            {
                Data = new JsonObject { ["fgsmErrorRate"] = 0.9 },
            },
        ]);

    public static string TemporaryFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "intriguing-report-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }
}
