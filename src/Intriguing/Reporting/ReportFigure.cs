using System.Text.RegularExpressions;

namespace Intriguing.Reporting;

/// <summary>
/// A PNG figure: written to figures/<see cref="FileName"/>, linked from report.md and embedded in report.html.
/// Make one from bytes (<see cref="BarCharts"/>, <see cref="ImageGrid"/>) or from a PNG file on disk with <see cref="FromFile"/>.
/// </summary>
/// <param name="FileName">Plain file name ending in .png (letters, digits, '-', '_', '.'), unique within the report.</param>
/// <param name="Caption">What the figure shows, e.g. "Figure 5: original, magnified difference, adversarial".</param>
/// <param name="Png">The encoded PNG.</param>
public sealed partial record ReportFigure(string FileName, string Caption, byte[] Png)
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Reads an existing PNG (e.g. one an earlier, cached run wrote) into a figure named after the file.</summary>
    /// <exception cref="BadInputException">The file is missing or is not a PNG.</exception>
    public static ReportFigure FromFile(string pngPath, string caption)
    {
        if (!File.Exists(pngPath))
        {
            throw new BadInputException($"figure file {pngPath} does not exist");
        }
        var figure = new ReportFigure(Path.GetFileName(pngPath), caption, File.ReadAllBytes(pngPath));
        figure.Validate();
        return figure;
    }

    /// <exception cref="BadInputException">The name is not a plain .png file name or the bytes are not a PNG.</exception>
    public void Validate()
    {
        if (!FileNamePattern().IsMatch(FileName ?? ""))
        {
            throw new BadInputException($"figure file name \"{FileName}\" must be a plain name ending in .png (letters, digits, '-', '_', '.')");
        }
        if (Png is null || Png.Length < PngSignature.Length || !Png.AsSpan(0, PngSignature.Length).SequenceEqual(PngSignature))
        {
            throw new BadInputException($"figure \"{FileName}\" does not hold PNG bytes (the PNG signature is missing)");
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]*\.png$")]
    private static partial Regex FileNamePattern();
}
