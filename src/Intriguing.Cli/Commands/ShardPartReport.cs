using System.Globalization;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// What a shard of <c>transfer</c> or <c>units</c> prints: the part it wrote and the images it covered. Their numbers
/// need the whole run (a transfer row's matched noise is sized to the row's mean over all its examples; a unit's top
/// images come from the whole pool), so `intriguing merge` gives them, not the shard.
/// </summary>
/// <param name="Command">The command that wrote the part.</param>
/// <param name="Shard">"i/n".</param>
/// <param name="Start">The first image of the shard in the run.</param>
/// <param name="Length">Images the shard covered.</param>
/// <param name="Total">Images in the whole run.</param>
/// <param name="Batch">The batch the shard's images are whole batches of.</param>
/// <param name="Part">The part file written.</param>
/// <param name="Seconds">The shard's wall time.</param>
/// <param name="Threads">libtorch's intra-op threads.</param>
public sealed record ShardPartReport(string Command, string Shard, int Start, int Length, int Total, int Batch, string Part, double Seconds, int Threads)
{
    internal static void Render(IAnsiConsole console, ShardPartReport report) =>
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{report.Command} shard {report.Shard}: images {report.Start}..{report.Start + report.Length - 1} of {report.Total} " +
            $"(batches of {report.Batch}) in {report.Seconds:F1} s; wrote {report.Part}. Once every shard has run: intriguing merge {Path.GetDirectoryName(report.Part)}")));
}
