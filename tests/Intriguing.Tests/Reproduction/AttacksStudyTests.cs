using Intriguing.Reproduction;
using static Intriguing.Reproduction.AttacksStudy;

namespace Intriguing.Tests.Reproduction;

/// <summary>The attacks section's sentence on noise is computed from its rows and can come out either way.</summary>
public sealed class AttacksStudyTests
{
    private static RateRow Row(string model, string method, double error) => new(model, method, 0.1, error, 1 - error, 0.1, 1, null);

    [Fact]
    public void The_noise_sentence_says_noise_stays_below_fgsm_only_when_every_cell_does()
    {
        var fgsm = new[] { Row("fc10-1e-4", "fgsm", 0.99), Row("fc100-100-10", "fgsm", 0.8) };
        string below = NoiseSentence(fgsm, [Row("fc10-1e-4", "noise 0.3", 0.12), Row("fc100-100-10", "noise 0.3", 0.03)]);
        Assert.Contains("Every noise cell stays below every FGSM cell", below);
        Assert.Contains("12.00%", below);

        string notBelow = NoiseSentence(fgsm, [Row("fc10-1", "noise 0.3", 0.85)]);
        Assert.Contains("Noise is not always weaker here", notBelow);
        Assert.Equal("", NoiseSentence(fgsm, []));
    }
}
