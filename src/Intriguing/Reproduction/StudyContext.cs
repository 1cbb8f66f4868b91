using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Reproduction;

/// <summary>
/// What every study gets: the dataset, the run's seed and quick flag, a progress sink, and the zoo's trained models
/// (trained on first use and cached on disk by <see cref="ModelStore"/>, kept in memory for the rest of the run).
/// </summary>
public sealed class StudyContext : IDisposable
{
    private readonly Dictionary<(string Name, Split Split), TrainedModel> models = [];
    private readonly Dictionary<AttackKey, AttackResult> attacks = [];

    /// <summary>A run is keyed on the attack's settings (a value: every setting takes part in equality).</summary>
    private readonly record struct AttackKey(string Model, Split Split, Attack Attack, bool Targeted, int Count);

    /// <summary>
    /// A run on <paramref name="data"/> with <paramref name="seed"/>, <paramref name="quick"/> recipes and counts, progress
    /// to <paramref name="progress"/>, models and attacks on <paramref name="device"/> (the CPU when null).
    /// </summary>
    public StudyContext(ImageDataset data, int seed, bool quick, IProgress<ProgressUpdate>? progress, Device? device = null)
    {
        Data = data;
        Seed = seed;
        Quick = quick;
        Progress = progress;
        Device = device ?? CPU;
    }

    /// <summary>Where models train and attacks run (the data stays on the CPU and moves per use).</summary>
    public Device Device { get; }

    /// <summary>The dataset every study reads.</summary>
    public ImageDataset Data { get; }

    /// <summary>The run's seed: weights, data order, targets and random starts.</summary>
    public int Seed { get; }

    /// <summary>True for <c>reproduce --quick</c>: quick recipes and small counts.</summary>
    public bool Quick { get; }

    /// <summary>Where progress and warnings go, or null.</summary>
    public IProgress<ProgressUpdate>? Progress { get; }

    /// <summary>The command line's declaration for TorchScript model files (<see cref="ModelDeclaration.Resolve"/>), if any.</summary>
    public DeclarationOptions? Declaration { get; init; }

    /// <summary>The zoo model <paramref name="name"/> trained on <paramref name="split"/> with the run's seed.</summary>
    public TrainedModel Model(string name, Split split = Split.Train)
    {
        if (!models.TryGetValue((name, split), out var model))
        {
            model = ModelStore.GetOrTrain(name, Data, split, Seed, Quick, progress: Progress, device: Device, declaration: Declaration);
            models[(name, split)] = model;
        }
        return model;
    }

    /// <summary>The model files the run has used so far, by "NAME (split)", e.g. "conv (train)": what a shard's part records.</summary>
    public IReadOnlyDictionary<string, string> ModelFiles =>
        models.ToDictionary(pair => $"{pair.Key.Name} ({pair.Key.Split.ToString().ToLowerInvariant()})", pair => pair.Value.Path, StringComparer.Ordinal);

    /// <summary>
    /// <paramref name="attack"/> (its random streams seeded with the run's seed) run on the first <paramref name="count"/>
    /// test images against a zoo model; targeted attacks aim at a random wrong class drawn with the run's seed.
    /// Results are kept for the rest of the run, keyed on the attack's settings, so studies that need the same attack
    /// share one run of it.
    /// </summary>
    public AttackResult Attack(string model, Split split, Attack attack, bool targeted, int count)
    {
        ArgumentNullException.ThrowIfNull(attack);
        attack = attack.WithSeed(Seed);
        var key = new AttackKey(model, split, attack, targeted, count);
        if (attacks.TryGetValue(key, out var cached))
        {
            return cached;
        }
        var trained = Model(model, split);
        using var scope = NewDisposeScope();
        using var images = Data.Test.Slice(0, Math.Min(count, Data.Test.Count));
        var labels = images.Labels.to(Device);
        var targets = targeted ? AttackTargets.RandomWrong(labels, Seed, trained.Model.ClassCount) : null;
        var result = attack.Run(trained.Model, images.Images.to(Device), labels, targets, progress: Progress);
        result.Adversarials.DetachFromDisposeScope();
        attacks[key] = result;
        return result;
    }

    /// <summary>The catalog's attack <paramref name="method"/> with its defaults and the given options (<see cref="AttackCatalog.Create"/>).</summary>
    public AttackResult Attack(string model, Split split, string method, bool targeted, int count, double? epsilon = null, double? stddev = null) =>
        Attack(model, split, AttackCatalog.Create(method, epsilon, stddev, Seed), targeted, count);

    /// <summary>Frees the kept attack results and the loaded models.</summary>
    public void Dispose()
    {
        foreach (var result in attacks.Values)
        {
            result.Adversarials.Dispose();
        }
        attacks.Clear();
        foreach (var model in models.Values)
        {
            model.Dispose();
        }
        models.Clear();
    }
}
