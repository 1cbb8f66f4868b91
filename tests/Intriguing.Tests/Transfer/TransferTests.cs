using System.Text.Json;
using Intriguing.Attacks;
using Intriguing.Models;
using Intriguing.Reporting;
using Intriguing.Statistics;
using Intriguing.Tests.Attacks;
using Intriguing.Transfer;
using static TorchSharp.torch;

namespace Intriguing.Tests.Transfer;

/// <summary>
/// The transfer measurement on tiny models with known answers: a target identical to its source, a constant classifier,
/// magnification and matched noise at the requested RMS, and the paired tests beside every noise comparison.
/// </summary>
public class TransferTests
{
    public TransferTests() => Attacks.TorchThreads.UseOne();

    /// <summary>Always answers <see cref="Answer"/>: its error on any points is the share of labels that differ.</summary>
    private sealed class ConstantClassifier(int answer) : Classifier("constant")
    {
        public int Answer { get; } = answer;

        public override Tensor forward(Tensor input) =>
            nn.functional.one_hot(full(input.shape[0], (long)Answer, dtype: ScalarType.Int64), 10).to_type(ScalarType.Float32);

        public override Tensor WeightPenalty() => zeros(1);
    }

    private static TransferOptions SmallOptions => new(0.1, [0.1, 0.3], [0.05, 0.1, 0.2], Seed: 3);

    [Fact]
    public void A_target_identical_to_its_source_is_fooled_by_every_verified_example()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 2);
        var copy = new LinearClassifier(model.Weights, model.Biases);
        var (images, _) = SyntheticData.Images(30, seed: 4);
        var labels = model.Predict(images);
        var source = new TransferModel("linear", model);
        var runner = TransferAttacks.Direct(images, labels, seed: 0);

        var examples = TransferAttacks.Make("lbfgs", source, runner, images, labels, new BoxConstrainedLbfgs(), seed: 0);
        var matrix = TransferMeasurement.Measure([examples], [source, new TransferModel("copy", copy)], images, labels, SmallOptions);

        var row = Assert.Single(matrix.Rows);
        Assert.True(row.Examples > 20, $"only {row.Examples} of 30 examples were verified");
        Assert.Equal(1.0, row.Errors["linear"]);
        Assert.Equal(1.0, row.Errors["copy"]);
        Assert.Equal(row.Examples, row.Counts["copy"]);
        Assert.Equal(0.0, row.CleanErrors["copy"]);
        Assert.True(row.Distortion > 0 && row.Distortion < 0.2, $"distortion {row.Distortion}");
        Assert.Equal(row.Examples, matrix.Curves[0].Examples);
    }

    /// <summary>FGSM examples for a random linear model, measured on it and on a classifier that always answers 3.</summary>
    private static (TransferMatrix Matrix, SourceExamples Examples, Tensor Labels) AgainstAConstantClassifier()
    {
        var model = LinearClassifier.Random(seed: 5);
        var (images, _) = SyntheticData.Images(40, seed: 6);
        var labels = model.Predict(images);
        var source = new TransferModel("linear", model);
        var constant = new TransferModel("constant", new ConstantClassifier(answer: 3));
        var examples = TransferAttacks.Make("fgsm", source, TransferAttacks.Direct(images, labels, seed: 0), images, labels, new BoxConstrainedLbfgs(), seed: 0);
        return (TransferMeasurement.Measure([examples], [source, constant], images, labels, SmallOptions), examples, labels);
    }

    [Fact]
    public void A_constant_classifier_gets_the_share_of_labels_that_differ_from_its_answer()
    {
        using var scope = NewDisposeScope();

        var (matrix, examples, labels) = AgainstAConstantClassifier();

        long[] truth = labels.data<long>().ToArray();
        var row = matrix.Rows[0];
        double expectedOnRow = (double)examples.Indices.Count(index => truth[index] != 3) / examples.Count;
        double expectedOnAll = (double)truth.Count(label => label != 3) / truth.Length;
        Assert.True(examples.Count > 0);
        Assert.Equal(expectedOnRow, row.Errors["constant"], 12);
        Assert.Equal(expectedOnRow, row.CleanErrors["constant"], 12);
        Assert.Equal(expectedOnRow, row.MatchedNoise.Errors["constant"], 12);
        Assert.Equal(expectedOnRow, matrix.Magnified[0].Errors["constant"], 12);
        Assert.All(matrix.Noise, noise => Assert.Equal(expectedOnAll, noise.Errors["constant"], 12));
        Assert.All(matrix.Curves[0].Adversarial["constant"], rate => Assert.Equal(expectedOnRow, rate, 12));
        Assert.Equal(expectedOnAll, matrix.CleanErrors["constant"], 12);
    }

    [Fact]
    public void Every_noise_comparison_carries_its_paired_test_on_the_same_images()
    {
        using var scope = NewDisposeScope();

        var (matrix, examples, _) = AgainstAConstantClassifier();

        var row = matrix.Rows[0];
        var magnified = matrix.Magnified[0];
        var paperRow = matrix.Noise.Single(noise => noise.Kind == "stddev" && noise.Stddev == 0.1);
        Assert.Equal(0.1, magnified.PaperNoiseStddev);
        foreach (string target in matrix.Targets)
        {
            // Fooled by the noise = fooled by the examples - only by the examples + only by the noise.
            Assert.Equal(row.MatchedNoise.Fooled[target], row.Fooled[target] - row.Discordant[target][0] + row.Discordant[target][1]);
            Assert.Equal(McNemar.ExactPValue(row.Discordant[target][0], row.Discordant[target][1]), row.PValues[target]);
            Assert.Equal(magnified.Noise.Fooled[target], magnified.Fooled[target] - magnified.Discordant[target][0] + magnified.Discordant[target][1]);
            int paperOnRowImages = examples.Indices.Count(index => paperRow.Outcomes[target][index]);
            Assert.Equal(paperOnRowImages, magnified.Fooled[target] - magnified.StddevDiscordant[target][0] + magnified.StddevDiscordant[target][1]);
            Assert.Equal(examples.Count, row.Outcomes[target].Length);
        }
        // A classifier that ignores its input makes the same mistakes under every perturbation: no discordant pair, p = 1.
        Assert.Equal([0, 0], row.Discordant["constant"]);
        Assert.Equal([0, 0], magnified.StddevDiscordant["constant"]);
        Assert.Equal(1.0, magnified.PValues["constant"]);

        var json = JsonSerializer.SerializeToElement(row, JsonReportWriter.Options);
        Assert.True(json.TryGetProperty("pValues", out _));
        Assert.True(json.TryGetProperty("discordant", out _));
        Assert.False(json.TryGetProperty("outcomes", out _));
        Assert.False(json.TryGetProperty("indices", out _));
        var magnifiedJson = JsonSerializer.SerializeToElement(magnified, JsonReportWriter.Options);
        Assert.True(magnifiedJson.TryGetProperty("stddevPValues", out _));
        Assert.False(magnifiedJson.GetProperty("noise").TryGetProperty("outcomes", out _));
    }

    [Fact]
    public void Magnification_reaches_the_requested_rms_and_reports_what_clipping_stopped()
    {
        using var scope = NewDisposeScope();
        var box = InputSpace.Mnist.Box;
        var (originals, _) = SyntheticData.Images(8, seed: 7);
        var directions = RmsScaling.GaussianDirections(8, 784, seed: 1) * 0.01;
        // Row 7 starts at the top of the box and is pushed further up: it cannot move at all.
        originals[7] = ones(784);
        directions[7] = ones(784);

        var scaled = RmsScaling.ToRms(originals, directions, 0.1, box);

        for (int row = 0; row < 7; row++)
        {
            Assert.InRange(scaled.ReachedRms[row], 0.1 - 1e-4, 0.1 + 1e-4);
        }
        Assert.Equal(0, scaled.ReachedRms[7], 6);
        Assert.Equal(1, scaled.Unreachable);
        Assert.True(scaled.ClippedFraction > 0, "values were clipped but none was reported");
        Assert.True(scaled.Points.ge(0).all().item<bool>() && scaled.Points.le(1).all().item<bool>());
        var measured = RmsScaling.Rms(originals, scaled.Points).data<float>().ToArray();
        Assert.Equal(scaled.ReachedRms.Select(value => (float)value), measured);

        // Shrinking works the same way: a big perturbation scaled down to RMS 0.02 keeps its direction.
        var big = RmsScaling.ToRms(originals[..7], directions[..7] * 100, 0.02, box);
        Assert.All(big.ReachedRms, value => Assert.InRange(value, 0.02 - 1e-5, 0.02 + 1e-5));
    }

    [Fact]
    public void Matched_noise_has_each_rows_own_distortion_and_the_rms_row_has_the_requested_rms()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 8);
        var (images, _) = SyntheticData.Images(30, seed: 9);
        var labels = model.Predict(images);
        var source = new TransferModel("linear", model);
        var examples = TransferAttacks.Make("lbfgs-untargeted", source, TransferAttacks.Direct(images, labels, seed: 0), images, labels, new BoxConstrainedLbfgs(), seed: 0);

        var matrix = TransferMeasurement.Measure([examples], [source], images, labels, SmallOptions with { MagnifyRms = 0.15 });

        var row = matrix.Rows[0];
        Assert.Equal("matched", row.MatchedNoise.Kind);
        Assert.InRange(row.MatchedNoise.Rms, row.Distortion - 1e-4, row.Distortion + 1e-4);
        var rmsRow = Assert.Single(matrix.Noise, noise => noise.Kind == "rms");
        Assert.InRange(rmsRow.Rms, 0.15 - 1e-4, 0.15 + 1e-4);
        Assert.InRange(matrix.Magnified[0].Noise.Rms, 0.15 - 1e-4, 0.15 + 1e-4);
        // The paper's rows add noise of a stddev and clip: what is left is at most the stddev.
        Assert.All(matrix.Noise.Where(noise => noise.Kind == "stddev"), noise => Assert.True(noise.Rms <= noise.Stddev + 1e-3));
        Assert.Equal([0.05, 0.1, 0.2], matrix.Curves[0].Rms);
        Assert.All(matrix.Curves[0].NoiseRms.Zip(matrix.Curves[0].Rms), pair => Assert.InRange(pair.First, pair.Second - 1e-4, pair.Second + 1e-4));
    }

    [Fact]
    public void Bad_options_and_names_are_bad_input_naming_what_was_wrong()
    {
        Assert.Contains("--magnify", Assert.Throws<BadInputException>(() => (SmallOptions with { MagnifyRms = 0 }).Validate()).Message);
        Assert.Contains("--method", Assert.Throws<BadInputException>(() => TransferAttacks.Check("cw")).Message);
        using var scope = NewDisposeScope();
        var model = new TransferModel("linear", LinearClassifier.Random(seed: 1));
        var (images, labels) = SyntheticData.Images(4, seed: 1);
        Assert.Contains("--sources", Assert.Throws<BadInputException>(() => TransferMeasurement.Measure([], [model], images, labels, SmallOptions)).Message);
    }
}
