using SkiaSharp;

namespace Intriguing.Reporting;

/// <summary>
/// Finds one sans-serif typeface for every figure's text (chart labels, image-grid captions).
/// SkiaSharp's Linux "NoDependencies" build has no fontconfig, so a family name alone may resolve to a
/// typeface without glyphs and text silently vanishes. We try well-known families first, then load the
/// first usable font file from the usual font folders and register it with ScottPlot as well.
/// </summary>
internal static class ReportFonts
{
    private static readonly string[] PreferredFamilies = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Open Sans", "Arial", "Helvetica"];

    private static readonly Lazy<SKTypeface?> Resolved = new(Resolve);

    /// <summary>The typeface to draw text with.</summary>
    /// <exception cref="InvalidOperationException">The machine has no usable font at all.</exception>
    public static SKTypeface Sans => Resolved.Value
        ?? throw new InvalidOperationException(
            "no usable font was found for figure text (looked for " + string.Join(", ", PreferredFamilies)
            + " and for .ttf/.otf files under " + string.Join(", ", FontFolders()) + "); install one, e.g. apt-get install fonts-dejavu-core");

    /// <summary>The family name ScottPlot should use; it resolves to <see cref="Sans"/>.</summary>
    public static string SansFamilyName => Sans.FamilyName;

    private static SKTypeface? Resolve()
    {
        foreach (string family in PreferredFamilies)
        {
            SKTypeface? typeface = SKFontManager.Default.MatchFamily(family);
            if (typeface is not null && typeface.GlyphCount > 0 && typeface.FamilyName == family)
            {
                return typeface;
            }
        }
        foreach (string path in CandidateFontFiles())
        {
            SKTypeface? typeface = SKTypeface.FromFile(path);
            if (typeface is not null && typeface.GlyphCount > 0)
            {
                // ScottPlot looks fonts up by family name; teach it where this one lives.
                ScottPlot.Fonts.AddFontFile(typeface.FamilyName, path, bold: false, italic: false);
                return typeface;
            }
        }
        return SKTypeface.Default.GlyphCount > 0 ? SKTypeface.Default : null;
    }

    private static IEnumerable<string> CandidateFontFiles() =>
        FontFolders()
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.*", SearchOption.AllDirectories))
            .Where(path => path.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".otf", StringComparison.OrdinalIgnoreCase))
            // Regular sans faces read best in small labels; bold, italic and mono ones only if nothing else exists.
            .OrderBy(path => Path.GetFileName(path).Contains("Sans", StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenBy(path => IsStyledFace(Path.GetFileName(path)) ? 1 : 0)
            .ThenBy(path => path, StringComparer.Ordinal);

    private static bool IsStyledFace(string fileName) =>
        new[] { "Bold", "Italic", "Oblique", "Mono", "Light", "Condensed" }
            .Any(style => fileName.Contains(style, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<string> FontFolders()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return
        [
            "/usr/share/fonts",
            "/usr/local/share/fonts",
            Path.Combine(home, ".fonts"),
            Path.Combine(home, ".local", "share", "fonts"),
            "/Library/Fonts",
            "/System/Library/Fonts",
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.Windows), "Fonts"),
        ];
    }
}
