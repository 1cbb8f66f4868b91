namespace Intriguing;

/// <summary>
/// Where data and trained models are cached: <c>$INTRIGUING_HOME</c>, by default <c>~/.cache/intriguing</c>.
/// Layout: <c>data/&lt;dataset&gt;/…</c> and <c>models/&lt;model&gt;-&lt;split&gt;-s&lt;seed&gt;.safetensors</c>.
/// </summary>
public static class IntriguingHome
{
    public const string EnvironmentVariable = "INTRIGUING_HOME";

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

    public static string DataFolder(string dataset) => Path.Combine(Root, "data", dataset);

    public static string ModelsFolder => Path.Combine(Root, "models");

    public static string ResultsFolder => Path.Combine(Root, "results");
}
