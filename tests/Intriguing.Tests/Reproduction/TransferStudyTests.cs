using System.Text.Json;
using Intriguing.Reporting;
using Intriguing.Reproduction;
using Intriguing.Tests.Models;

namespace Intriguing.Tests.Reproduction;

/// <summary>
/// Tables 2 and 4 end to end on the synthetic digits (quick zoo models in a temporary home): valid sections under their
/// keys with the paper's numbers beside ours, a line per claim, the heat maps and curves, and a 100% diagonal.
/// </summary>
public sealed class TransferStudyTests
{
    public TransferStudyTests() => Attacks.TorchThreads.UseOne();

    [Fact]
    public void Table2_and_table4_sections_hold_the_matrices_the_claims_and_the_figures()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        using var context = new StudyContext(data, seed: 0, quick: true, progress: null);

        var table2 = new Table2Study(attackCount: 20).Run(context);
        var table4 = new Table4Study(attackCount: 20).Run(context);

        table2.Validate();
        table4.Validate();
        Assert.Equal("table2", table2.Key);
        Assert.Equal("table4", table4.Key);
        Assert.Contains("**(1)", table2.Prose);
        Assert.Contains("**(2)", table2.Prose);
        Assert.Contains("**(1)", table4.Prose);
        Assert.Contains("**(3)", table4.Prose);
        Assert.Contains("**(4)", table4.Prose);
        Assert.Contains("table2-lbfgs.png", table2.Figures.Select(figure => figure.FileName));
        Assert.Contains("table2-curves.png", table2.Figures.Select(figure => figure.FileName));
        Assert.Contains("table2-fgsm.png", table2.Figures.Select(figure => figure.FileName));
        Assert.Equal(["table4-plain.png", "table4-magnified.png", "table4-curves.png"], table4.Figures.Select(figure => figure.FileName));
        Assert.Contains(table2.Tables[0].Rows[0], cell => cell.Kind == CellKind.Ours && cell.Text.Contains("(paper 100.0%)", StringComparison.Ordinal));

        var json = JsonSerializer.SerializeToElement(table2.Data, JsonReportWriter.Options);
        Assert.Equal(20, json.GetProperty("count").GetInt32());
        var rows = json.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(6, rows.Count);
        foreach (var row in rows)
        {
            string source = row.GetProperty("source").GetString()!;
            if (row.GetProperty("examples").GetInt32() > 0)
            {
                Assert.Equal(1.0, row.GetProperty("errors").GetProperty(source).GetDouble());
            }
        }
        Assert.Equal(4, json.GetProperty("methods").GetArrayLength());
        string[] verdicts = ["agrees", "partly", "disagrees"];
        var claims = json.GetProperty("claims").EnumerateArray().ToList();
        Assert.Equal(["1", "2"], claims.Select(claim => claim.GetProperty("claim").GetString()));
        Assert.All(claims, claim =>
        {
            Assert.Contains(claim.GetProperty("verdict").GetString(), verdicts);
            Assert.Equal(claim.GetProperty("tests").GetInt32(), claim.GetProperty("comparisons").GetArrayLength());
            Assert.Contains(claim.GetProperty("sentence").GetString()!, table2.Prose);
        });
        Assert.Equal(30 * 3, claims[0].GetProperty("tests").GetInt32()); // 30 off-diagonal cells x (own distortion, same RMS, the paper's noise row)
        Assert.All(rows, row => Assert.Equal(6, row.GetProperty("pValues").EnumerateObject().Count()));
        Assert.Contains("McNemar", table2.Tables[2].Caption);
        var cross = JsonSerializer.SerializeToElement(table4.Data, JsonReportWriter.Options);
        Assert.Equal(["fc100-100-10@p1", "fc123-456-10@p1", "fc100-100-10@p2"], cross.GetProperty("models").EnumerateArray().Select(model => model.GetString()));
        Assert.Equal([0.06, 0.1, 0.1], cross.GetProperty("noise").EnumerateArray().Select(noise => noise.GetProperty("stddev").GetDouble()));
        Assert.Equal(["1", "3", "4"], cross.GetProperty("claims").EnumerateArray().Select(claim => claim.GetProperty("claim").GetString()));
        Assert.DoesNotContain("#", table2.Prose + table4.Prose); // no issue numbers in text users read
    }
}
