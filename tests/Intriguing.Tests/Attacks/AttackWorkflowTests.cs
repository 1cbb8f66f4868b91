using Intriguing.Attacks;
using Intriguing.Attacks.Criteria;
using Intriguing.Attacks.Figures;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>The shared workflow around the attacks: verification, the summary's denominators, PNG round trips, the figure.</summary>
public class AttackWorkflowTests
{
    public AttackWorkflowTests() => TorchThreads.UseOne();

    /// <summary>Claims every image fooled but hands back the originals: the re-check must refuse every claim.</summary>
    private sealed record BoastingAttack : Attack
    {
        public override string Name => "boast";

        protected override PerturbOutput PerturbCore(Classifier model, Tensor images, Criterion criterion, RowKeys keys) =>
            new(images.clone(), zeros(images.shape[0], dtype: ScalarType.Int64), ones(images.shape[0], dtype: ScalarType.Bool));
    }

    [Fact]
    public void A_claimed_success_that_the_fresh_forward_pass_does_not_confirm_is_a_failure()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 2);
        var (images, _) = SyntheticData.Images(5, seed: 3);
        var labels = model.Predict(images);

        var result = new BoastingAttack().Run(model, images, labels);

        Assert.All(result.Examples, example => Assert.False(example.Success));
        Assert.Equal(5, result.Summary.RejectedClaims);
        Assert.Equal(0, result.Summary.SuccessRate);
    }

    [Fact]
    public void Success_rate_counts_only_images_the_model_got_right_and_error_rate_counts_all()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 2);
        var (images, _) = SyntheticData.Images(6, seed: 3);
        var predictions = model.Predict(images);
        // Two images carry a wrong label: they count in the error rate, not in the success rate.
        var labels = predictions.clone();
        labels[0] = (predictions[0] + 1).remainder(10);
        labels[1] = (predictions[1] + 1).remainder(10);

        var result = new DeepFool().Run(model, images, labels);

        Assert.Equal(4, result.Summary.Attempted);
        Assert.Equal(1.0, result.Summary.SuccessRate);
        Assert.Equal(1.0, result.Summary.ErrorRate);
        // Already misclassified: a minimal attack returns the clean image, distortion 0.
        Assert.Equal(0, result.Examples[0].Distortion);
        Assert.True(result.Examples[0].Success);
    }

    [Fact]
    public void A_png_round_trip_rounds_every_pixel_to_the_nearest_grey_level()
    {
        var pixels = Enumerable.Range(0, 784).Select(i => (i % 256) / 255f + (i % 3 - 1) * 0.001f).Select(p => Math.Clamp(p, 0f, 1f)).ToArray();

        float[] decoded = DigitPng.Decode(DigitPng.Encode(pixels));

        for (int i = 0; i < pixels.Length; i++)
        {
            Assert.Equal(Math.Round(pixels[i] * 255) / 255, decoded[i], 1e-6);
        }
    }

    [Fact]
    public void Eight_bit_survival_re_classifies_the_decoded_pngs()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 4);
        var (images, _) = SyntheticData.Images(8, seed: 6);
        var labels = model.Predict(images);
        var strong = new Fgsm { Epsilon = 0.3 }.Run(model, images, labels);
        var minimal = new DeepFool { Overshoot = 0 }.Run(model, images, labels);

        var strongSurvival = EightBitSurvival.Measure(model, strong);
        var minimalSurvival = EightBitSurvival.Measure(model, minimal);

        Assert.Equal(strong.Examples.Count(example => example.Success), strongSurvival.Checked);
        Assert.Equal(1.0, strongSurvival.Rate);
        Assert.InRange(minimalSurvival.Rate, 0, 1);
        Assert.True(minimalSurvival.Survived <= minimalSurvival.Checked);
    }

    [Fact]
    public void The_figure_renders_headless_as_a_png()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 4);
        var (images, _) = SyntheticData.Images(4, seed: 6);
        var labels = model.Predict(images);
        var result = new DeepFool().Run(model, images, labels);
        float[] pixels = images.data<float>().ToArray();
        var originals = Enumerable.Range(0, 4).Select(i => pixels.AsSpan(i * 784, 784).ToArray()).ToArray();

        byte[] png = AdversarialFigure.Render(result, originals);

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.True(bitmap.Width > 4 * 28 && bitmap.Height > 3 * 28);
    }

    [Fact]
    public void Attacking_does_not_leak_tensors_or_change_the_model_mode()
    {
        var model = LinearClassifier.Random(seed: 8);
        model.train();
        using (var scope = NewDisposeScope())
        {
            var (images, _) = SyntheticData.Images(4, seed: 6);
            var labels = model.Predict(images);
            new BoxConstrainedLbfgs { SearchSteps = 2, MaxIterations = 5 }.Run(model, images, labels);
        }
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var scope = NewDisposeScope())
        {
            var (images, _) = SyntheticData.Images(4, seed: 6);
            var labels = model.Predict(images);
            new BoxConstrainedLbfgs { SearchSteps = 2, MaxIterations = 5 }.Run(model, images, labels);
        }
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(model.training);
    }
}
