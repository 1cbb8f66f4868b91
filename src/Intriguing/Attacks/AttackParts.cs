using Intriguing.Sharding;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// One shard's share of an attack run, as its part file holds it: every image's outcome numbered in the whole run, what
/// the re-check rejected, the 8-bit survival count, the shard's seconds, and its images before and after the attack
/// (float32 rows, deflated; base64 in JSON) so that the merged run writes the same adversarial files as an unsplit one.
/// </summary>
/// <param name="Method">The attack's name.</param>
/// <param name="Targeted">Whether it aimed at given classes.</param>
/// <param name="Examples">One outcome per image, <see cref="AdversarialExample.Index"/> counted in the whole run.</param>
/// <param name="RejectedClaims">Successes the attack claimed that the fresh forward pass did not confirm.</param>
/// <param name="Verified">Whether every point was re-classified and inside the box.</param>
/// <param name="EightBitChecked">Successes re-encoded as 8-bit images.</param>
/// <param name="EightBitSurvived">Of those, the ones still adversarial.</param>
/// <param name="Features">Values per image.</param>
/// <param name="Adversarials">The adversarial points, [images, features] float32, deflated.</param>
/// <param name="Originals">The clean images, [images, features] float32, deflated.</param>
/// <param name="Seconds">The shard's attack time.</param>
public sealed record AttackPart(
    string Method,
    bool Targeted,
    IReadOnlyList<AdversarialExample> Examples,
    int RejectedClaims,
    bool Verified,
    int EightBitChecked,
    int EightBitSurvived,
    int Features,
    byte[] Adversarials,
    byte[] Originals,
    double Seconds);

/// <summary>An attack run put together from its shards: the result one unsplit run gives, its 8-bit survival, and the clean images.</summary>
/// <param name="Result">The adversarial points (float32 [N, D], in the caller's dispose scope), every image's outcome and the summary; its seconds are summed over the shards.</param>
/// <param name="Survival">The 8-bit survival count, summed over the shards.</param>
/// <param name="Originals">The clean images, one flat array per image, in order.</param>
public sealed record MergedAttack(AttackResult Result, EightBitSurvival Survival, float[][] Originals);

/// <summary>Writes a shard's attack part and merges a complete set of them.</summary>
public static class AttackParts
{
    /// <summary>
    /// The part of <paramref name="result"/>, an attack on the images from <paramref name="firstImage"/> on of a run
    /// (whose clean images are <paramref name="originals"/>, [N, D]), with its 8-bit <paramref name="survival"/>.
    /// </summary>
    public static AttackPart Of(AttackResult result, EightBitSurvival survival, Tensor originals, int firstImage)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(survival);
        ArgumentNullException.ThrowIfNull(originals);
        int features = (int)result.Adversarials.shape[1];
        return new AttackPart(result.Summary.Method, result.Summary.Targeted,
            [.. result.Examples.Select(example => example with { Index = example.Index + firstImage })],
            result.Summary.RejectedClaims, result.Summary.Verified, survival.Checked, survival.Survived, features,
            FloatBytes.Of(result.Adversarials), FloatBytes.Of(originals.reshape(originals.shape[0], -1)), result.Summary.Seconds);
    }

    /// <summary>
    /// The parts, in shard order, put together: the examples in order, the summary recomputed over all of them (the
    /// same statistics an unsplit run computes), claims, survival and seconds summed, verified only if every part was.
    /// </summary>
    /// <exception cref="BadInputException">Parts of different attacks, images out of order, or rows that do not match their examples.</exception>
    public static MergedAttack Merge(IReadOnlyList<AttackPart> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new BadInputException("merge: no attack parts");
        }
        var first = parts[0];
        var examples = new List<AdversarialExample>();
        var adversarialRows = new List<float>();
        var originals = new List<float[]>();
        foreach (var part in parts)
        {
            if (part.Method != first.Method || part.Targeted != first.Targeted || part.Features != first.Features)
            {
                throw new BadInputException($"merge: attack parts of {first.Method} and {part.Method} (targeted {first.Targeted} and {part.Targeted}) cannot be merged");
            }
            long[] shape = [part.Examples.Count, part.Features];
            float[] adversarials = Values(FloatBytes.ToTensor(part.Adversarials ?? [], shape, "merge: an attack part's adversarial rows"));
            float[] clean = Values(FloatBytes.ToTensor(part.Originals ?? [], shape, "merge: an attack part's clean rows"));
            foreach (var example in part.Examples)
            {
                if (example.Index != examples.Count)
                {
                    throw new BadInputException($"merge: attack parts out of order: image {example.Index} where image {examples.Count} was due");
                }
                examples.Add(example);
            }
            adversarialRows.AddRange(adversarials);
            for (int row = 0; row < part.Examples.Count; row++)
            {
                originals.Add(clean.AsSpan(row * part.Features, part.Features).ToArray());
            }
        }
        double seconds = parts.Sum(part => part.Seconds);
        var summary = AttackSummary.From(first.Method, first.Targeted, examples, parts.Sum(part => part.RejectedClaims), parts.All(part => part.Verified), seconds);
        var points = tensor(adversarialRows.ToArray()).reshape(examples.Count, first.Features);
        var survival = new EightBitSurvival(parts.Sum(part => part.EightBitChecked), parts.Sum(part => part.EightBitSurvived));
        return new MergedAttack(new AttackResult(points, examples, summary), survival, [.. originals]);
    }

    private static float[] Values(Tensor rows)
    {
        using (rows)
        {
            return rows.numel() == 0 ? [] : rows.data<float>().ToArray();
        }
    }
}
