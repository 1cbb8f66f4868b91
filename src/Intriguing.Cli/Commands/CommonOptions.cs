using System.CommandLine;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;

namespace Intriguing.Cli.Commands;

/// <summary>Options several commands share, so they read the same everywhere.</summary>
public static class CommonOptions
{
    /// <summary><c>--dataset</c>; <paramref name="folders"/> says whether <c>folder:PATH</c> is offered (data fetch has only the IDX sets).</summary>
    public static Option<string> Dataset(bool folders = true) => new("--dataset")
    {
        Description = folders
            ? "Data: mnist (default), fashion-mnist, or folder:PATH, a folder of labelled images PATH/<class>/*.png|jpg|jpeg " +
              "(with train/ and test/ subfolders for the two splits; otherwise all of it is the test set). The zoo models take 28x28 grey images of 10 classes."
            : "Dataset: mnist (default) or fashion-mnist.",
        DefaultValueFactory = _ => "mnist",
    };

    public static Option<string?> Resize() => new("--resize")
    {
        Description = "Resize every image of the dataset to H,W pixels (bilinear), e.g. --resize 28,28 for a folder of larger images.",
    };

    /// <summary>
    /// The data <c>--dataset</c> and <c>--resize</c> ask for, checked before any work: an unknown name, a folder that
    /// does not exist or a malformed size is bad input here.
    /// </summary>
    public static DatasetChoice ParseDataset(ParseResult parseResult, Option<string> dataset, Option<string?> resize)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        string? size = parseResult.GetValue(resize);
        return DatasetChoice.Parse(parseResult.GetValue(dataset)!, size is null ? null : ImageSize.Parse(size));
    }

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

    /// <summary>A required <c>--model</c> that takes a zoo name or a model file; <paramref name="purpose"/> starts its description.</summary>
    public static Option<string> ModelOrFile(string purpose) => new("--model")
    {
        Description = $"{purpose}: a zoo name ({string.Join(", ", ModelZoo.Names)}) or a model file path.",
        Required = true,
    };

    /// <summary><c>--quick</c> for commands that use zoo models: the quick-recipe ones of <c>reproduce --quick</c>.</summary>
    public static Option<bool> QuickModels() => new("--quick")
    {
        Description = "Use (or train) the quick-recipe zoo models of `reproduce --quick`.",
    };

    public static Option<string?> Out(string what) => new("--out")
    {
        Description = what,
    };

    /// <summary>
    /// Checks a <c>--model</c> value before any data is loaded or model trained: a zoo name must be in the zoo, a model
    /// file (<see cref="ModelStore.IsPath"/>) must be readable, and so must its sidecar. True for a file.
    /// </summary>
    /// <exception cref="BadInputException">An unknown name, or a file that is missing or cannot be read, named.</exception>
    public static bool CheckModel(string nameOrPath)
    {
        if (ModelStore.IsPath(nameOrPath))
        {
            ModelFiles.CheckReadable(nameOrPath, "--model");
            return true;
        }
        ModelZoo.Get(nameOrPath);
        return false;
    }

    /// <summary>
    /// An <c>--out</c> folder checked before any work (<see cref="PathChecks.WritableFolder"/>): its full path, or null
    /// when the option was not given (then nothing is written).
    /// </summary>
    /// <exception cref="BadInputException">The folder cannot be written, or its parent does not exist, named.</exception>
    public static string? CheckOut(string? folder) => folder is null ? null : PathChecks.WritableFolder(folder, "--out");
}
