using System.Text;
using Intriguing.Attacks;

namespace Intriguing.Tests;

/// <summary>
/// The library's public surface against the snapshot committed in <c>tests/Intriguing.Tests/PublicApi.approved.txt</c>:
/// a change to a public or protected type or member fails here, listing what was added and removed, until the snapshot
/// is updated on purpose (<see cref="UpdateVariable"/>), so an API change is always a visible line in a diff.
/// </summary>
public sealed class PublicApiTests
{
    /// <summary>Set to 1 to rewrite the approved file in the source tree from the current build.</summary>
    public const string UpdateVariable = "INTRIGUING_UPDATE_API";

    private const string ApprovedFileName = "PublicApi.approved.txt";

    private const string Header =
        "# The public API of the Intriguing assembly (tests/Intriguing.Tests/PublicApiTests.cs): type | kind | signature.\n" +
        "# Regenerate after an intended change: INTRIGUING_UPDATE_API=1 dotnet test tests/Intriguing.Tests --filter PublicApiTests\n";

    [Fact]
    public void The_public_api_is_the_approved_one()
    {
        var current = PublicApi.Lines(typeof(Attack).Assembly);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            string source = SourcePath();
            File.WriteAllText(source, Header + string.Join("\n", current) + "\n", new UTF8Encoding(false));
            return;
        }
        string approvedPath = Path.Combine(AppContext.BaseDirectory, ApprovedFileName);
        Assert.True(File.Exists(approvedPath), $"{approvedPath} is missing; create it with {UpdateVariable}=1 dotnet test tests/Intriguing.Tests --filter PublicApiTests");
        var approved = File.ReadAllLines(approvedPath)
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();

        var removed = approved.Except(current, StringComparer.Ordinal).ToList();
        var added = current.Except(approved, StringComparer.Ordinal).ToList();
        if (removed.Count == 0 && added.Count == 0)
        {
            return;
        }
        var message = new StringBuilder()
            .AppendLine($"The public API of Intriguing differs from {ApprovedFileName}: {added.Count} line(s) added, {removed.Count} removed.");
        foreach (string line in removed.Take(100))
        {
            message.Append("- ").AppendLine(line);
        }
        foreach (string line in added.Take(100))
        {
            message.Append("+ ").AppendLine(line);
        }
        if (removed.Count > 100 || added.Count > 100)
        {
            message.AppendLine("(only the first 100 of each are shown)");
        }
        message.AppendLine("If the change is intended, update the snapshot and commit it:")
            .AppendLine($"  {UpdateVariable}=1 dotnet test tests/Intriguing.Tests --filter PublicApiTests");
        Assert.Fail(message.ToString());
    }

    [Fact]
    public void The_listing_is_the_same_twice_and_sorted()
    {
        var first = PublicApi.Lines(typeof(Attack).Assembly);
        var second = PublicApi.Lines(typeof(Attack).Assembly);

        Assert.Equal(first, second);
        Assert.Equal(first.Order(StringComparer.Ordinal), first);
        Assert.Contains("Intriguing.Attacks.Attack | method | public Intriguing.Attacks.AttackResult Run(" +
            "Intriguing.Models.Classifier model, TorchSharp.torch.Tensor inputs, TorchSharp.torch.Tensor labels, " +
            "TorchSharp.torch.Tensor? targets = null, int batchSize = 500, System.IProgress<Intriguing.ProgressUpdate>? progress = null, long[]? keys = null)", first);
        Assert.Contains("Intriguing.Attacks.Fgsm | property | public double Epsilon { get; init; }", first);
    }

    /// <summary>The approved file in the source tree: found from the test's output folder up to the repository root.</summary>
    private static string SourcePath() => Path.Combine(RepositoryRoot.Path(), "tests", "Intriguing.Tests", ApprovedFileName);
}
