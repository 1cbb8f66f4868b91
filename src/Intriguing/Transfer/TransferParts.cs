using System.Text.Json;
using Intriguing.Attacks;
using Intriguing.Sharding;
using static TorchSharp.torch;

namespace Intriguing.Transfer;

/// <summary>
/// One source model's examples made on a share of the run's images (a shard's, or all of them): what
/// <see cref="SourceExamples"/> is built from, kept per example so that shards put together (<see cref="Combine"/>) give
/// exactly the examples and the means of an unsplit run. <see cref="Indices"/> are the examples' images in the whole
/// run; <see cref="Adversarials"/> holds their points, float32 [M, <see cref="Features"/>] as deflated little-endian bytes
/// (base64 in a part file), so they come back bit for bit.
/// </summary>
/// <param name="Source">The source model's name as the matrix shows it.</param>
/// <param name="Attack">The attack's description.</param>
/// <param name="Targeted">Whether the examples were aimed at a class.</param>
/// <param name="Attempted">Images of the share the source classified correctly (the attack's attempts).</param>
/// <param name="Indices">Each example's image in the whole run, ascending.</param>
/// <param name="Distortions">Each example's distortion (the paper's RMS).</param>
/// <param name="L2s">Each example's L2 distance.</param>
/// <param name="Features">Values per point.</param>
/// <param name="Adversarials">The points, float32 [M, Features] as deflated little-endian bytes.</param>
/// <param name="Seconds">The attack's time on the share.</param>
public sealed record SourcePart(
    string Source,
    string Attack,
    bool Targeted,
    int Attempted,
    long[] Indices,
    double[] Distortions,
    double[] L2s,
    int Features,
    byte[] Adversarials,
    double Seconds)
{
    /// <summary>
    /// The verified successes of <paramref name="result"/> on images the source classified correctly (as
    /// <see cref="SourceExamples.From"/> keeps them), the result's rows being the run's images from
    /// <paramref name="firstImage"/> on.
    /// </summary>
    public static SourcePart Of(string source, Attack attack, AttackResult result, long firstImage)
    {
        ArgumentNullException.ThrowIfNull(attack);
        ArgumentNullException.ThrowIfNull(result);
        var kept = result.Examples.Where(example => example.OriginallyCorrect && example.Success).ToList();
        using var scope = NewDisposeScope();
        var rows = tensor(kept.Select(example => (long)example.Index).ToArray(), device: result.Adversarials.device);
        long features = result.Adversarials.shape.Skip(1).Aggregate(1L, (product, size) => product * size);
        var points = result.Adversarials.reshape(result.Adversarials.shape[0], features).index_select(0, rows);
        return new SourcePart(
            source,
            attack.Describe(),
            result.Summary.Targeted,
            result.Summary.Attempted,
            [.. kept.Select(example => firstImage + example.Index)],
            [.. kept.Select(example => example.Distortion)],
            [.. kept.Select(example => example.L2)],
            (int)features,
            FloatBytes.Of(points),
            result.Summary.Seconds);
    }

    /// <summary>
    /// The examples of the parts of one source, given in the order of their images (shard order): indices and points
    /// concatenated, attempts and seconds summed, the mean distortion and L2 taken over all the examples in order, as
    /// one unsplit run takes them. The points are a new tensor in the caller's dispose scope, on the CPU.
    /// </summary>
    /// <exception cref="BadInputException">No part, parts of different sources, attacks or sizes, or a part whose arrays disagree.</exception>
    public static SourceExamples Combine(IReadOnlyList<SourcePart> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new BadInputException("transfer parts: no part to combine");
        }
        var first = parts[0];
        foreach (var part in parts)
        {
            if (part.Source != first.Source || part.Attack != first.Attack || part.Targeted != first.Targeted || part.Features != first.Features)
            {
                throw new BadInputException($"transfer parts: examples of '{part.Source}' ({part.Attack}) cannot be put with those of '{first.Source}' ({first.Attack})");
            }
            int count = part.Indices.Length;
            if (part.Distortions.Length != count || part.L2s.Length != count || part.Features < 1)
            {
                throw new BadInputException($"transfer parts: the examples of '{part.Source}' hold {count} indices, {part.Distortions.Length} distortions " +
                    $"and {part.L2s.Length} L2 distances, {part.Features} values a point; expected one of each per example");
            }
        }
        long[] indices = [.. parts.SelectMany(part => part.Indices)];
        for (int i = 1; i < indices.Length; i++)
        {
            if (indices[i] <= indices[i - 1])
            {
                throw new BadInputException($"transfer parts: the examples of '{first.Source}' are not in the order of their images (image {indices[i]} after {indices[i - 1]})");
            }
        }
        double[] distortions = [.. parts.SelectMany(part => part.Distortions)];
        double[] l2s = [.. parts.SelectMany(part => part.L2s)];
        using var scope = NewDisposeScope();
        var adversarials = cat(parts.Select((part, position) => FloatBytes.ToTensor(part.Adversarials, [part.Indices.Length, part.Features], $"the points of the examples of '{first.Source}' in part {position}")).ToList(), 0);
        // Enumerable.Average sums in order: the same examples in the same order give the same mean to the last bit.
        return new SourceExamples(
            first.Source,
            first.Attack,
            first.Targeted,
            indices,
            adversarials.MoveToOuterDisposeScope(),
            parts.Sum(part => part.Attempted),
            distortions.Length == 0 ? 0 : distortions.Average(),
            l2s.Length == 0 ? 0 : l2s.Average(),
            parts.Sum(part => part.Seconds));
    }
}

/// <summary>
/// One shard's share of a transfer run, as its part file holds it: the examples of every source of Table 2's matrix
/// (<see cref="Sources"/>, in the order of the sources) and, with the cross-split study, of Table 4's
/// (<see cref="CrossSplit"/>), on the shard's images; the data folder the shard read (a hint for merge, which measures
/// the targets on the examples); and the shard's seconds.
/// </summary>
public sealed record TransferPart(IReadOnlyList<SourcePart> Sources, IReadOnlyList<SourcePart> CrossSplit, string? DataDir, double Seconds);

/// <summary>
/// The parts of a transfer run put together (<see cref="TransferParts.Merge"/>): every source's examples over the whole
/// run, Table 2's and Table 4's, the data folder the first shard read, and the shards' seconds summed.
/// </summary>
public sealed record MergedTransferParts(IReadOnlyList<SourceExamples> Sources, IReadOnlyList<SourceExamples> CrossSplit, string? DataDir, double Seconds);

/// <summary>
/// Transfer runs split over shards. The attacks are the per-image work: a shard attacks its own images (whole batches
/// of the run, <see cref="Shard.Range(int, int)"/>) with every source and writes the examples (<see cref="SourcePart"/>);
/// merge puts each source's parts together (<see cref="Merge"/>) and measures every target on them over the whole run's
/// images, as an unsplit run does: the matched-noise rows are scaled to each row's mean distortion over all its
/// examples, which no shard knows. Random choices are keyed on the image's index in the whole run.
/// </summary>
public static class TransferParts
{
    /// <summary>
    /// Whether a shard can make <paramref name="method"/>'s examples on its own images: <c>lbfgs</c> and
    /// <c>lbfgs-untargeted</c>. <c>fgsm</c> and <c>pgd</c> are sized to each source's L-BFGS mean L2 over all the run's
    /// images (<see cref="TransferAttacks"/>), which no shard sees.
    /// </summary>
    public static bool Splits(string method) => method is "lbfgs" or "lbfgs-untargeted";

    /// <summary>
    /// The examples of <paramref name="method"/> (one that <see cref="Splits"/>) for <paramref name="source"/> on the
    /// images <paramref name="run"/> attacks, the run's images from <paramref name="firstImage"/> on: what
    /// <see cref="TransferAttacks.Make"/> makes of them, kept per example for a part.
    /// </summary>
    /// <exception cref="BadInputException">A method that cannot be split, or an unknown one.</exception>
    public static SourcePart Make(string method, TransferModel source, AttackRunner run, BoxConstrainedLbfgs lbfgs, long firstImage)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(lbfgs);
        if (!Splits(TransferAttacks.Check(method)))
        {
            throw new BadInputException($"--method {method} sizes each source's attack to the mean L2 of its L-BFGS examples over all the run's images, which no shard sees");
        }
        return SourcePart.Of(source.Name, lbfgs, run(source, lbfgs, method == "lbfgs"), firstImage);
    }

    /// <summary>
    /// A runner that attacks <paramref name="images"/> (the run's images from <paramref name="firstImage"/> on) in one
    /// <see cref="Attack.Run"/> with batches of <paramref name="batch"/> (cut further to the rows the source's model takes
    /// per pass), each image keyed on its index in the run: the attack seeded with <paramref name="seed"/>, targeted
    /// attacks aimed at the random wrong class the whole run draws for each image. When <paramref name="firstImage"/> is
    /// where the unsplit run starts a batch of every source (a multiple of each min(batch, rows per pass)), every image is
    /// attacked beside the same images as in the unsplit run, so a shard's examples are the unsplit run's to the bit.
    /// Example indices in the result count from <paramref name="firstImage"/>.
    /// </summary>
    public static AttackRunner Runner(Tensor images, Tensor labels, long firstImage, int seed, int batch, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(firstImage);
        return (source, attack, targeted) =>
        {
            using var scope = NewDisposeScope();
            var seeded = attack.WithSeed(seed);
            var device = source.Model.Device;
            int count = (int)images.shape[0];
            if (count == 0)
            {
                return new AttackResult(zeros(0, source.Model.Features, device: device).MoveToOuterDisposeScope(), [],
                    AttackSummary.From(seeded.Name, targeted, [], 0, true, 0));
            }
            var deviceLabels = labels.to(device);
            var targets = targeted ? AttackTargets.RandomWrong(deviceLabels, seed, source.Model.ClassCount, firstImage) : null;
            // One run over the range, as the unsplit run attacks all its images: the attack cuts them into its own batches.
            long[] keys = [.. Enumerable.Range(0, count).Select(row => firstImage + row)];
            var result = seeded.Run(source.Model, images.to(device), deviceLabels, targets, batch, progress, keys);
            return result with { Adversarials = result.Adversarials.MoveToOuterDisposeScope() };
        };
    }

    /// <summary>The transfer part a shard wrote (<see cref="ShardParts.Write{T}"/>).</summary>
    /// <exception cref="BadInputException">A payload that is not a transfer part.</exception>
    private static TransferPart Payload(ShardPart part)
    {
        ArgumentNullException.ThrowIfNull(part);
        return part.Read<TransferPart>("transfer part", payload => payload is { Sources: not null, CrossSplit: not null }
            && payload.Sources.Concat(payload.CrossSplit).All(source => source is { Source: not null, Attack: not null, Indices: not null, Distortions: not null, L2s: not null, Adversarials: not null }));
    }

    /// <summary>
    /// Each source's examples over the whole run, from the parts of one run in shard order (as
    /// <see cref="ShardParts.ReadSet"/> gives them): Table 2's sources, then Table 4's (empty without the cross-split
    /// study), with the first part's data folder and the shards' seconds summed. The points are new tensors in the
    /// caller's dispose scope.
    /// </summary>
    /// <exception cref="BadInputException">Parts that disagree on the sources, or hold examples outside their images.</exception>
    public static MergedTransferParts Merge(IReadOnlyList<ShardPart> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var payloads = parts.Select(Payload).ToList();
        for (int i = 0; i < parts.Count; i++)
        {
            var manifest = parts[i].Manifest;
            foreach (var source in payloads[i].Sources.Concat(payloads[i].CrossSplit))
            {
                if (source.Indices.Any(index => index < manifest.Start || index >= manifest.Start + manifest.Length))
                {
                    throw new BadInputException($"merge: '{parts[i].Path}' holds examples of '{source.Source}' outside its images {manifest.Start}..{manifest.Start + manifest.Length - 1}");
                }
            }
        }
        return new MergedTransferParts(Sources(parts, payloads, payload => payload.Sources), Sources(parts, payloads, payload => payload.CrossSplit),
            payloads[0].DataDir, payloads.Sum(payload => payload.Seconds));
    }

    private static List<SourceExamples> Sources(IReadOnlyList<ShardPart> parts, List<TransferPart> payloads, Func<TransferPart, IReadOnlyList<SourcePart>> matrix)
    {
        var names = matrix(payloads[0]).Select(source => source.Source).ToList();
        for (int i = 1; i < payloads.Count; i++)
        {
            if (!matrix(payloads[i]).Select(source => source.Source).SequenceEqual(names))
            {
                throw new BadInputException($"merge: '{parts[i].Path}' holds examples of other sources than '{parts[0].Path}'");
            }
        }
        return [.. names.Select((_, position) => SourcePart.Combine([.. payloads.Select(payload => matrix(payload)[position])]))];
    }
}
