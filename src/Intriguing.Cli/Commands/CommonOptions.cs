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
        Description = "Where the model and images live: cpu, or cuda / cuda:N in a build with TorchSharp's CUDA package (dotnet build -p:TorchSharpBackend=cuda, docs/scale.md).",
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

    /// <summary>
    /// A <c>--model</c> for commands that also take models made elsewhere: a zoo name, a product file, or a TorchScript
    /// file with its declared input (<see cref="Declaration"/>).
    /// </summary>
    public static Option<string> ModelOrForeignFile(string purpose) => new("--model")
    {
        Description = $"{purpose}: a zoo name ({string.Join(", ", ModelZoo.Names)}), a .safetensors file the product wrote, " +
            $"a TorchScript file (.pt/.pth, saved with torch.jit.save) or an ONNX file (.onnx, scores only: noise, square, square-l2 and transfer apply), " +
            $"whose input is declared by <name>.json or {ModelDeclaration.FolderFileName} in its folder, or by --input-shape and --classes.",
        Required = true,
    };

    /// <summary>
    /// <c>--input-shape</c>, <c>--classes</c>, <c>--mean</c>, <c>--std</c>: the declared input of a TorchScript model, one
    /// group added to every command that takes one (<see cref="DeclarationGroup.Add"/>), read with <see cref="DeclarationGroup.Read"/>.
    /// </summary>
    public static DeclarationGroup Declaration() => new();

    /// <summary>The options of <see cref="Declaration"/>.</summary>
    public sealed class DeclarationGroup
    {
        public Option<string?> InputShape { get; } = new("--input-shape")
        {
            Description = "Input shape of a TorchScript or ONNX model, C,H,W (e.g. 1,28,28); with --classes it declares the model " +
                $"without a declaration file. Each of these options replaces the value in <name>.json or {ModelDeclaration.FolderFileName} beside the model.",
        };

        public Option<int?> Classes { get; } = new("--classes")
        {
            Description = "Number of classes (the width of the logits) of a TorchScript or ONNX model.",
        };

        public Option<string?> Mean { get; } = new("--mean")
        {
            Description = "Per-channel mean a TorchScript or ONNX model expects, comma-separated (one value or one per channel): " +
                "the product feeds it (x - mean) / std, so attacks and distortions stay in [0,1] pixels.",
        };

        public Option<string?> Std { get; } = new("--std")
        {
            Description = "Per-channel standard deviation a TorchScript or ONNX model expects (each > 0), comma-separated as --mean.",
        };

        /// <summary>Adds the four options to <paramref name="command"/>.</summary>
        public void Add(Command command)
        {
            ArgumentNullException.ThrowIfNull(command);
            command.Options.Add(InputShape);
            command.Options.Add(Classes);
            command.Options.Add(Mean);
            command.Options.Add(Std);
        }

        /// <summary>What was given; <see cref="DeclarationOptions.None"/> when none of the four was.</summary>
        /// <exception cref="BadInputException">A value that does not parse, named by its option.</exception>
        public DeclarationOptions Read(ParseResult parseResult)
        {
            ArgumentNullException.ThrowIfNull(parseResult);
            string? shape = parseResult.GetValue(InputShape), mean = parseResult.GetValue(Mean), std = parseResult.GetValue(Std);
            int? classes = parseResult.GetValue(Classes);
            if (classes is int count && count < 2)
            {
                throw new BadInputException($"--classes must be at least 2; got {count}");
            }
            var options = new DeclarationOptions(
                shape is null ? null : ModelDeclaration.ParseShape(shape, "--input-shape"),
                classes,
                mean is null ? null : ModelDeclaration.ParseValues(mean, "--mean"),
                std is null ? null : ModelDeclaration.ParseValues(std, "--std"));
            if (options.InputShape is not null && options.Classes is not null)
            {
                // Checked on their own too, so a bad value is named by its option even when a declaration file is there.
                _ = new ModelDeclaration(options.InputShape, options.Classes.Value, options.Mean, options.Std, "the command-line declaration (--input-shape, --classes, --mean, --std)");
            }
            return options;
        }
    }

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
    public static bool CheckModel(string nameOrPath, DeclarationOptions? declaration = null)
    {
        if (ModelStore.IsPath(nameOrPath))
        {
            ModelStore.CheckFile(nameOrPath, "--model", declaration);
            return true;
        }
        if (declaration is { Any: true })
        {
            throw new BadInputException($"--input-shape, --classes, --mean and --std declare a TorchScript or ONNX model file; the zoo model '{nameOrPath}' declares its own input");
        }
        ModelZoo.Get(nameOrPath);
        return false;
    }

    /// <summary>
    /// Refuses, before any work, a model file made outside the product (TorchScript, ONNX) for an analysis that reads the
    /// model's layers (<paramref name="analysis"/>: "the unit analysis", ...).
    /// </summary>
    /// <exception cref="BadInputException">A foreign model file, named.</exception>
    public static void RequireReadableLayers(string? nameOrPath, string analysis)
    {
        if (nameOrPath is not null && ModelStore.IsForeign(nameOrPath))
        {
            throw new BadInputException(
                $"--model {Path.GetFullPath(nameOrPath)}: {analysis} needs a model whose layers the product can read (a zoo architecture, " +
                $"or a .safetensors file the product wrote); a {ModelStore.FormatOf(nameOrPath)} model is run as a whole, its layers hidden. " +
                "attack and transfer take it.");
        }
    }

    /// <summary>
    /// An <c>--out</c> folder checked before any work (<see cref="PathChecks.WritableFolder"/>): its full path, or null
    /// when the option was not given (then nothing is written).
    /// </summary>
    /// <exception cref="BadInputException">The folder cannot be written, or its parent does not exist, named.</exception>
    /// <summary><c>--shard i/n</c>: this process's share of the run's images.</summary>
    public static Option<string?> Shard() => new("--shard")
    {
        Description = "Compute only shard i of n (0 <= i < n) of the images, e.g. 0/4 (a Slurm array task or a Kubernetes Indexed Job pod: " +
            "the index from its environment); needs --out, where the shard writes its part. `intriguing merge` puts the parts together into " +
            "what one unsplit run gives.",
    };

    /// <summary>The shard <c>--shard</c> asks for (the whole run when absent); a split run needs <paramref name="outFolder"/>.</summary>
    /// <exception cref="BadInputException">A malformed shard, or a split run without <c>--out</c>.</exception>
    public static Sharding.Shard ParseShard(string? text, string? outFolder)
    {
        if (text is null)
        {
            return Sharding.Shard.Whole;
        }
        var shard = Sharding.Shard.Parse(text);
        if (outFolder is null)
        {
            throw new BadInputException($"--shard {shard}: give --out DIR, the folder where this shard writes its part for `intriguing merge`");
        }
        return shard;
    }

    public static string? CheckOut(string? folder) => folder is null ? null : PathChecks.WritableFolder(folder, "--out");
}
