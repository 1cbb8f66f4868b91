namespace Intriguing.Tests;

/// <summary>The repository's root folder, found from the test's output folder upwards (where Intriguing.slnx is).</summary>
internal static class RepositoryRoot
{
    public static string Path()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(folder.FullName, "Intriguing.slnx")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"cannot find the repository (Intriguing.slnx) above {AppContext.BaseDirectory}");
    }
}
