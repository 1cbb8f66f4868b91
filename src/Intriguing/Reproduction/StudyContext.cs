using Intriguing.Data;
using Intriguing.Models;

namespace Intriguing.Reproduction;

/// <summary>
/// What every study gets: the dataset, the run's seed and quick flag, a progress sink, and the zoo's trained models
/// (trained on first use and cached on disk by <see cref="ModelStore"/>, kept in memory for the rest of the run).
/// </summary>
public sealed class StudyContext : IDisposable
{
    private readonly Dictionary<(string Name, Split Split), TrainedModel> models = [];

    public StudyContext(ImageDataset data, int seed, bool quick, IProgress<ProgressUpdate>? progress)
    {
        Data = data;
        Seed = seed;
        Quick = quick;
        Progress = progress;
    }

    public ImageDataset Data { get; }

    public int Seed { get; }

    public bool Quick { get; }

    public IProgress<ProgressUpdate>? Progress { get; }

    /// <summary>The zoo model <paramref name="name"/> trained on <paramref name="split"/> with the run's seed.</summary>
    public TrainedModel Model(string name, Split split = Split.Train)
    {
        if (!models.TryGetValue((name, split), out var model))
        {
            model = ModelStore.GetOrTrain(name, Data, split, Seed, Quick, progress: Progress);
            models[(name, split)] = model;
        }
        return model;
    }

    public void Dispose()
    {
        foreach (var model in models.Values)
        {
            model.Dispose();
        }
        models.Clear();
    }
}
