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
        Description = "Folder holding (or to receive) the four IDX files; default $INTRIGUING_HOME/data/<dataset>.",
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

    public static Option<string?> Out(string what) => new("--out")
    {
        Description = what,
    };
}
