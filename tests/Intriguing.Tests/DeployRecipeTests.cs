namespace Intriguing.Tests;

/// <summary>
/// The cluster recipes of docs/scale.md carry what a split run needs: the shard index from the scheduler's variable,
/// the shard count matching the number of tasks, a shared folder for the parts, and the merge step.
/// </summary>
public class DeployRecipeTests
{
    [Fact]
    public void The_slurm_script_takes_the_shard_from_the_array_index_and_its_count_matches_the_array()
    {
        string script = File.ReadAllText(Path.Combine(Repository(), "deploy", "slurm", "evaluate-array.sbatch"));

        Assert.Contains("--shard \"$SLURM_ARRAY_TASK_ID/$SHARDS\"", script);
        Assert.Contains("--out \"$PARTS\"", script);
        Assert.Contains("#SBATCH --array=0-3", script);
        Assert.Contains("SHARDS=${SHARDS:-4}", script);
        Assert.Contains("intriguing merge $PARTS", script);
        Assert.Contains("INTRIGUING_HOME", script);
    }

    [Fact]
    public void The_kubernetes_job_is_indexed_with_the_shard_from_the_completion_index_and_a_merge_job()
    {
        string manifest = File.ReadAllText(Path.Combine(Repository(), "deploy", "kubernetes", "evaluate-job.yaml"));

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

    private static string Repository() => RepositoryRoot.Path();
}
