namespace Intriguing;

/// <summary>
/// Where data and trained models are cached: <c>$INTRIGUING_HOME</c>, by default <c>~/.cache/intriguing</c>.
/// Layout: <c>data/&lt;dataset&gt;/…</c> and <c>models/&lt;model&gt;-&lt;split&gt;-s&lt;seed&gt;.safetensors</c>.
/// </summary>
public static class IntriguingHome
{
    /// <summary>The environment variable that moves the cache: <c>INTRIGUING_HOME</c>.</summary>
    public const string EnvironmentVariable = "INTRIGUING_HOME";

    /// <summary>The cache's full path: <c>$INTRIGUING_HOME</c> if set and not blank, else <c>~/.cache/intriguing</c>.</summary>
    public static string Root
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(configured))
            {
                return Path.GetFullPath(configured);
            }
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".cache", "intriguing");
        }
    }

    /// <summary>Where <paramref name="dataset"/>'s verified files are kept: <c>&lt;root&gt;/data/&lt;dataset&gt;</c>.</summary>
    public static string DataFolder(string dataset) => Path.Combine(Root, "data", dataset);

    /// <summary>Where trained models are kept: <c>&lt;root&gt;/models</c>.</summary>
    public static string ModelsFolder => Path.Combine(Root, "models");

    /// <summary>Where kept results are stored: <c>&lt;root&gt;/results</c>.</summary>
    public static string ResultsFolder => Path.Combine(Root, "results");
}
