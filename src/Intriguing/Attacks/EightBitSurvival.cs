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
    /// Only for inputs in [0,1] (images); other boxes have no 8-bit encoding.
    /// </summary>
    public static EightBitSurvival Measure(Classifier model, AttackResult result)
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
        var rows = tensor(successes.Select(example => (long)example.Index).ToArray()).to(result.Adversarials.device);
        // floor(255 p + 0.5): rounds halves up, as the PNG encoder does (torch.round would round them to even).
        var rounded = result.Adversarials.index_select(0, rows).mul(255f).add_(0.5f).floor_().div_(255f);
        long[] predictions = model.Predict(rounded).cpu().data<long>().ToArray();
        int survived = 0;
        for (int i = 0; i < successes.Count; i++)
        {
            var example = successes[i];
            bool stillAdversarial = example.Target is int target ? predictions[i] == target : predictions[i] != example.Label;
            survived += stillAdversarial ? 1 : 0;
        }
        return new EightBitSurvival(successes.Count, survived);
    }
}
