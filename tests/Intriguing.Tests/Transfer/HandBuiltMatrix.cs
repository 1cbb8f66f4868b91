using Intriguing.Transfer;

namespace Intriguing.Tests.Transfer;

/// <summary>
/// How many images of a cell only the adversarial examples fool (<see cref="ExamplesOnly"/>), only the noise fools
/// (<see cref="NoiseOnly"/>), and both fool (<see cref="Both"/>): the examples fool images [0, examplesOnly + both), the
/// noise [examplesOnly, examplesOnly + both + noiseOnly).
/// </summary>
internal readonly record struct CellSpec(int ExamplesOnly, int NoiseOnly, int Both = 0)
{
    public bool[] Examples(int images) => Range(images, 0, ExamplesOnly + Both);

    public bool[] Noise(int images) => Range(images, ExamplesOnly, ExamplesOnly + Both + NoiseOnly);

    public static bool[] Range(int images, int from, int to) => [.. Enumerable.Range(0, images).Select(image => image >= from && image < to)];
}

/// <summary>
/// Transfer matrices built by hand from per-image outcomes, with every row on the same <c>images</c> images, so that
/// the claims can be judged on inputs whose verdict is known. The derived fields (rates, intervals, p-values,
/// discordant counts) come from the library's own <see cref="TransferCells"/>, as in a measurement.
/// </summary>
internal static class HandBuiltMatrix
{
    public const double Rms = 0.1;

    /// <param name="models">Sources and targets alike.</param>
    /// <param name="images">Images under every row.</param>
    /// <param name="plain">Per (source, target): the plain examples against noise of the row's own distortion.</param>
    /// <param name="magnified">Per (source, target): the magnified examples against noise of the same RMS.</param>
    /// <param name="paperNoise">Per target: how many images the paper's noise row of stddev <see cref="Rms"/> fools (the last ones); null: no such row.</param>
    public static TransferMatrix Build(IReadOnlyList<string> models, int images, Func<string, string, CellSpec> plain, Func<string, string, CellSpec> magnified,
        Func<string, int>? paperNoise = null)
    {
        long[] indices = [.. Enumerable.Range(0, images).Select(image => (long)image)];
        NoiseRow? stddevRow = paperNoise is null ? null : Noise("stddev", null, images,
            models.Select(target => (target, CellSpec.Range(images, images - paperNoise(target), images))));
        var rows = new List<TransferRow>();
        var magnifiedRows = new List<MagnifiedRow>();
        foreach (string source in models)
        {
            var examples = TransferCells.FromOutcomes(models.Select(target => (target, plain(source, target).Examples(images))));
            var matched = Noise("matched", source, images, models.Select(target => (target, plain(source, target).Noise(images))));
            var clean = TransferCells.From(models.Select(target => (target, 0, images)));
            var againstMatched = examples.PairedWith(matched.Cells);
            rows.Add(new TransferRow(source, 0.06, 1.7, images, images, 1, "hand-built", true, examples.Errors, examples.Intervals, examples.Counts,
                examples.Fooled, clean.Errors, clean.Intervals, matched, 0, TransferCells.PValuesOf(againstMatched), TransferCells.DiscordantOf(againstMatched), indices, examples.Outcomes));

            var scaled = TransferCells.FromOutcomes(models.Select(target => (target, magnified(source, target).Examples(images))));
            var sameRms = Noise("rms", source, images, models.Select(target => (target, magnified(source, target).Noise(images))));
            var againstSameRms = scaled.PairedWith(sameRms.Cells);
            var againstPaper = stddevRow is null ? null : scaled.PairedWith(stddevRow.Cells, indices);
            magnifiedRows.Add(new MagnifiedRow(source, Rms, Rms, 0.03, 0, images, scaled.Errors, scaled.Intervals, scaled.Counts, scaled.Fooled, sameRms,
                TransferCells.PValuesOf(againstSameRms), TransferCells.DiscordantOf(againstSameRms), stddevRow?.Stddev,
                againstPaper is null ? new Dictionary<string, double>() : TransferCells.PValuesOf(againstPaper),
                againstPaper is null ? new Dictionary<string, int[]>() : TransferCells.DiscordantOf(againstPaper), indices, scaled.Outcomes));
        }
        return new TransferMatrix(images, models, models, rows, magnifiedRows, stddevRow is null ? [] : [stddevRow], [],
            models.ToDictionary(target => target, _ => 0.0), TransferVerdicts.EqualDistortion(rows, magnifiedRows, Rms), 0);
    }

    /// <summary>A matrix where every cell is the same.</summary>
    public static TransferMatrix Uniform(IReadOnlyList<string> models, int images, CellSpec cell, int? paperNoise = 0) =>
        Build(models, images, (_, _) => cell, (_, _) => cell, paperNoise is int fooled ? _ => fooled : null);

    private static NoiseRow Noise(string kind, string? source, int images, IEnumerable<(string Target, bool[] Wrong)> outcomes)
    {
        var cells = TransferCells.FromOutcomes(outcomes);
        return new NoiseRow(kind, Rms, Rms, source, images, cells.Errors, cells.Intervals, cells.Counts, cells.Fooled, cells.Outcomes);
    }
}
