using System.Diagnostics;
using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Units;

/// <summary>
/// The pool of images the unit analysis searches, as it reads them: their pixels (float32 [pool, D]), labels (int64
/// [pool]) and the activations of the hidden layers it needs (float32 [pool, units]: the layers analysed and the layer
/// below each), all on the CPU. Computing the activations is the per-image work of Section 3; everything after it
/// (<see cref="UnitAnalysis.Analyze(UnitPool, UnitAnalysisOptions, IProgress{ProgressUpdate})"/>) reads the whole pool.
/// A pool split over shards is put back together by <see cref="UnitParts.Merge"/>. Owns its tensors.
/// </summary>
public sealed class UnitPool : IDisposable
{
    /// <summary>A pool from its parts; the pool takes the tensors over (detached from any dispose scope).</summary>
    /// <exception cref="BadInputException">Tensors whose rows do not agree, or a needed layer's activations missing.</exception>
    public UnitPool(string model, IReadOnlyList<string> hiddenLayers, IReadOnlyList<int> layers, Tensor pixels, Tensor labels,
        IReadOnlyDictionary<int, Tensor> activations, double activationSeconds)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(hiddenLayers);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(activations);
        Model = model;
        HiddenLayers = hiddenLayers;
        Layers = layers;
        Pixels = pixels.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        Activations = activations.ToDictionary(pair => pair.Key, pair => pair.Value.DetachFromDisposeScope());
        ActivationSeconds = activationSeconds;
        long rows = pixels.shape[0];
        if (pixels.dim() != 2 || labels.dim() != 1 || labels.shape[0] != rows || Activations.Values.Any(values => values.dim() != 2 || values.shape[0] != rows))
        {
            throw new BadInputException($"unit pool of {model}: pixels [{string.Join(", ", pixels.shape)}], labels [{string.Join(", ", labels.shape)}] and " +
                $"activations of {string.Join(", ", Activations.Values.Select(values => $"[{string.Join(", ", values.shape)}]"))} do not describe one pool (one row per image)");
        }
        foreach (int layer in Needed(layers))
        {
            if (layer < 0 || layer >= hiddenLayers.Count || !Activations.ContainsKey(layer))
            {
                throw new BadInputException($"unit pool of {model}: no activations of hidden layer {layer}, which the analysis of layers {string.Join(", ", layers)} needs");
            }
        }
    }

    /// <summary>The model's name.</summary>
    public string Model { get; }

    /// <summary>The names of all the model's hidden layers, input side first.</summary>
    public IReadOnlyList<string> HiddenLayers { get; }

    /// <summary>The layers to analyse (indices into <see cref="HiddenLayers"/>), in order.</summary>
    public IReadOnlyList<int> Layers { get; }

    /// <summary>The images, float32 [pool, D].</summary>
    public Tensor Pixels { get; }

    /// <summary>Their labels, int64 [pool].</summary>
    public Tensor Labels { get; }

    /// <summary>Hidden layer index to its activations over the pool, float32 [pool, units]: every layer of <see cref="Needed"/>.</summary>
    public IReadOnlyDictionary<int, Tensor> Activations { get; }

    /// <summary>Seconds spent computing the activations.</summary>
    public double ActivationSeconds { get; }

    /// <summary>Images in the pool.</summary>
    public int Count => (int)Pixels.shape[0];

    /// <summary>The hidden layers whose activations an analysis of <paramref name="layers"/> reads: each, and the one below it (none below the first).</summary>
    public static IReadOnlyList<int> Needed(IReadOnlyList<int> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return [.. layers.Concat(layers.Where(layer => layer > 0).Select(layer => layer - 1)).Distinct().Order()];
    }

    /// <summary>
    /// The pool of <paramref name="images"/> for an analysis of <paramref name="layers"/>: activations computed
    /// <paramref name="batchSize"/> images at a time from the first, without a graph. A float result can differ in its
    /// last bits with the batch an image is computed in, so a pool split into shards is computed in whole batches of
    /// the same size (<see cref="Sharding.Shard.Range(int, int)"/>) to give the same activations.
    /// </summary>
    /// <exception cref="BadInputException">A layer index outside the model's hidden layers, or a batch size below 1.</exception>
    public static UnitPool Of(Classifier model, string modelName, LabeledImages images, IReadOnlyList<int> layers,
        int batchSize = UnitAnalysis.DefaultBatch, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Any(layer => layer < 0 || layer >= model.HiddenLayerNames.Count))
        {
            throw new BadInputException($"{modelName}: hidden layers are 0..{model.HiddenLayerNames.Count - 1}; got {string.Join(", ", layers)}");
        }
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        progress?.Report(new ProgressUpdate("unit analysis", 0, layers.Count, "activations"));
        var all = UnitAnalysis.PoolActivations(model, images.Images, batchSize);
        var needed = Needed(layers);
        var activations = needed.ToDictionary(layer => layer, layer => all[layer]);
        // Copies: the pool owns its tensors and must not free the data set's.
        var pixels = images.Images.to(ScalarType.Float32).cpu().reshape(images.Count, -1).clone();
        var labels = images.Labels.to(ScalarType.Int64).cpu().clone();
        return new UnitPool(modelName, [.. model.HiddenLayerNames], [.. layers], pixels, labels, activations, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Pixels.Dispose();
        Labels.Dispose();
        foreach (var values in Activations.Values)
        {
            values.Dispose();
        }
    }
}
