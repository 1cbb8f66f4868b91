using static Intriguing.Transfer.TransferText;

namespace Intriguing.Transfer;

/// <summary>
/// The descriptive sentences of the transfer sections, each computed from the numbers it speaks of (so each can come
/// out either way): how large the paper's noise is beside the examples, what the curves do, and how our matrix stands
/// against the paper's. The claims themselves are <see cref="TransferVerdicts"/>.
/// </summary>
public static class TransferFindings
{
    /// <summary>
    /// The RMS each of the paper's noise rows ("stddev") reaches after clipping to the box, and how many rows' examples
    /// are smaller on average; null when the matrix has no such row or no row has examples.
    /// </summary>
    public static string? NoiseSize(TransferMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var rows = matrix.Rows.Where(row => row.Examples > 0).ToList();
        var noise = matrix.Noise.Where(row => row.Kind == "stddev").ToList();
        if (noise.Count == 0 || rows.Count == 0)
        {
            return null;
        }
        string range = $"{Number(rows.Min(row => row.Distortion))}-{Number(rows.Max(row => row.Distortion))}";
        return string.Join("; ", noise.Select(row =>
                FormattableString.Invariant($"Noise of stddev {row.Stddev} reaches RMS {Number(row.Rms)}, larger than the mean distortion of ") +
                $"{rows.Count(source => row.Rms > source.Distortion)} of {rows.Count} rows")) +
            $" (the rows' mean distortions: {range}).";
    }

    /// <summary>
    /// What the error-against-distortion curves do: in how many (source, target) pairs the adversarial error and the
    /// noise error never fall from one RMS level to the next, and at the largest level how often the adversarial error
    /// is above the noise error (point estimates). Null without curves.
    /// </summary>
    public static string? Curves(IReadOnlyList<TransferCurve> curves)
    {
        ArgumentNullException.ThrowIfNull(curves);
        var pairs = curves.Where(curve => curve.Examples > 0 && curve.Rms.Length > 1)
            .SelectMany(curve => curve.Adversarial.Keys.Select(target => (Adversarial: curve.Adversarial[target], Noise: curve.Noise[target], Levels: curve.Rms)))
            .ToList();
        if (pairs.Count == 0)
        {
            return null;
        }
        double[] levels = pairs[0].Levels;
        int adversarialRises = pairs.Count(pair => NeverFalls(pair.Adversarial));
        int noiseRises = pairs.Count(pair => NeverFalls(pair.Noise));
        int aboveAtTop = pairs.Count(pair => pair.Adversarial[^1] > pair.Noise[^1]);
        return $"On the curves ({levels.Length} RMS levels, {Number(levels[0], 2)} to {Number(levels[^1], 2)}), the error on the scaled examples never falls " +
            $"from one level to the next in {adversarialRises} of {pairs.Count} (source, target) pairs, the error under noise of the same RMS in {noiseRises} of {pairs.Count}; " +
            $"at RMS {Number(levels[^1], 2)} the examples' error is above the noise's in {aboveAtTop} of {pairs.Count} (point estimates).";
    }

    /// <summary>
    /// Our off-diagonal cells against the paper's (point estimates: the paper gives no counts), the rows' distortion
    /// against the paper's and whether the rows with less distortion transfer less, and the target whose noise error
    /// exceeds the paper's most. Null when no cell has a counterpart in the paper.
    /// </summary>
    public static string? AgainstPaper(TransferMatrix matrix, Func<string, string, double?> paper, Func<string, double?> paperDistortion,
        Func<double, string, double?>? paperNoise)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(paper);
        ArgumentNullException.ThrowIfNull(paperDistortion);
        var cells = matrix.Rows.SelectMany(row => matrix.Targets.Where(target => target != row.Source)
                .Select(target => (row.Source, Target: target, Ours: row.Errors[target], Paper: paper(row.Source, target))))
            .Where(cell => cell.Paper is not null)
            .Select(cell => (cell.Source, cell.Target, cell.Ours, Paper: cell.Paper!.Value))
            .ToList();
        if (cells.Count == 0)
        {
            return null;
        }
        int higher = cells.Count(cell => cell.Ours > cell.Paper);
        int lower = cells.Count(cell => cell.Ours < cell.Paper);
        double meanDifference = cells.Average(cell => Math.Abs(cell.Ours - cell.Paper));
        var largest = cells.OrderByDescending(cell => Math.Abs(cell.Ours - cell.Paper)).Take(3)
            .Select(cell => $"{cell.Source} -> {cell.Target} {Percent(cell.Ours)} against {Percent(cell.Paper)}");
        string text = $"Against the paper's {cells.Count} off-diagonal cells (point estimates; the paper gives no counts), ours are higher in {higher} and lower in {lower}" +
            (cells.Count - higher - lower > 0 ? $", equal in {cells.Count - higher - lower}" : "") +
            $", {Points(meanDifference)} apart on average; the largest differences: {string.Join("; ", largest)}.";

        var distortions = matrix.Rows.Select(row => $"{row.Source} {Number(row.Distortion)}" + (paperDistortion(row.Source) is double value ? $" ({Number(value)})" : ""));
        text += $" Mean distortion of each row, ours (paper's): {string.Join(", ", distortions)}. Our L-BFGS stops at the smallest distortion that succeeds, " +
            "so its examples sit just past the source's boundary.";
        var compared = matrix.Rows
            .Select(row => (Row: row, PaperDistortion: paperDistortion(row.Source), Paper: cells.Where(cell => cell.Source == row.Source).ToList()))
            .Where(item => item.PaperDistortion is not null && item.Paper.Count > 0 && item.Row.Examples > 0)
            .Select(item => (Smaller: item.Row.Distortion < item.PaperDistortion!.Value, Larger: item.Row.Distortion > item.PaperDistortion!.Value,
                Ours: item.Paper.Average(cell => cell.Ours), Paper: item.Paper.Average(cell => cell.Paper)))
            .ToList();
        var smaller = compared.Where(item => item.Smaller).ToList();
        var larger = compared.Where(item => item.Larger).ToList();
        if (compared.Count > 0)
        {
            text += $" Of the {Rows(smaller.Count)} with less distortion than the paper's, {smaller.Count(item => item.Ours < item.Paper)} transfer less than the paper's row " +
                $"(mean over the cells the paper gives); of the {Rows(larger.Count)} with more, {larger.Count(item => item.Ours > item.Paper)} transfer more.";
        }

        if (paperNoise is not null)
        {
            var noiseCells = matrix.Noise.Where(row => row.Kind == "stddev")
                .SelectMany(row => matrix.Targets.Select(target => (row.Stddev, Target: target, Ours: row.Errors[target], Paper: paperNoise(row.Stddev, target))))
                .Where(cell => cell.Paper is not null)
                .ToList();
            if (noiseCells.Count > 0)
            {
                var most = noiseCells.MaxBy(cell => cell.Ours - cell.Paper!.Value);
                text += most.Ours > most.Paper!.Value
                    ? FormattableString.Invariant($" Under the paper's noise rows, the target whose error exceeds the paper's most is {most.Target} ({Percent(most.Ours)} against {Percent(most.Paper.Value)} at stddev {most.Stddev}); ") +
                        "our models are not the paper's, which is why every cell is also compared with noise of the same RMS on the same images."
                    : " Under the paper's noise rows no target's error exceeds the paper's.";
            }
        }
        return text;
    }

    private static string Rows(int count) => count == 1 ? "1 row" : $"{count} rows";

    private static bool NeverFalls(double[] values)
    {
        for (int index = 1; index < values.Length; index++)
        {
            if (values[index] < values[index - 1])
            {
                return false;
            }
        }
        return true;
    }
}
