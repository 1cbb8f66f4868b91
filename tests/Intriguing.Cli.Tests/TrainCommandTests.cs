namespace Intriguing.Cli.Tests;

public class TrainCommandTests
{
    [Fact]
    public void Unknown_model_is_bad_input_with_exit_code_2_and_lists_the_zoo()
    {
        var run = CliRun.Of("train", "--model", "fc999", "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown model 'fc999'", run.StandardError);
        Assert.Contains("fc100-100-10", run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void Training_on_the_test_split_is_refused()
    {
        var run = CliRun.Of("train", "--model", "fc10-1e-4", "--split", "test", "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--split test", run.StandardError);
    }

    [Fact]
    public void Unknown_split_and_zero_epochs_are_bad_input()
    {
        Assert.Equal(2, CliRun.Of("train", "--model", "fc10-1e-4", "--split", "p3").ExitCode);
        var run = CliRun.Of("train", "--model", "fc10-1e-4", "--epochs", "0");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--epochs", run.StandardError);
    }

    [Fact]
    public void Model_is_required()
    {
        var run = CliRun.Of("train");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--model", run.StandardError);
    }
}
