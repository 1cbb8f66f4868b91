using System.Text.Json;
using Intriguing.Sharding;
using static TorchSharp.torch;

namespace Intriguing.Units;

/// <summary>One hidden layer's activations over a shard's images: float32 [images, <paramref name="Width"/>] as deflated little-endian bytes.</summary>
public sealed record LayerValues(int Layer, int Width, byte[] Values);

/// <summary>
/// One shard's share of a unit analysis, as its part file holds it: the model's hidden layers and the layers analysed,
/// and for the shard's images (whole batches of the pool) their pixels, labels and the activations of every layer the
/// analysis reads (<see cref="UnitPool.Needed"/>), bit for bit, with the seconds they took.
/// </summary>
public sealed record UnitsPart(
    string Model,
    IReadOnlyList<string> HiddenLayers,
    IReadOnlyList<int> Layers,
    int PixelFeatures,
    byte[] Pixels,
    long[] Labels,
    IReadOnlyList<LayerValues> Activations,
    double ActivationSeconds);

/// <summary>
/// Unit analyses split over shards. The forward passes are the per-image work: a shard computes the activations of
/// its images and writes them (<see cref="Of"/>); merge puts the pool back together (<see cref="Merge"/>) and runs the
/// analysis on it (<see cref="UnitAnalysis.Analyze(UnitPool, UnitAnalysisOptions, IProgress{ProgressUpdate})"/>). The
/// analysis cannot be split: a direction's top images come from the whole pool, and the chance levels pair images drawn
/// from all of it, so the part carries what the analysis reads rather than a summary of it.
/// </summary>
public static class UnitParts
{
    /// <summary>The part of a shard's <paramref name="pool"/>.</summary>
    public static UnitsPart Of(UnitPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        using var scope = NewDisposeScope();
        return new UnitsPart(
            pool.Model,
            pool.HiddenLayers,
            pool.Layers,
            (int)pool.Pixels.shape[1],
            FloatBytes.Of(pool.Pixels),
            pool.Labels.data<long>().ToArray(),
            [.. pool.Activations.OrderBy(pair => pair.Key).Select(pair => new LayerValues(pair.Key, (int)pair.Value.shape[1], FloatBytes.Of(pair.Value)))],
            pool.ActivationSeconds);
    }

    /// <summary>
    /// The whole pool from the parts of one run in shard order (as <see cref="ShardParts.ReadSet"/> gives them): rows
    /// concatenated, activation seconds summed.
    /// </summary>
    /// <exception cref="BadInputException">A payload that is not a units part, parts of different models or layers, or a part whose rows do not match its images.</exception>
    public static UnitPool Merge(IReadOnlyList<ShardPart> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var payloads = parts.Select(Payload).ToList();
        var first = payloads[0];
        using var scope = NewDisposeScope();
        var pixels = new List<Tensor>();
        var labels = new List<long>();
        var activations = first.Activations.ToDictionary(layer => layer.Layer, _ => new List<Tensor>());
        for (int i = 0; i < parts.Count; i++)
        {
            var payload = payloads[i];
            string path = parts[i].Path;
            int rows = parts[i].Manifest.Length;
            if (payload.Model != first.Model || !payload.HiddenLayers.SequenceEqual(first.HiddenLayers) || !payload.Layers.SequenceEqual(first.Layers)
                || payload.PixelFeatures != first.PixelFeatures
                || !payload.Activations.Select(layer => (layer.Layer, layer.Width)).SequenceEqual(first.Activations.Select(layer => (layer.Layer, layer.Width))))
            {
                throw new BadInputException($"merge: '{path}' holds other layers of another model than '{parts[0].Path}'");
            }
            if (payload.Labels.Length != rows)
            {
                throw new BadInputException($"merge: '{path}' should hold {rows} images ({parts[i].Manifest.Start}..{parts[i].Manifest.Start + rows - 1}) and holds {payload.Labels.Length} labels");
            }
            pixels.Add(FloatBytes.ToTensor(payload.Pixels, [rows, payload.PixelFeatures], $"merge: the pixels in '{path}'"));
            labels.AddRange(payload.Labels);
            foreach (var layer in payload.Activations)
            {
                activations[layer.Layer].Add(FloatBytes.ToTensor(layer.Values, [rows, layer.Width], $"merge: the activations of layer {layer.Layer} in '{path}'"));
            }
        }
        return new UnitPool(first.Model, first.HiddenLayers, first.Layers, cat(pixels, 0), tensor(labels.ToArray()),
            activations.ToDictionary(pair => pair.Key, pair => cat(pair.Value, 0)), payloads.Sum(payload => payload.ActivationSeconds));
    }

    private static UnitsPart Payload(ShardPart part) =>
        part.Read<UnitsPart>("units part", payload => payload is { Model: not null, HiddenLayers: not null, Layers: not null, Pixels: not null, Labels: not null, Activations: not null }
            && payload.Activations.All(layer => layer is { Values: not null }));
}
