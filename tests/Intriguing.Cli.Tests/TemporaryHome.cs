namespace Intriguing.Cli.Tests;

/// <summary>
/// Points <c>$INTRIGUING_HOME</c> at a fresh temporary folder (models and reports go there; real MNIST stays in the
/// cache the <see cref="RealMnist"/> fixture filled, passed by <c>--data-dir</c>) and restores it when disposed.
/// Tests that use it run in the real-MNIST collection, one at a time, so the variable is theirs while they run.
/// </summary>
public sealed class TemporaryHome : IDisposable
{
    private readonly string? previous = Environment.GetEnvironmentVariable(IntriguingHome.EnvironmentVariable);

    public TemporaryHome(string name)
    {
        Folder = Path.Combine(Path.GetTempPath(), $"intriguing-{name}-" + Guid.NewGuid().ToString("N"));
        Environment.SetEnvironmentVariable(IntriguingHome.EnvironmentVariable, Folder);
    }

    public string Folder { get; }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(IntriguingHome.EnvironmentVariable, previous);
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }
}
