using Intriguing.Attacks.Figures;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// How many adversarial examples are still adversarial after being saved as 8-bit PNGs and read back
/// (<paramref name="Checked"/> successes re-encoded, <paramref name="Survived"/> still fooling the model).
/// Minimal perturbations can be smaller than one grey level (1/255), so rounding alone may undo them.
/// </summary>
public sealed record EightBitSurvival(int Checked, int Survived)
{
    public double Rate => Checked == 0 ? double.NaN : (double)Survived / Checked;

    /// <summary>Re-encodes every successful example of <paramref name="result"/> as a PNG, decodes it and classifies it again.</summary>
    public static EightBitSurvival Measure(Classifier model, AttackResult result)
    {
        using var scope = NewDisposeScope();
        var successes = result.Examples.Where(example => example.Success).ToList();
        if (successes.Count == 0)
        {
            return new EightBitSurvival(0, 0);
        }
        float[] adversarials = result.Adversarials.cpu().contiguous().data<float>().ToArray();
        var roundTripped = new float[successes.Count * Classifier.PixelCount];
        for (int i = 0; i < successes.Count; i++)
        {
            float[] pixels = adversarials.AsSpan(successes[i].Index * Classifier.PixelCount, Classifier.PixelCount).ToArray();
            DigitPng.Decode(DigitPng.Encode(pixels)).CopyTo(roundTripped, i * Classifier.PixelCount);
        }
        // The model's device is the adversarials' device.
        var images = tensor(roundTripped).reshape(successes.Count, Classifier.PixelCount).to(result.Adversarials.device);
        long[] predictions = model.Predict(images).cpu().data<long>().ToArray();
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
