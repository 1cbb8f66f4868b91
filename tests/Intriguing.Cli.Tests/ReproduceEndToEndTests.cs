using System.Text.Json;

namespace Intriguing.Cli.Tests;

/// <summary>
/// The README's main command end to end on real MNIST: `reproduce --quick` trains the quick zoo from nothing (in a
/// temporary $INTRIGUING_HOME), writes the three report files, and a second run resumes from what the first left.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class ReproduceEndToEndTests : IDisposable
{
    private readonly TemporaryHome temporaryHome = new("e2e");
    private readonly string home;
    private readonly string mnist;

    public ReproduceEndToEndTests(RealMnist realMnist)
    {
        // Real MNIST stays in the cache the fixture filled; models and reports go to a fresh, temporary home.
        mnist = realMnist.Folder;
        home = temporaryHome.Folder;
    }

    public void Dispose() => temporaryHome.Dispose();

    [Fact]
    public void Quick_reproduction_writes_the_report_with_ours_beside_the_papers_and_resumes()
    {
        string outDir = Path.Combine(home, "report");
        var run = CliRun.Of("reproduce", "--quick", "--out", outDir, "--data-dir", mnist, "--json");

        Assert.True(run.ExitCode == 0, run.StandardError);
        var summary = run.Json();
        Assert.Empty(summary.GetProperty("resumed").EnumerateArray());
        foreach (string file in new[] { "report.html", "report.md", "report.json", "figures/table1-test-error.png", "figures/figure5-lbfgs.png" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, file)), $"{file} is missing");
        }

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var root = report.RootElement;
        Assert.True(root.GetProperty("environment").GetProperty("quick").GetBoolean());
        var table1 = root.GetProperty("table1").GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(7, table1.Count);
        foreach (var row in table1)
        {
            double testError = row.GetProperty("testError").GetDouble();
            Assert.InRange(testError, 0.0, 0.25);
        }
        var fc100 = table1.Single(row => row.GetProperty("model").GetString() == "fc100-100-10");
        Assert.Equal(0.0164, fc100.GetProperty("paper").GetProperty("testError").GetDouble(), 6);
        // Even the quick recipe must learn: a sigmoid net well under 10% test error.
        Assert.InRange(fc100.GetProperty("testError").GetDouble(), 0.0, 0.06);
        Assert.Equal(3, root.GetProperty("table3").GetProperty("models").GetArrayLength());

        // The attacks: every zoo model of Table 1 is fooled by L-BFGS, with a distortion of the paper's order.
        foreach (var row in table1.Where(row => row.GetProperty("model").GetString() != "conv"))
        {
            var lbfgs = row.GetProperty("minDistortion").GetProperty("lbfgsTargeted");
            Assert.True(lbfgs.GetProperty("successRate").GetDouble() >= 0.99, row.ToString());
            Assert.InRange(lbfgs.GetProperty("meanDistortion").GetDouble(), 0.01, 0.2);
        }
        var attacks = root.GetProperty("attacks");
        var fgsmSoftmax = attacks.GetProperty("fgsm").EnumerateArray().Single(row => row.GetProperty("model").GetString() == "fc10-1e-4");
        Assert.True(fgsmSoftmax.GetProperty("errorRate").GetDouble() >= 0.9);
        var pgdConv = attacks.GetProperty("pgd").EnumerateArray().Single(row => row.GetProperty("model").GetString() == "conv");
        Assert.True(pgdConv.GetProperty("accuracy").GetDouble() <= 0.05);
        Assert.Equal(4, attacks.GetProperty("eightBitSurvival").GetArrayLength());

        // Adversarial training: the quick arms trained for real (one epoch each), each with its evaluation, and a line per claim.
        var adversarial = root.GetProperty("adversarialTraining");
        Assert.True(adversarial.GetProperty("quick").GetBoolean());
        var arms = adversarial.GetProperty("arms").EnumerateArray().ToList();
        Assert.Equal(["dropout", "pool", "fgsm"], arms.Select(arm => arm.GetProperty("name").GetString()));
        foreach (var arm in arms)
        {
            Assert.Equal(1, arm.GetProperty("epochs").GetInt32());
            Assert.InRange(arm.GetProperty("testError").GetDouble(), 0.0, 0.5);
            Assert.Equal(200, arm.GetProperty("robust").GetProperty("attackedImages").GetInt32());
            Assert.True(File.Exists(arm.GetProperty("path").GetString()), arm.ToString());
        }
        // FGSM training at eps 0.25 must already cut the FGSM error of the weight-decay model after one epoch.
        var fgsmArm = arms.Single(arm => arm.GetProperty("name").GetString() == "fgsm");
        var baselineRobust = adversarial.GetProperty("baseline").GetProperty("robust");
        Assert.True(fgsmArm.GetProperty("robust").GetProperty("fgsmError").GetDouble() < baselineRobust.GetProperty("fgsmError").GetDouble(), fgsmArm.ToString());
        Assert.Equal(1, adversarial.GetProperty("ablation").GetArrayLength());
        var claims = adversarial.GetProperty("claims").EnumerateArray().ToList();
        Assert.Equal(["a", "b", "c", "d", "e", "f", "g", "h", "i"], claims.Select(claim => claim.GetProperty("id").GetString()));
        Assert.All(claims, claim => Assert.False(string.IsNullOrEmpty(claim.GetProperty("verdict").GetString())));
        Assert.Equal("not run", claims.Single(claim => claim.GetProperty("id").GetString() == "e").GetProperty("verdict").GetString());
        // The masking checks ran for the pool and FGSM arms (not dropout), on 50 images in the quick run.
        Assert.Equal(JsonValueKind.Null, arms[0].GetProperty("masking").ValueKind);
        Assert.All(arms.Skip(1), arm => Assert.Equal(50, arm.GetProperty("masking").GetProperty("count").GetInt32()));

        string html = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.Contains("data:image/png;base64,", html);
        Assert.DoesNotContain("src=\"http", html);
        Assert.Contains("1.64%", File.ReadAllText(Path.Combine(outDir, "report.md")));

        var again = CliRun.Of("reproduce", "--quick", "--out", outDir, "--data-dir", mnist, "--json");
        Assert.True(again.ExitCode == 0, again.StandardError);
        var resumed = again.Json().GetProperty("resumed").EnumerateArray().Select(key => key.GetString()).ToList();
        Assert.Contains("table1", resumed);
        Assert.Contains("table3", resumed);
        Assert.Contains("attacks", resumed);
    }

    [Fact]
    public void Reproduce_with_a_bad_seed_is_bad_usage()
    {
        var run = CliRun.Of("reproduce", "--quick", "--seed", "zero", "--json");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.StandardOutput);
        Assert.Contains("zero", run.StandardError);
    }
}
