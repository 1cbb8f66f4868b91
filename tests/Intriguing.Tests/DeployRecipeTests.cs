namespace Intriguing.Tests;

/// <summary>
/// The cluster recipes of docs/scale.md carry what a split run needs: the shard index from the scheduler's variable,
/// the shard count matching the number of tasks, a shared folder for the parts, and the merge step.
/// </summary>
public class DeployRecipeTests
{
    [Theory]
    [InlineData("evaluate-array.sbatch", "intriguing evaluate ")]
    [InlineData("reproduce-array.sbatch", "intriguing reproduce ")]
    public void The_slurm_script_takes_the_shard_from_the_array_index_and_its_count_matches_the_array(string file, string command)
    {
        string script = File.ReadAllText(Path.Combine(Repository(), "deploy", "slurm", file));

        Assert.Contains(command, script);
        Assert.Contains("--shard \"$SLURM_ARRAY_TASK_ID/$SHARDS\"", script);
        Assert.Contains("--out \"$PARTS\"", script);
        Assert.Contains("#SBATCH --array=0-3", script);
        Assert.Contains("SHARDS=${SHARDS:-4}", script);
        Assert.Contains("intriguing merge $PARTS", script);
        Assert.Contains("INTRIGUING_HOME", script);
    }

    [Theory]
    [InlineData("evaluate-job.yaml", "intriguing evaluate ")]
    [InlineData("reproduce-job.yaml", "intriguing reproduce ")]
    public void The_kubernetes_job_is_indexed_with_the_shard_from_the_completion_index_and_a_merge_job(string file, string command)
    {
        string manifest = File.ReadAllText(Path.Combine(Repository(), "deploy", "kubernetes", file));

        Assert.Contains(command, manifest);
        Assert.Contains("completionMode: Indexed", manifest);
        Assert.Contains("completions: 4", manifest);
        Assert.Contains("value: \"4\"", manifest);
        Assert.Contains("--shard \"$JOB_COMPLETION_INDEX/$SHARDS\"", manifest);
        Assert.Contains("--out /work/parts", manifest);
        Assert.Contains("[\"intriguing\", \"merge\", \"/work/parts\"", manifest);
        Assert.Contains("ReadWriteMany", manifest);
    }

    [Fact]
    public void The_container_recipe_publishes_the_command_line()
    {
        string dockerfile = File.ReadAllText(Path.Combine(Repository(), "deploy", "Dockerfile"));

        Assert.Contains("dotnet publish src/Intriguing.Cli/Intriguing.Cli.csproj", dockerfile);
        Assert.Contains("/usr/local/bin/intriguing", dockerfile);
    }

    [Fact]
    public void The_cuda_build_property_swaps_torchsharp_cpu_for_torchsharp_with_libtorch_cuda()
    {
        string project = Path.Combine(Repository(), "src", "Intriguing", "Intriguing.csproj");

        var cpu = PackageReferences(project, "");
        var cuda = PackageReferences(project, "-p:TorchSharpBackend=cuda");

        Assert.Contains("TorchSharp-cpu", cpu);
        Assert.DoesNotContain("TorchSharp", cpu);
        Assert.Contains("TorchSharp", cuda);
        Assert.Contains("libtorch-cuda-12.8-linux-x64", cuda);
        Assert.DoesNotContain("TorchSharp-cpu", cuda);
        string versions = File.ReadAllText(Path.Combine(Repository(), "Directory.Packages.props"));
        Assert.Contains("Include=\"libtorch-cuda-12.8-linux-x64\"", versions);
    }

    /// <summary>The package references MSBuild evaluates for <paramref name="project"/> with <paramref name="property"/> (no restore, no build).</summary>
    private static List<string> PackageReferences(string project, string property)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "msbuild", project, "-getItem:PackageReference", "-nologo" }.Concat(property.Length > 0 ? [property] : []))
        {
            info.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, output + errors);
        using var document = System.Text.Json.JsonDocument.Parse(output);
        return [.. document.RootElement.GetProperty("Items").GetProperty("PackageReference").EnumerateArray().Select(item => item.GetProperty("Identity").GetString()!)];
    }

    private static string Repository() => RepositoryRoot.Path();
}
