using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// How many adversarial examples are still adversarial after being saved as 8-bit images and read back
/// (<paramref name="Checked"/> successes re-encoded, <paramref name="Survived"/> still fooling the model).
/// Minimal perturbations can be smaller than one grey level (1/255), so rounding alone may undo them.
/// </summary>
public sealed record EightBitSurvival(int Checked, int Survived)
{
    /// <summary>The fraction of checked examples that survived, in [0,1]; NaN when none was checked.</summary>
    public double Rate => Checked == 0 ? double.NaN : (double)Survived / Checked;

    /// <summary>
    /// Rounds every successful example of <paramref name="result"/> to 8 bits per value, round(255 p) / 255 (exactly
    /// what an 8-bit PNG stores and gives back, see <see cref="Figures.DigitPng"/>), and classifies it again.
    /// Only for inputs in [0,1] (images); other boxes have no 8-bit encoding. With <paramref name="block"/>, the examples
    /// are re-classified a block of that many images at a time (images 0..block-1, then the next block, by
    /// <see cref="AdversarialExample.Index"/>), as the attack computed them: a shard of a split run, which starts on a
    /// block, then classifies every example beside the same images as the unsplit run.
    /// </summary>
    public static EightBitSurvival Measure(Classifier model, AttackResult result, int? block = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.Input.Box.IsUnitInterval)
        {
            throw new BadInputException($"8-bit survival needs inputs in [0, 1] (images); model '{model.GetName()}' takes values in {model.Input.Box}");
        }
        using var scope = NewDisposeScope();
        var successes = result.Examples.Where(example => example.Success).ToList();
        if (successes.Count == 0)
        {
            return new EightBitSurvival(0, 0);
        }
        if (block is < 1)
        {
            throw new BadInputException($"8-bit survival: a block must hold at least one image; got {block}");
        }
        int survived = 0;
        foreach (var group in successes.GroupBy(example => block is int size ? example.Index / size : 0))
        {
            var members = group.ToList();
            var rows = tensor(members.Select(example => (long)example.Index).ToArray()).to(result.Adversarials.device);
            // floor(255 p + 0.5): rounds halves up, as the PNG encoder does (torch.round would round them to even).
            var rounded = result.Adversarials.index_select(0, rows).mul(255f).add_(0.5f).floor_().div_(255f);
            long[] predictions = model.Predict(rounded).cpu().data<long>().ToArray();
            for (int i = 0; i < members.Count; i++)
            {
                var example = members[i];
                bool stillAdversarial = example.Target is int target ? predictions[i] == target : predictions[i] != example.Label;
                survived += stillAdversarial ? 1 : 0;
            }
        }
        return new EightBitSurvival(successes.Count, survived);
    }
}
