using System.CommandLine;
using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Cli.Output;
using Intriguing.Data;
using Intriguing.Training;
using Intriguing.Training.Adversarial;
using Spectre.Console;

namespace Intriguing.Cli.Commands;

/// <summary>
/// <c>intriguing adv-train --model NAME --method pool|fgsm|pgd|none|dropout</c>: trains a zoo model by one method
/// (checkpointed each epoch, resumed after an interruption), stores it under its own name in the model cache, and
/// evaluates it and the zoo's weight-decay model the same way (docs/adversarial-training.md, docs/json-output.md).
/// </summary>
public static class AdvTrainCommand
{
    public sealed record AdvTrainResult(
        string Model,
        string Method,
        double BaselineTestError,
        double TestError,
        RobustJson Robust,
        RobustJson BaselineRobust,
        double Seconds,
        string Path,
        string BaselinePath,
        string Settings,
        string Recipe,
        int Epochs,
        int ResumedAtEpoch,
        bool Reused,
        int Seed,
        int Threads,
        IReadOnlyList<EpochRecord> History,
        PoolCounts? Pools,
        MaskingJson? Masking);

    /// <summary>Pool training's refreshes summed per layer: examples attacked and how many entered verified adversarial.</summary>
    public sealed record PoolCounts(IReadOnlyDictionary<string, long> Attacked, IReadOnlyDictionary<string, long> Entered);

    public static Command Create(CliIo io)
    {
        var model = new Option<string>("--model") { Description = "Zoo model to train (fc100-100-10, conv, ...).", Required = true };
        var method = new Option<string>("--method") { Description = "pool (the paper's per-layer pools), fgsm, pgd, none (weight decay only) or dropout.", Required = true };
        var layers = new Option<string?>("--layers") { Description = "Pool training: layers with a pool, comma-separated; 0 is the input, k >= 1 hidden layer k (default 0,1,2)." };
        var eps = new Option<double?>("--eps") { Description = "FGSM/PGD training eps in (0, 1] (default 0.25 for fgsm, 0.3 for pgd); with --pool-attack pgd, its eps in the layer's units." };
        var steps = new Option<int?>("--steps") { Description = "PGD training steps (default 40, Madry's; fewer is faster)." };
        var ramp = new Option<int>("--eps-ramp") { Description = "PGD training: grow eps over this many first epochs (eps (e+1)/(R+1) in epoch e < R); 0 for none." };
        var randomStart = new Option<bool>("--random-start") { Description = "FGSM training from a random point of the eps-ball (Wong et al. 2020)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs instead of the zoo recipe's." };
        var capacity = new Option<int>("--capacity") { Description = "Pool size per layer.", DefaultValueFactory = _ => 1000 };
        var replace = new Option<double>("--replace-fraction") { Description = "Fraction of a full pool replaced at each refresh.", DefaultValueFactory = _ => 0.05 };
        var refresh = new Option<int>("--refresh-interval") { Description = "Batches between pool refreshes.", DefaultValueFactory = _ => 10 };
        var mix = new Option<double>("--mix-ratio") { Description = "Pool samples per clean example in each batch (spread over the pools); 0.1 by default (docs/adversarial-training.md measures 0.03 to 1).", DefaultValueFactory = _ => 0.1 };
        var poolAttack = new Option<string>("--pool-attack") { Description = "Attack that fills the pools: lbfgs (the paper's, default) or pgd (cheaper).", DefaultValueFactory = _ => "lbfgs" };
        var robustCount = new Option<int>("--robust-count") { Description = "Test images for the FGSM and PGD errors (default all 10,000).", DefaultValueFactory = _ => 10_000 };
        var lbfgsCount = new Option<int>("--lbfgs-count") { Description = "Test images for the L-BFGS minimal distortion.", DefaultValueFactory = _ => 1000 };
        var maskingCount = new Option<int>("--masking-count")
        {
            Description = "Test images for the gradient-masking checks of fgsm, pgd and pool training (PGD-40 with 10 restarts, and PGD-40 transferred from the zoo's natural model); 0 skips them.",
            DefaultValueFactory = _ => 1000,
        };
        var quick = new Option<bool>("--quick") { Description = "The quick recipe (fewer epochs), baseline included." };
        var seed = CommonOptions.Seed();
        var dataDir = CommonOptions.DataDir();
        var dataset = CommonOptions.Dataset();
        var resize = CommonOptions.Resize();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        threads.Description = "libtorch intra-op threads for training and evaluation (default for training: 2 for conv, 1 for the fully connected nets, as `intriguing bench --training` measured on a quiet 2-core machine; on a loaded machine 1 is safer).";
        var command = new Command("adv-train",
            "Adversarial training: the paper's per-layer pools, FGSM and PGD training, or the weight-decay and dropout baselines; stores the model and compares it with the zoo's.")
        {
            model, method, layers, eps, steps, ramp, randomStart, epochs, capacity, replace, refresh, mix, poolAttack, robustCount, lbfgsCount, maskingCount, quick, seed, dataDir, dataset, resize, device, threads,
        };
        command.Aliases.Add("advtrain");
        command.SetAction(parseResult => CommandRunner.Run(io, parseResult, context =>
        {
            CommonOptions.RequireReadableLayers(parseResult.GetValue(model), "adversarial training");
            var datasetChoice = CommonOptions.ParseDataset(parseResult, dataset, resize);
            var methodValue = AdversarialTrainingSettings.ParseMethod(parseResult.GetValue(method)!);
            string? layersText = parseResult.GetValue(layers);
            if (layersText is not null && methodValue != AdversarialMethod.Pool)
            {
                throw new BadInputException("--layers applies to --method pool only");
            }
            double? epsilon = parseResult.GetValue(eps);
            if (epsilon is double e && !(e > 0 && e <= 1))
            {
                throw new BadInputException(string.Create(CultureInfo.InvariantCulture, $"--eps must be in (0, 1]; got {e}"));
            }
            int seedValue = parseResult.GetValue(seed);
            var pool = new PoolTrainingOptions
            {
                Layers = layersText is null ? [0, 1, 2] : ParseLayers(layersText),
                Capacity = parseResult.GetValue(capacity),
                ReplaceFraction = parseResult.GetValue(replace),
                RefreshInterval = parseResult.GetValue(refresh),
                MixRatio = parseResult.GetValue(mix),
                Attack = parseResult.GetValue(poolAttack)!.Trim().ToLowerInvariant() switch
                {
                    "lbfgs" => new PoolTrainingOptions().Attack,
                    "pgd" => new PgdLinf { Epsilon = epsilon ?? 0.1, StepSize = (epsilon ?? 0.1) / 4, Steps = 10, RandomStart = false, Seed = seedValue },
                    var other => throw new BadInputException($"--pool-attack '{other}': expected lbfgs or pgd"),
                },
            };
            var settings = new AdversarialTrainingSettings
            {
                Model = parseResult.GetValue(model)!,
                Method = methodValue,
                Pool = pool,
                Epsilon = methodValue == AdversarialMethod.Pool ? null : epsilon,
                Steps = parseResult.GetValue(steps),
                EpsilonRampEpochs = parseResult.GetValue(ramp),
                TrainingThreads = parseResult.GetValue(threads),
                RandomStart = parseResult.GetValue(randomStart),
                Epochs = parseResult.GetValue(epochs),
                Seed = seedValue,
                Quick = parseResult.GetValue(quick),
            };
            settings.Validate();
            int robust = parseResult.GetValue(robustCount), lbfgs = parseResult.GetValue(lbfgsCount), masking = parseResult.GetValue(maskingCount);
            if (robust is < 1 or > 10_000 || lbfgs is < 1 or > 10_000)
            {
                throw new BadInputException($"--robust-count and --lbfgs-count must be 1..10000 (test images); got {robust} and {lbfgs}");
            }
            if (masking is < 0 or > 10_000)
            {
                throw new BadInputException($"--masking-count must be 0..10000 (test images; 0 skips the checks); got {masking}");
            }
            var target = ComputeDevice.Parse(parseResult.GetValue(device)!);
            CommonOptions.ApplyThreads(parseResult.GetValue(threads));
            var evaluation = new EvaluationSettings(robust, lbfgs, seedValue, MaskingCount: masking);

            var result = ProgressDisplay.Run(context.Console, progress =>
            {
                using var data = ImageDataset.Load(datasetChoice, parseResult.GetValue(dataDir), progress);
                var run = AdversarialTraining.Run(settings, data, evaluation, progress, device: target);
                return ToResult(run, seedValue);
            });
            context.Emit(result, console => Render(console, result));
            return ExitCodes.Success;
        }));
        return command;
    }

    private static IReadOnlyList<int> ParseLayers(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var layers = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int layer))
            {
                throw new BadInputException($"--layers '{text}': expected comma-separated layer indices >= 0 (0 = the input), e.g. 0,1,2");
            }
            layers.Add(layer);
        }
        if (layers.Count == 0)
        {
            throw new BadInputException("--layers is empty: give at least one layer index (0 = the input)");
        }
        return layers;
    }

    private static AdvTrainResult ToResult(AdversarialTrainingResult run, int seed)
    {
        PoolCounts? pools = null;
        if (run.PoolRefreshes.Count > 0)
        {
            var byLayer = run.PoolRefreshes.GroupBy(refresh => refresh.Layer.ToString(CultureInfo.InvariantCulture)).ToList();
            pools = new PoolCounts(
                byLayer.ToDictionary(group => group.Key, group => group.Sum(refresh => (long)refresh.Attacked)),
                byLayer.ToDictionary(group => group.Key, group => group.Sum(refresh => (long)refresh.Entered)));
        }
        return new AdvTrainResult(run.Model, run.Method, run.Baseline.TestError.Value, run.Trained.TestError.Value,
            RobustJson.From(run.Trained), RobustJson.From(run.Baseline), Math.Round(run.TrainingSeconds, 1), run.Path, run.BaselinePath, run.MethodSettings, run.Recipe,
            run.Epochs, run.ResumedAtEpoch, run.Reused, seed, TorchSharp.torch.get_num_threads(), run.History, pools,
            run.Masking is null ? null : MaskingJson.From(run.Masking));
    }

    private static void Render(IAnsiConsole console, AdvTrainResult result)
    {
        var table = new Table()
            .Title($"{Markup.Escape(result.Model)} trained by {Markup.Escape(result.Method)} vs the zoo's weight-decay model")
            .Caption($"seed {result.Seed}, {result.Epochs} epochs, {result.Seconds.ToString("F0", CultureInfo.InvariantCulture)} s of training; " +
                $"attacks on {result.Robust.AttackedImages} test images, L-BFGS on {result.Robust.LbfgsAttempted}")
            .AddColumn("measure")
            .AddColumn(new TableColumn(Markup.Escape(result.Method)).RightAligned())
            .AddColumn(new TableColumn("baseline").RightAligned());
        table.AddRow("clean test error (10,000)", Percent(result.TestError), Percent(result.BaselineTestError));
        foreach (var key in result.Robust.FgsmErrorByEps.Keys)
        {
            table.AddRow($"FGSM error, eps {key}", Percent(result.Robust.FgsmErrorByEps[key]), Percent(result.BaselineRobust.FgsmErrorByEps[key]));
        }
        foreach (var key in result.Robust.PgdErrorByEps.Keys)
        {
            table.AddRow($"PGD-40 error, eps {key} (random start)", Percent(result.Robust.PgdErrorByEps[key]), Percent(result.BaselineRobust.PgdErrorByEps[key]));
        }
        table.AddRow("mean L-BFGS minimal distortion", Number(result.Robust.LbfgsMeanDistortion), Number(result.BaselineRobust.LbfgsMeanDistortion));
        console.Write(table);
        if (result.Masking is { } masking)
        {
            var checks = new Table()
                .Title($"gradient-masking checks on {masking.Count} test images")
                .Caption(masking.Suspect
                    ? "[yellow]signs of masking[/] (below): the PGD numbers may overstate the robustness"
                    : masking.Undecided.Count > 0
                        ? $"no sign of masking shown, but {masking.Count} images cannot rule one out (below)"
                        : $"no sign of masking in these three checks on {masking.Count} images")
                .AddColumn("eps")
                .AddColumn(new TableColumn("PGD-40").RightAligned())
                .AddColumn(new TableColumn($"PGD-40 x {masking.Restarts} restarts").RightAligned())
                .AddColumn(new TableColumn("PGD-40 from the natural model").RightAligned())
                .AddColumn(new TableColumn("FGSM").RightAligned());
            foreach (var key in masking.PgdError.Keys)
            {
                checks.AddRow(key, Percent(masking.PgdError[key]), Percent(masking.RestartsError[key]), Percent(masking.TransferError[key]),
                    masking.FgsmError.TryGetValue(key, out double fgsm) ? Percent(fgsm) : "-");
            }
            console.Write(checks);
            foreach (string line in masking.Signs.Concat(masking.Undecided))
            {
                console.MarkupLine($"  {Markup.Escape(line)}");
            }
        }
        console.MarkupLine($"[grey]settings:[/] {Markup.Escape(result.Settings)}");
        console.MarkupLine($"[grey]saved to[/] {Markup.Escape(result.Path)}{(result.Reused ? " (reused: trained earlier with the same settings)" : "")}; " +
            $"test error and FGSM error over the epochs: {Markup.Escape(result.Path)}.curves.png");
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

    private static string Number(double? value) => value is double number ? number.ToString("F4", CultureInfo.InvariantCulture) : "-";
}
