using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Reproduction;
using Intriguing.Spectral;
using Intriguing.Tests.Models;

namespace Intriguing.Tests.Spectral;

/// <summary>
/// Every sentence the spectral report prints is computed by <see cref="SpectralVerdicts"/>: on hand-built numbers whose verdict is
/// known, each comes out positive where the numbers bear it out and negative, naming the model, layer or image, where they do not.
/// </summary>
public sealed class SpectralVerdictTests
{
    private static CertifiedImage Image(int index, double certified, double? attack, string method = "deepfool") =>
        new(index, Label: 1, Margin: 1, CertifiedL2: certified, AttackL2: attack, AttackMethod: attack is null ? null : method);

    [Fact]
    public void The_scatter_caption_says_every_point_lies_under_the_diagonal_only_when_it_does()
    {
        var under = SpectralVerdicts.ScatterCaption([("fc10-1", [Image(0, 0.1, 0.4), Image(1, 0.2, 0.4), Image(2, 0.3, null)])]);
        Assert.True(under.Holds);
        Assert.Contains("All 2 points lie under the diagonal", under.Sentence);
        Assert.Contains("a factor 3.0 in the median", under.Sentence);
    }

    [Fact]
    public void A_point_above_the_diagonal_turns_the_scatter_caption_negative_and_names_the_image()
    {
        var above = SpectralVerdicts.ScatterCaption([("fc10-1", [Image(0, 0.1, 0.4)]), ("conv", [Image(7, 0.5, 0.4, "cw")])]);
        Assert.False(above.Holds);
        Assert.Contains("1 of 2 points lie above the diagonal", above.Sentence);
        Assert.Contains("conv, test image 7", above.Sentence);
        Assert.Contains("cw's 0.4", above.Sentence);
        Assert.Contains("25% over", above.Sentence);
        Assert.DoesNotContain("All", above.Sentence);
    }

    [Fact]
    public void An_empty_scatter_says_there_is_nothing_to_plot()
    {
        var empty = SpectralVerdicts.ScatterCaption([("fc10-1", [Image(0, 0.1, null)])]);
        Assert.Contains("nothing to plot", empty.Sentence);
        Assert.DoesNotContain("under the diagonal", empty.Sentence);
    }

    [Fact]
    public void Soundness_holds_when_every_model_is_sound()
    {
        var verdict = SpectralVerdicts.Sound([("fc10-1", new SoundnessVerdict(true, [], 1e-6)), ("alexnet", new SoundnessVerdict(true, [], 1e-4))]);
        Assert.True(verdict.Holds);
        Assert.Contains("Every measured ratio sits at or under its bound, on every model (2 analysed", verdict.Sentence);
    }

    [Fact]
    public void An_unsound_model_is_named_with_its_layer_and_how_far_the_bound_was_exceeded()
    {
        var violations = new[] { new Violation("fc2", "jacobian", Ratio: 5, Bound: 4), new Violation("network", "random L2 1", Ratio: 10.5, Bound: 10) };
        var verdict = SpectralVerdicts.Sound([("fc10-1", new SoundnessVerdict(true, [], 1e-6)), ("fc100-100-10", new SoundnessVerdict(false, violations, 1e-6))]);
        Assert.False(verdict.Holds);
        Assert.StartsWith("**Not sound**", verdict.Sentence);
        Assert.Contains("on fc100-100-10, fc2 measured 5 (jacobian) against its bound 4, 25% over (2 violations)", verdict.Sentence);
        Assert.DoesNotContain("fc10-1,", verdict.Sentence);
        Assert.DoesNotContain("Every measured ratio", verdict.Sentence);
    }

    [Fact]
    public void Linear_layers_meet_their_bounds_when_their_worst_directions_reach_them()
    {
        var verdict = SpectralVerdicts.LinearLayersMeetBounds([new LayerReach("fc100-100-10", "fc1", 7.2996, 7.2994), new LayerReach("fc100-100-10", "fc2", 9.8108, 9.8105)]);
        Assert.True(verdict.Holds);
        Assert.Contains("Each linear layer's own worst direction meets its bound (2 layers", verdict.Sentence);
    }

    [Fact]
    public void A_linear_layer_whose_worst_direction_falls_short_is_named()
    {
        var verdict = SpectralVerdicts.LinearLayersMeetBounds([new LayerReach("fc100-100-10", "fc1", 7.3, 7.3), new LayerReach("ae400-10", "output", 10, 8)]);
        Assert.False(verdict.Holds);
        Assert.Contains("1 of 2 stay under 99%", verdict.Sentence);
        Assert.Contains("ae400-10 output at 8 of 10 (80%)", verdict.Sentence);
        Assert.DoesNotContain("tight", verdict.Sentence.Split(':')[0]);
    }

    [Fact]
    public void Without_measured_linear_layers_tightness_is_not_claimed()
    {
        var verdict = SpectralVerdicts.LinearLayersMeetBounds([new LayerReach("m", "fc1", 3, double.NaN)]);
        Assert.False(verdict.Holds);
        Assert.Contains("not known", verdict.Sentence);
    }

    [Fact]
    public void The_network_gap_is_far_when_the_measured_ratio_is_well_under_the_product_and_close_otherwise()
    {
        var far = SpectralVerdicts.NetworkGap("fc100-100-10", 42.19, 15.28, hasSigmoid: true);
        Assert.True(far.Holds);
        Assert.Contains("on fc100-100-10 the product is 42.2 while the largest measured ratio is 15.3 (36.2% of it)", far.Sentence);
        Assert.Contains("sigmoid", far.Sentence);
        Assert.DoesNotContain("sigmoid", SpectralVerdicts.NetworkGap("conv", 40, 10, hasSigmoid: false).Sentence);

        var close = SpectralVerdicts.NetworkGap("fc10-1", 8.41, 8.40, hasSigmoid: false);
        Assert.False(close.Holds);
        Assert.Contains("comes close to its bound", close.Sentence);
        Assert.Contains("99.9% of it", close.Sentence);

        Assert.False(SpectralVerdicts.NetworkGap("fc10-1", 8.41, double.NaN, hasSigmoid: false).Holds);
    }

    [Fact]
    public void Certification_is_honest_and_far_when_every_attack_needs_several_times_the_certified_radius()
    {
        var verdict = SpectralVerdicts.Certification([("fc100-100-10", [Image(0, 0.1, 0.8), Image(1, 0.2, 1.4)]), ("fc10-1", [Image(0, 0.5, 1.5)])]);
        Assert.True(verdict.Holds);
        Assert.Contains("fc100-100-10 7.5x, fc10-1 3.0x", verdict.Sentence);
        Assert.Contains("honest", verdict.Sentence);
        Assert.Contains("at least 3.0 times smaller", verdict.Sentence);
    }

    [Fact]
    public void A_certified_radius_above_a_successful_attack_makes_the_bounds_not_honest()
    {
        var verdict = SpectralVerdicts.Certification([("fc10-1", [Image(0, 0.1, 0.8), Image(4, 0.6, 0.5, "lbfgs")])]);
        Assert.False(verdict.Holds);
        Assert.StartsWith("The bounds are not honest", verdict.Sentence);
        Assert.Contains("fc10-1, test image 4, certified 0.6 against lbfgs's 0.5, 20% over", verdict.Sentence);
    }

    [Fact]
    public void Honest_bounds_that_come_close_to_the_attacks_are_not_called_far()
    {
        var verdict = SpectralVerdicts.Certification([("fc10-1", [Image(0, 0.4, 0.6)]), ("conv", [Image(0, 0.01, 0.7)])]);
        Assert.False(verdict.Holds);
        Assert.Contains("on fc10-1 they come within 1.5x", verdict.Sentence);
        Assert.DoesNotContain("far from", verdict.Sentence);
    }

    [Fact]
    public void Without_fooled_images_certification_claims_nothing()
    {
        var verdict = SpectralVerdicts.Certification([("fc10-1", [Image(0, 0.4, null)])]);
        Assert.False(verdict.Holds);
        Assert.Contains("nothing to be compared", verdict.Sentence);
    }

    [Fact]
    public void Fourier_bounds_are_reported_exact_or_certified_and_an_estimate_turns_the_verdict_negative()
    {
        var exact = Convolution("conv1", new FourierBound(6.79, 6.9, 32, 32, 1024, Decomposed: 528));
        var certified = Convolution("conv3", new FourierBound(3.14, 3.14, 15, 15, 225, Decomposed: 6, Certified: 114, Slack: 1.1e-9));
        var allExact = SpectralVerdicts.FourierBounds([("conv", exact)]);
        Assert.True(allExact.Holds);
        Assert.Contains("Of 1 convolutions, 1 have the exact maximum", allExact.Sentence);
        Assert.DoesNotContain("certified bound", allExact.Sentence);

        var mixed = SpectralVerdicts.FourierBounds([("conv", exact), ("alexnet", certified)]);
        Assert.True(mixed.Holds);
        Assert.Contains("the other 1 have a certified bound", mixed.Sentence);
        Assert.Contains("at most 1.1e-9", mixed.Sentence);

        var estimate = SpectralVerdicts.FourierBounds([("alexnet", certified with { BoundKind = NumberKind.Estimate })]);
        Assert.False(estimate.Holds);
        Assert.Contains("alexnet conv3 are estimates", estimate.Sentence);
    }

    [Fact]
    public void The_weightless_constants_in_the_prose_come_from_the_bounds()
    {
        string alexNet = SpectralVerdicts.WeightlessConstants(LocalResponseNormSettings.Krizhevsky, 3, 2, 55);
        Assert.Contains("adds 2, not 1", alexNet);
        Assert.Contains("local response normalisation 0.865", alexNet);
        // Other constants, another number: nothing in the sentence is typed in.
        string other = SpectralVerdicts.WeightlessConstants(LocalResponseNormSettings.Krizhevsky with { K = 1 }, 3, 2, 55);
        Assert.Contains($"local response normalisation {NonlinearBounds.LocalResponseNorm(LocalResponseNormSettings.Krizhevsky with { K = 1 }):0.###}", other);
        Assert.DoesNotContain("0.865", other);
    }

    [Fact]
    public void Table_5_is_quoted_from_its_dictionary_in_the_papers_order() =>
        Assert.Equal("2.75, 10, 7, 7.5, 11; 3.12, 4, 4", SpectralVerdicts.PaperTable5(AlexNet.PaperTable5));

    [Fact]
    public void The_section_fingerprint_carries_the_bound_and_penalty_settings()
    {
        string fingerprint = new SpectralStudy(100, 4).Fingerprint;
        Assert.Contains("certificate-margin=1E-09", fingerprint);
        Assert.Contains("conv-iterations=2000", fingerprint);
        Assert.Contains("conv-iterations=30", fingerprint);
        Assert.Contains("radii=1;10;50", fingerprint);
        Assert.Contains("penalty=fc100-100-10x0.01,steps-per-batch=1", fingerprint);
        Assert.Contains("fc123-456-10@p1", fingerprint);
        Assert.NotEqual(fingerprint, new SpectralStudy(100, 5).Fingerprint);
    }

    [Fact]
    public void A_corrupt_penalty_model_cache_is_trained_again_with_a_warning_naming_the_file()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        string path;
        using (var first = SpectralPenaltyTraining.GetOrTrain("fc10-1", data, Split.Train, seed: 0, quick: true, weight: 0.01))
        {
            path = first.Path;
        }
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..100]);

        var warnings = new List<string>();
        using var again = SpectralPenaltyTraining.GetOrTrain("fc10-1", data, Split.Train, seed: 0, quick: true, weight: 0.01,
            progress: new Collect(update => { if (update.IsWarning) { warnings.Add(update.Detail ?? update.Task); } }));
        var warning = Assert.Single(warnings);
        Assert.Contains(path, warning);
        Assert.Contains("cannot be loaded", warning);
        using var reloaded = ModelStore.Load(path);
        Assert.Equal(again.Report.Recipe, reloaded.Report.Recipe);
    }

    private sealed class Collect(Action<ProgressUpdate> action) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => action(value);
    }

    private static LayerRow Convolution(string name, FourierBound fourier) =>
        new(name, "convolution", fourier.Bound, fourier.Bound * 0.99, 1, 10, [], "Fourier", null, fourier, null, null,
            BoundKind: NumberKind.UpperBound, ExactKind: NumberKind.Estimate);
}
