using System.Text.Json;
using Intriguing.Sharding;
using Intriguing.Statistics;

namespace Intriguing.Evaluation;

/// <summary>
/// One shard's share of a cascade evaluation, as its part file holds it: every image's outcome (numbered in the whole
/// run), what each stage did on this shard's images, the checks made before the cascade on the whole run's first
/// images (the same in every shard), and the shard's seconds.
/// </summary>
public sealed record CascadePart(
    double Epsilon,
    ThreatNorm Norm,
    AutoAttackVersion Version,
    IReadOnlyList<ImageOutcome> Images,
    IReadOnlyList<StageResult> Stages,
    IReadOnlyList<string> ChecksBefore,
    double Seconds);

/// <summary>
/// A cascade evaluation put together from its shards: the same numbers an unsplit run gives (accuracies, interval,
/// per-stage counts, warnings, every image's outcome). <see cref="Seconds"/> and the stages' seconds are summed over
/// the shards: compute time, not wall time.
/// </summary>
public sealed record CascadeTotals(
    double Epsilon,
    ThreatNorm Norm,
    AutoAttackVersion Version,
    int Count,
    double CleanAccuracy,
    double RobustAccuracy,
    double[] RobustInterval,
    IReadOnlyList<StageResult> Stages,
    IReadOnlyList<ImageOutcome> Images,
    IReadOnlyList<string> Warnings,
    double Seconds)
{
    /// <summary>The totals of one unsplit run.</summary>
    public static CascadeTotals Of(AutoAttackResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new(result.Epsilon, result.Norm, result.Version, result.Count, result.CleanAccuracy, result.RobustAccuracy, result.RobustInterval,
            result.Stages, result.Images, result.Warnings, result.Seconds);
    }
}

/// <summary>Writes a shard's cascade part and merges a complete set of them.</summary>
public static class CascadeParts
{
    /// <summary>The part of <paramref name="result"/>, a run on the images from <paramref name="firstImage"/> on.</summary>
    public static CascadePart Of(AutoAttackResult result, int firstImage, IReadOnlyList<string> checksBefore)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new CascadePart(result.Epsilon, result.Norm, result.Version,
            [.. result.Images.Select(image => image with { Index = image.Index + firstImage })],
            result.Stages, checksBefore, result.Seconds);
    }

    /// <summary>
    /// Merges the parts of one run (in shard order, as <see cref="ShardParts.ReadSet"/> gives them): images
    /// concatenated, stage counts summed, the warnings of the unsplit run (the checks before, and the masking check on
    /// the summed stages).
    /// </summary>
    /// <exception cref="BadInputException">A payload that is not a cascade part, or parts that disagree.</exception>
    public static CascadeTotals Merge(IReadOnlyList<ShardPart> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var cascades = parts.Select(Payload).ToList();
        var first = cascades[0];
        int total = parts[0].Manifest.Total;
        var images = new List<ImageOutcome>(total);
        for (int i = 0; i < parts.Count; i++)
        {
            var part = cascades[i];
            var manifest = parts[i].Manifest;
            if (part.Images.Count != manifest.Length || part.Images.Select(image => image.Index).Where((index, position) => index != manifest.Start + position).Any())
            {
                throw new BadInputException($"merge: '{parts[i].Path}' should hold images {manifest.Start}..{manifest.Start + manifest.Length - 1} in order, and does not");
            }
            if (!part.ChecksBefore.SequenceEqual(first.ChecksBefore) || part.Stages.Count != first.Stages.Count
                || part.Stages.Zip(first.Stages).Any(pair => pair.First.Name != pair.Second.Name || pair.First.Settings != pair.Second.Settings))
            {
                throw new BadInputException($"merge: '{parts[i].Path}' ran other stages or checks than '{parts[0].Path}'");
            }
            images.AddRange(part.Images);
        }
        var stages = first.Stages.Select((stage, s) => stage with
        {
            Attacked = cascades.Sum(part => part.Stages[s].Attacked),
            BrokeImages = cascades.Sum(part => part.Stages[s].BrokeImages),
            Seconds = cascades.Sum(part => part.Stages[s].Seconds),
            Passes = cascades.Sum(part => part.Stages[s].Passes),
        }).ToList();
        int correct = images.Count(image => image.CleanCorrect);
        int robust = images.Count(image => image.Robust);
        var warnings = first.ChecksBefore.Concat(AutoAttackChecks.After(stages, total)).ToList();
        return new CascadeTotals(first.Epsilon, first.Norm, first.Version, total,
            total == 0 ? 0 : (double)correct / total, total == 0 ? 0 : (double)robust / total, WilsonInterval.Of(robust, total),
            stages, images, warnings, cascades.Sum(part => part.Seconds));
    }

    private static CascadePart Payload(ShardPart part) =>
        part.Read<CascadePart>("cascade part", payload => payload is { Images: not null, Stages: not null, ChecksBefore: not null });
}
