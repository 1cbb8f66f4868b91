using System.CommandLine;

namespace Intriguing.Cli.Commands;

/// <summary>Options several commands share, so they read the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string> Dataset() => new("--dataset")
    {
        Description = "Dataset: mnist (default) or fashion-mnist.",
        DefaultValueFactory = _ => "mnist",
    };

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Folder holding the four IDX files, only read (a missing or bad file there is taken from the cache); default the cache, $INTRIGUING_HOME/data/<dataset>.",
    };

    public static Option<int> Seed() => new("--seed")
    {
        Description = "Seed for every random choice (weights, data order, targets, random starts).",
        DefaultValueFactory = _ => 0,
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "Where the model and images live: cpu, or cuda / cuda:N where TorchSharp's CUDA package is installed.",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<int?> Threads() => new("--threads")
    {
        Description = "libtorch intra-op threads (default: libtorch's choice).",
    };

    /// <summary>Sets libtorch's intra-op threads when <c>--threads</c> was given.</summary>
    /// <exception cref="BadInputException">A count below 1.</exception>
    public static void ApplyThreads(int? threads)
    {
        if (threads is not int count)
        {
            return;
        }
        if (count < 1)
        {
            throw new BadInputException($"--threads must be at least 1; got {count}");
        }
        TorchSharp.torch.set_num_threads(count);
    }

    public static Option<string?> Out(string what) => new("--out")
    {
        Description = what,
    };
}
