using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training.Adversarial;

/// <summary>The training methods one harness compares (docs/adversarial-training.md).</summary>
public enum AdversarialMethod
{
    /// <summary>The zoo's recipe (weight decay only): the same loop as the zoo's model, so it retrains that model.</summary>
    None,

    /// <summary>The zoo's recipe with dropout on the input and the last hidden layer.</summary>
    Dropout,

    /// <summary>The paper's per-layer pools of adversarial examples (Section 4.3).</summary>
    Pool,

    /// <summary>Goodfellow et al.'s FGSM training (alpha 0.5), optionally with Wong et al.'s random start.</summary>
    Fgsm,

    /// <summary>Madry et al.'s PGD training.</summary>
    Pgd,
}

/// <summary>
/// One adversarial-training run: the zoo model <see cref="Model"/> trained by <see cref="Method"/> with the zoo's
/// recipe (or <see cref="Epochs"/>), <see cref="Epsilon"/> and <see cref="Steps"/> for FGSM/PGD (null: the papers'
/// 0.25 for FGSM, 0.3 and 40 steps for PGD), <see cref="Pool"/> for pool training.
/// </summary>
public sealed record AdversarialTrainingSettings
{
    /// <summary>The zoo model to train, by name.</summary>
    public required string Model { get; init; }

    /// <summary>The training method.</summary>
    public required AdversarialMethod Method { get; init; }

    /// <summary>Pool training's settings (used with <see cref="AdversarialMethod.Pool"/> only).</summary>
    public PoolTrainingOptions Pool { get; init; } = new();

    /// <summary>FGSM's or PGD's eps in (0, 1], pixel units; null for the papers' (see <see cref="EffectiveEpsilon"/>).</summary>
    public double? Epsilon { get; init; }

    /// <summary>PGD training's steps; null for 40.</summary>
    public int? Steps { get; init; }

    /// <summary>PGD training: epochs over which eps grows to its value (0: none; <see cref="PgdTraining"/>).</summary>
    public int EpsilonRampEpochs { get; init; }

    /// <summary>FGSM training with Wong et al.'s random start (default false).</summary>
    public bool RandomStart { get; init; }

    /// <summary>Epochs; null for the zoo recipe's.</summary>
    public int? Epochs { get; init; }

    /// <summary>The seed of the weights, the data order and every attack (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>Use the zoo's quick recipe (<c>reproduce --quick</c>).</summary>
    public bool Quick { get; init; }

    /// <summary>
    /// torch's threads for training; null picks what <c>intriguing bench --training</c> measured faster on a quiet
    /// 2-core machine (docs/adversarial-training.md): two for the convnet (PGD-10 epoch 91 s against 149 s with one),
    /// one for the fully connected nets (PGD-10 epoch 5.6 s against 7.6 s with two). Not part of the stored model's
    /// name: the weights do not depend on it beyond last-bit rounding.
    /// </summary>
    public int? TrainingThreads { get; init; }

    /// <summary>The thread count training uses: <see cref="TrainingThreads"/>, or the measured default for the model.</summary>
    public int EffectiveTrainingThreads(Classifier model) =>
        TrainingThreads ?? Math.Max(1, Math.Min(Environment.ProcessorCount, model is ConvNet ? 2 : 1));

    /// <summary>The eps used: <see cref="Epsilon"/>, or 0.25 for FGSM and 0.3 for PGD.</summary>
    public double EffectiveEpsilon => Epsilon ?? (Method == AdversarialMethod.Fgsm ? 0.25 : 0.3);

    /// <summary>The PGD steps used: <see cref="Steps"/>, or 40.</summary>
    public int EffectiveSteps => Steps ?? 40;

    /// <summary>The method named <paramref name="text"/>: "pool", "fgsm", "pgd", "none" or "dropout", any case.</summary>
    /// <exception cref="BadInputException">Any other name.</exception>
    public static AdversarialMethod ParseMethod(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" => AdversarialMethod.None,
        "dropout" => AdversarialMethod.Dropout,
        "pool" => AdversarialMethod.Pool,
        "fgsm" => AdversarialMethod.Fgsm,
        "pgd" => AdversarialMethod.Pgd,
        _ => throw new BadInputException($"--method '{text}': expected pool, fgsm, pgd, none or dropout"),
    };

    /// <summary>The method's command-line name, lower case.</summary>
    public static string Name(AdversarialMethod method) => method.ToString().ToLowerInvariant();

    /// <summary>Refuses settings out of range, naming the option.</summary>
    public void Validate()
    {
        ModelZoo.Get(Model);
        if (Epsilon is double eps && !(eps > 0 && eps <= 1))
        {
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture, $"--eps must be in (0, 1]; got {eps}"));
        }
        if (Steps is < 1)
        {
            throw new BadInputException($"--steps must be at least 1; got {Steps}");
        }
        if (EpsilonRampEpochs < 0 || (EpsilonRampEpochs > 0 && Method != AdversarialMethod.Pgd))
        {
            throw new BadInputException($"--eps-ramp must be 0 or more epochs, and applies to --method pgd only; got {EpsilonRampEpochs} for {Name(Method)}");
        }
        if (TrainingThreads is < 1)
        {
            throw new BadInputException($"--threads must be at least 1; got {TrainingThreads}");
        }
        if (Epochs is < 1)
        {
            throw new BadInputException($"--epochs must be at least 1; got {Epochs}");
        }
        if (Method == AdversarialMethod.Pool)
        {
            Pool.Validate();
            using var model = ModelZoo.Get(Model).Create();
            int layers = model.HiddenLayerNames.Count;
            foreach (int layer in Pool.Layers.Where(layer => layer > layers))
            {
                throw new BadInputException(
                    $"--layers {layer}: model '{Model}' has layers 0 (the input) to {layers} ({string.Join(", ", model.HiddenLayerNames.Select((name, index) => $"{index + 1} = {name}"))})");
            }
        }
    }

    /// <summary>The hook of the method (null for <see cref="AdversarialMethod.None"/>).</summary>
    public TrainingHook? CreateHook() => Method switch
    {
        AdversarialMethod.None => null,
        AdversarialMethod.Dropout => new DropoutTraining(),
        AdversarialMethod.Pool => new PoolTraining(Pool, Seed),
        AdversarialMethod.Fgsm => new FgsmTraining(EffectiveEpsilon, RandomStart, Seed),
        AdversarialMethod.Pgd => new PgdTraining(EffectiveEpsilon, EffectiveSteps, Seed, EpsilonRampEpochs),
        _ => throw new BadInputException($"unknown method {Method}"),
    };

    /// <summary>
    /// The method and its settings in one line (what the weights depend on besides recipe and seed). For the convnet the
    /// line also says its attacks' input gradients come from libtorch's own kernels: arms trained while oneDNN gave wrong
    /// ones (<see cref="OneDnnWorkaround"/>) get another name, so they are trained again rather than reused.
    /// </summary>
    public string DescribeMethod() => CreateHook() switch
    {
        null => "none (weight decay only)",
        PoolTraining pool => DisposeAfter(pool, Pool.Describe()) + ConvGradients,
        FgsmTraining fgsm => fgsm.Describe() + ConvGradients,
        PgdTraining pgd => pgd.Describe() + ConvGradients,
        DropoutTraining dropout => dropout.Describe(),
        var other => other.GetType().Name,
    };

    private string ConvGradients =>
        string.Equals(Model, "conv", StringComparison.OrdinalIgnoreCase) ? "; input gradients by libtorch's kernels, oneDNN off" : "";

    private static string DisposeAfter(IDisposable disposable, string text)
    {
        disposable.Dispose();
        return text;
    }

    /// <summary>The cache variant: the method, then a short hash of every setting, e.g. "adv-pool-3f2a9c1b".</summary>
    public string Variant
    {
        get
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(DescribeMethod()));
            return $"adv-{Name(Method)}-{Convert.ToHexStringLower(hash)[..8]}";
        }
    }
}

/// <summary>What an adversarial-training run produced: the stored model's path, its training, and both evaluations.</summary>
public sealed record AdversarialTrainingResult(
    string Model,
    string Method,
    string MethodSettings,
    string Recipe,
    int Epochs,
    int ResumedAtEpoch,
    bool Reused,
    double TrainingSeconds,
    string Path,
    string BaselinePath,
    Robustness Trained,
    Robustness Baseline,
    IReadOnlyList<EpochRecord> History,
    IReadOnlyList<PoolRefresh> PoolRefreshes,
    MaskingCheck? Masking);

/// <summary>
/// The harness: trains a zoo model by one method through <see cref="TrainingLoop"/> (checkpoint next to the
/// model file, resumed after an interruption), stores it in the model cache under its own variant
/// (<see cref="ModelStore.CachePath"/>), and evaluates it and the zoo's model (the weight-decay baseline) the same way
/// (<see cref="RobustnessEvaluation"/>).
/// </summary>
public static class AdversarialTraining
{
    /// <summary>
    /// Trains (or reuses from the cache, or resumes) <paramref name="settings"/>' model on <paramref name="data"/>, then
    /// evaluates it and the zoo's baseline model the same way (<paramref name="evaluation"/>), each evaluation cached beside
    /// its model. <paramref name="stopAfterEpochs"/> stops training early, leaving the checkpoint (as an interrupted run would).
    /// Training and evaluation run on <paramref name="device"/> (the CPU when null); the stored model is the same file either way.
    /// </summary>
    /// <exception cref="BadInputException">Settings out of range, or data the zoo model cannot be trained on.</exception>
    public static AdversarialTrainingResult Run(
        AdversarialTrainingSettings settings,
        ImageDataset data,
        EvaluationSettings evaluation,
        IProgress<ProgressUpdate>? progress = null,
        int? stopAfterEpochs = null,
        Device? device = null)
    {
        settings.Validate();
        using var scope = NewDisposeScope();
        var spec = ModelZoo.Get(settings.Model);
        // The zoo takes 28x28 grey digits of 10 classes, and adversarial training needs training images.
        data.CheckFits(InputSpace.Mnist, spec.Name);
        data.RequireTraining($"adversarial training of {spec.Name}");
        var recipe = spec.RecipeFor(Split.Train, settings.Quick, settings.Epochs);
        string methodText = settings.DescribeMethod();
        string recipeText = recipe.Describe() + "; adversarial training: " + methodText;
        string path = ModelStore.CachePath(spec, Split.Train, settings.Seed, settings.Quick, settings.Epochs, data.Name, settings.Variant);
        // One process at a time trains and evaluates an arm: another run (a helper process of `reproduce`, a cluster job)
        // asking for the same arm waits, then reads what the first one cached.
        // The wait is expected (a helper process), so it is progress, not a warning.
        using var armLock = FileLock.Acquire(FileLock.PathFor(path + ".run"), $"training and evaluating {spec.Name} {Name(settings)}", progress, expected: true);
        var trained = TrainOrReuse(settings, data, spec, recipe, recipeText, path, evaluation, progress, stopAfterEpochs, device,
            out var run, out var refreshes);
        using var trainedModel = trained;
        var history = run?.History ?? ReadHistory(path, progress);
        if (history.Count > 0 && File.Exists(path) && !File.Exists(path + ".curves.png"))
        {
            AtomicFile.WriteAllBytes(path + ".curves.png",
                TrainingCurves.Render($"{spec.Name} trained by {Name(settings)} (seed {settings.Seed})", history));
        }
        using var baseline = ModelStore.GetOrTrain(spec.Name, data, Split.Train, settings.Seed, settings.Quick, null, progress, device: device);
        var trainedRobustness = EvaluateCached(trainedModel, data.Test, evaluation, progress, $"{spec.Name} {Name(settings)}");
        var baselineRobustness = EvaluateCached(baseline, data.Test, evaluation, progress, $"{spec.Name} baseline");
        var masking = evaluation.MaskingCount > 0 && settings.Method is AdversarialMethod.Fgsm or AdversarialMethod.Pgd or AdversarialMethod.Pool
            ? Cached(trainedModel, RobustnessEvaluation.DescribeMasking(evaluation) + "|natural=" + Sidecar(baseline), "masking",
                () => RobustnessEvaluation.CheckMasking(trainedModel.Model, baseline.Model, data.Test, evaluation, progress, $"{spec.Name} {Name(settings)}",
                    trainedRobustness), progress)
            : null;
        return new AdversarialTrainingResult(spec.Name, AdversarialTrainingSettings.Name(settings.Method), methodText, recipeText,
            trainedModel.Report.Epochs, run?.ResumedFromEpoch ?? 0, run is null, run?.Seconds ?? trainedModel.Report.Seconds, path, baseline.Path,
            trainedRobustness, baselineRobustness, history, refreshes, masking);
    }

    private static string Name(AdversarialTrainingSettings settings) => AdversarialTrainingSettings.Name(settings.Method);

    /// <summary>The stored model when a finished run of these exact settings is in the cache; else trains (resuming a checkpoint).</summary>
    private static TrainedModel TrainOrReuse(AdversarialTrainingSettings settings, ImageDataset data, ModelSpec spec, TrainingRecipe recipe, string recipeText,
        string path, EvaluationSettings evaluation, IProgress<ProgressUpdate>? progress, int? stopAfterEpochs, Device? device, out TrainingRun? run,
        out IReadOnlyList<PoolRefresh> refreshes)
    {
        refreshes = [];
        run = null;
        if (stopAfterEpochs is null)
        {
            TrainingRun? trainedRun = null;
            IReadOnlyList<PoolRefresh> trainedRefreshes = [];
            // Under the model's lock: a second run asking for the same arm waits and then loads what the first stored.
            var stored = ModelStore.LoadOrTrain(path, recipeText, data.Name, () =>
                Train(settings, data, spec, recipe, recipeText, path, progress, null, device, out trainedRun, out trainedRefreshes), progress);
            run = trainedRun;
            refreshes = trainedRefreshes;
            // A model read back from the cache comes to the CPU; one just trained is already on the device.
            ModelStore.MoveTo(stored.Model, device);
            return stored;
        }
        return Train(settings, data, spec, recipe, recipeText, path, progress, stopAfterEpochs, device, out run, out refreshes);
    }

    /// <summary>Trains the arm (resuming its checkpoint) and stores it when every epoch ran.</summary>
    private static TrainedModel Train(AdversarialTrainingSettings settings, ImageDataset data, ModelSpec spec, TrainingRecipe recipe, string recipeText,
        string path, IProgress<ProgressUpdate>? progress, int? stopAfterEpochs, Device? device, out TrainingRun run, out IReadOnlyList<PoolRefresh> refreshes)
    {
        refreshes = [];
        torch.random.manual_seed(settings.Seed);
        var model = ModelFiles.CreateDetached(spec);
        string checkpointPath = path + ".checkpoint";
        try
        {
            ModelStore.MoveTo(model, device);
            var hook = settings.CreateHook();
            try
            {
                string task = string.Create(CultureInfo.InvariantCulture, $"adv-train {spec.Name} {Name(settings)} (seed {settings.Seed}{(settings.Quick ? ", quick" : "")})");
                using var probeSet = data.Test.Slice(0, Math.Min(500, data.Test.Count));
                var probeAttack = new Attacks.Fgsm { Epsilon = 0.1 };
                var checkpoint = new TrainingCheckpoint(checkpointPath, $"{recipeText}|seed={settings.Seed}|{data.Name}");
                run = TrainingLoop.Train(model, data.Train, recipe, settings.Seed, task, hook, checkpoint, progress, stopAfterEpochs,
                    probe: current => (ClassificationErrors.ErrorRate(current, data.Test),
                        probeAttack.Run(current, probeSet.Images.to(current.Device), probeSet.Labels.to(current.Device), null, 500).Summary.ErrorRate),
                    threads: settings.EffectiveTrainingThreads(model));
                if (hook is PoolTraining pool)
                {
                    refreshes = pool.Refreshes.ToList();
                }
            }
            finally
            {
                (hook as IDisposable)?.Dispose();
            }
            var report = new TrainingReport(
                TrainError: ClassificationErrors.ErrorRate(model, data.Train),
                TestError: ClassificationErrors.ErrorRate(model, data.Test),
                P1Error: ClassificationErrors.ErrorRate(model, data.Get(Split.P1)),
                P2Error: ClassificationErrors.ErrorRate(model, data.Get(Split.P2)),
                Epochs: run.Epochs,
                Seconds: run.Seconds,
                Recipe: recipeText,
                Quick: settings.Quick,
                Dataset: data.Name);
            ModelFiles.Freeze(model);
            var trained = new TrainedModel(spec.Name, Split.Train, settings.Seed, model, report, path);
            if (run.Epochs == recipe.Epochs)
            {
                ModelStore.Save(trained);
                WriteHistory(path, run.History);
                AtomicFile.WriteAllBytes(path + ".curves.png",
                    TrainingCurves.Render($"{spec.Name} trained by {Name(settings)} (seed {settings.Seed})", run.History));
                // The finished model and its history hold everything the checkpoint did.
                File.Delete(checkpointPath);
            }
            return trained;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static void WriteHistory(string path, IReadOnlyList<EpochRecord> history) =>
        AtomicFile.WriteAllText(path + ".history.json", JsonSerializer.Serialize(history, Json));

    /// <summary>The per-epoch history kept beside a stored model; a file that cannot be read is named in a warning, not read as empty.</summary>
    internal static IReadOnlyList<EpochRecord> ReadHistory(string path, IProgress<ProgressUpdate>? progress)
    {
        string historyPath = path + ".history.json";
        if (!File.Exists(historyPath))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize<List<EpochRecord>>(File.ReadAllText(historyPath), Json)
                ?? throw new JsonException("the file holds null");
        }
        catch (Exception error) when (error is JsonException or IOException or NotSupportedException)
        {
            progress?.Report(ProgressUpdate.Warning($"load {historyPath}", $"{historyPath}: the training history cannot be read ({error.Message}); the report shows no curves for this model"));
            return [];
        }
    }

    /// <summary>
    /// The evaluation of a stored model, kept next to it keyed on the evaluation's settings and the model file's
    /// training id (its sidecar), so the baseline is measured once for every method compared with it.
    /// </summary>
    public static Robustness EvaluateCached(TrainedModel model, LabeledImages testSet, EvaluationSettings settings, IProgress<ProgressUpdate>? progress, string name) =>
        Cached(model, RobustnessEvaluation.Describe(settings), "robustness",
            () => RobustnessEvaluation.Evaluate(model.Model, testSet, settings, progress, name), progress);

    private static string Sidecar(TrainedModel model) =>
        !string.IsNullOrEmpty(model.Path) && File.Exists(model.Path + ModelStore.SidecarSuffix) ? File.ReadAllText(model.Path + ModelStore.SidecarSuffix) : "";

    /// <summary>
    /// A measurement of a stored model kept next to it (<c>&lt;model&gt;.&lt;kind&gt;-&lt;hash&gt;.json</c>), keyed on
    /// <paramref name="key"/> and the model file's training id (its sidecar); measured when absent or unreadable.
    /// </summary>
    private static T Cached<T>(TrainedModel model, string key, string kind, Func<T> measure, IProgress<ProgressUpdate>? progress)
        where T : class
    {
        string? cachePath = null;
        string sidecar = Sidecar(model);
        if (sidecar.Length > 0)
        {
            string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key + "|" + sidecar)))[..12];
            cachePath = model.Path + $".{kind}-{hash}.json";
            if (File.Exists(cachePath))
            {
                try
                {
                    var cached = JsonSerializer.Deserialize<T>(File.ReadAllText(cachePath), Json);
                    if (cached is not null)
                    {
                        return cached;
                    }
                }
                catch (Exception error) when (error is JsonException or IOException or NotSupportedException)
                {
                    // Measured again below and rewritten.
                    progress?.Report(ProgressUpdate.Warning($"load {cachePath}", $"{cachePath}: a cached {kind} measurement cannot be read ({error.Message}); measuring again"));
                }
            }
        }
        var measured = measure();
        if (cachePath is not null)
        {
            AtomicFile.WriteAllText(cachePath, JsonSerializer.Serialize(measured, Json));
        }
        return measured;
    }
}
