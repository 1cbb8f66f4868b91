using System.Text.Json;
using Intriguing.Reporting;
using Intriguing.Reproduction;
using Intriguing.Tests.Models;

namespace Intriguing.Tests.Reproduction;

/// <summary>
/// The units study end to end on the synthetic digits: it trains the quick conv and fc100-100-10 (in a temporary
/// home), and returns a valid "units" section with a row and a figure per layer and the verdicts in its data.
/// </summary>
public sealed class UnitsStudyTests
{
    [Fact]
    public void The_section_has_a_row_and_a_figure_per_layer_and_states_the_verdict_beside_the_claim()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        using var context = new StudyContext(data, seed: 0, quick: true, progress: null);
        var study = new UnitsStudy(pool: 60, randomDirections: 30);

        var section = study.Run(context);

        section.Validate();
        Assert.Equal("units", section.Key);
        Assert.Equal(["units-conv-conv1.png", "units-conv-conv2.png", "units-conv-fc1.png", "units-fc100-100-10-hidden1.png", "units-fc100-100-10-hidden2.png"],
            section.Figures.Select(figure => figure.FileName));
        var purity = section.Tables[0];
        Assert.Equal(5, purity.Rows.Count);
        Assert.All(purity.Rows, row => Assert.Equal(CellKind.Paper, row[^1].Kind));
        Assert.Contains("**Verdict:**", section.Prose);
        Assert.Contains("Bau et al.", section.Prose);

        var json = JsonSerializer.SerializeToElement(section.Data, JsonReportWriter.Options);
        Assert.Equal(UnitsStudy.PaperClaim, json.GetProperty("paperClaim").GetString());
        var layers = json.GetProperty("models").EnumerateArray().SelectMany(model => model.GetProperty("layers").EnumerateArray()).ToList();
        Assert.Equal(5, layers.Count);
        Assert.All(layers, layer =>
        {
            Assert.InRange(layer.GetProperty("pValue").GetDouble(), 0, 1);
            Assert.InRange(layer.GetProperty("effectSize").GetDouble(), -1, 1);
            Assert.StartsWith(layer.GetProperty("layer").GetString()! + ":", layer.GetProperty("verdict").GetString());
            // Every test of the section (5 layers x 3 measures) is one family for Holm's correction.
            Assert.Equal(15, layer.GetProperty("tests").GetInt32());
            Assert.InRange(layer.GetProperty("adjustedPValue").GetDouble(), layer.GetProperty("pValue").GetDouble(), 1);
        });
        Assert.Contains("Holm", section.Prose);
        Assert.Contains("not independent samples", section.Prose);
        Assert.DoesNotContain("Bonferroni", section.Prose);
    }
}
