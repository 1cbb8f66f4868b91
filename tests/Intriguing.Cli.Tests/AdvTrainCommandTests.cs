namespace Intriguing.Cli.Tests;

/// <summary>`adv-train` refuses bad input with exit 2 and a message naming the option, before any data is loaded.</summary>
public class AdvTrainCommandTests
{
    [Theory]
    [InlineData("--method", "magic", "--method 'magic'")]
    [InlineData("--eps", "0", "--eps must be in (0, 1]")]
    [InlineData("--eps", "1.5", "--eps must be in (0, 1]")]
    [InlineData("--eps", "-0.1", "--eps must be in (0, 1]")]
    [InlineData("--masking-count", "-1", "--masking-count must be 0..10000")]
    [InlineData("--eps-ramp", "2", "applies to --method pgd only")]
    public void Bad_method_or_eps_is_bad_input(string option, string value, string message)
    {
        var args = new List<string> { "adv-train", "--model", "fc100-100-10", "--method", "fgsm", "--json" };
        if (option == "--method")
        {
            args[4] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }
        var run = CliRun.Of([.. args]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void A_layer_the_model_lacks_is_bad_input_and_names_its_layers()
    {
        var run = CliRun.Of("adv-train", "--model", "fc100-100-10", "--method", "pool", "--layers", "0,3", "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--layers 3", run.StandardError);
        Assert.Contains("1 = hidden1, 2 = hidden2", run.StandardError);
        Assert.Equal("", run.StandardOutput);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("0,0")]
    [InlineData("")]
    public void Malformed_layers_are_bad_input(string layers)
    {
        var run = CliRun.Of("adv-train", "--model", "fc100-100-10", "--method", "pool", "--layers", layers, "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--layers", run.StandardError);
    }

    [Fact]
    public void Layers_for_another_method_than_pool_and_an_unknown_model_are_bad_input()
    {
        var layers = CliRun.Of("adv-train", "--model", "conv", "--method", "pgd", "--layers", "1");
        Assert.Equal(2, layers.ExitCode);
        Assert.Contains("--layers applies to --method pool only", layers.StandardError);
        var model = CliRun.Of("adv-train", "--model", "fc999", "--method", "pgd");
        Assert.Equal(2, model.ExitCode);
        Assert.Contains("unknown model 'fc999'", model.StandardError);
    }

    [Fact]
    public void Cuda_where_this_build_has_none_is_bad_input_for_adv_train_and_the_arms_of_reproduce()
    {
        var advTrain = CliRun.Of("adv-train", "--model", "fc100-100-10", "--method", "fgsm", "--device", "cuda");
        Assert.Equal(2, advTrain.ExitCode);
        Assert.Contains("--device cuda: CUDA is not available here", advTrain.StandardError);
        var arms = CliRun.Of("reproduce", "--quick", "--train-arms", "fgsm", "--device", "cuda:1");
        Assert.Equal(2, arms.ExitCode);
        Assert.Contains("--device cuda:1: CUDA is not available here", arms.StandardError);
        var workers = CliRun.Of("reproduce", "--quick", "--workers", "0");
        Assert.Equal(2, workers.ExitCode);
        Assert.Contains("--workers must be 1..64", workers.StandardError);
    }
}
