using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Intriguing.Cli.Tests;

/// <summary>
/// The README's main command end to end on real MNIST: `reproduce --quick` trains the quick zoo from nothing (in a
/// temporary $INTRIGUING_HOME, as a child process the way a user runs it), writes the three report files, a second run
/// resumes from what the first left, and a run killed during a study and again while writing its report resumes to the
/// same report.
/// </summary>
[Collection(RealMnistCollection.Name)]
public sealed class ReproduceEndToEndTests(RealMnist realMnist, QuickReproduction quick) : IClassFixture<QuickReproduction>
{
    private readonly string mnist = realMnist.Folder;

    [Fact]
    public void Quick_reproduction_writes_the_report_with_ours_beside_the_papers_and_resumes()
    {
        string outDir = quick.Out;
        var run = quick.Run(mnist);

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
        // Non-convexity: the quick check (4 starts on 20 images) on the softmax and two networks, with a verdict; the softmax's
        // targeted problem is convex, so its starts must agree.
        var nonConvexity = root.GetProperty("table1").GetProperty("nonConvexity");
        Assert.Equal(4, nonConvexity.GetProperty("starts").GetInt32());
        Assert.Equal(["fc10-1e-4", "fc100-100-10", "conv"], nonConvexity.GetProperty("models").EnumerateArray().Select(model => model.GetProperty("model").GetString()));
        var softmaxStarts = nonConvexity.GetProperty("models")[0];
        Assert.Equal("starts agree", softmaxStarts.GetProperty("agreement").GetString());
        Assert.InRange(softmaxStarts.GetProperty("spread").GetProperty("medianSpread").GetDouble(), 0, 0.01);
        Assert.InRange(nonConvexity.GetProperty("seconds").GetDouble(), 0, 120);
        // The tightest bound per image is never above any attack's own distortion.
        foreach (var bound in root.GetProperty("table1").GetProperty("tightestBound").EnumerateArray())
        {
            Assert.All(bound.GetProperty("bound").GetProperty("attacks").EnumerateArray(),
                attack => Assert.True(attack.GetProperty("meanRatio").GetDouble() >= 1 - 1e-9, bound.ToString()));
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

        // Claims at a glance: every judged claim once, with an allowed verdict and a link to its section, first in the html.
        var glance = root.GetProperty("claims").EnumerateArray().ToList();
        Assert.Equal(16, glance.Count);
        Assert.Contains(glance, claim => claim.GetProperty("id").GetString() == "table1.convexity");
        Assert.All(glance, claim =>
        {
            Assert.Contains(claim.GetProperty("verdict").GetString(), Intriguing.Reporting.ReportClaim.VerdictWords);
            Assert.True(root.TryGetProperty(claim.GetProperty("section").GetString()!, out _), claim.ToString());
        });
        Assert.Equal("not run", glance.Single(claim => claim.GetProperty("id").GetString() == "adversarialTraining.g").GetProperty("verdict").GetString());
        string html = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.Contains("data:image/png;base64,", html);
        Assert.DoesNotContain("src=\"http", html);
        Assert.True(html.IndexOf("<table class=\"claims\">", StringComparison.Ordinal) < html.IndexOf("<section id=\"table1\">", StringComparison.Ordinal));
        Assert.Contains("1.64%", File.ReadAllText(Path.Combine(outDir, "report.md")));

        // The first run had a helper process train arms (its log is kept); asked again for one of them, it is read back.
        string helperLog = File.ReadAllText(Path.Combine(outDir, ".results", "helper-1.log"));
        Assert.Contains("Trained and evaluated fgsm, pool, dropout", helperLog);
        // In the run's own mode: the quick arms, never the full recipe's.
        var armFiles = Directory.GetFiles(Path.Combine(quick.Home, "models"), "*-adv-*.safetensors").Select(Path.GetFileName).ToList();
        Assert.NotEmpty(armFiles);
        Assert.All(armFiles, file => Assert.Contains("-quick-", file));
        var trainOnly = quick.InProcess("reproduce", "--quick", "--train-arms", "fgsm", "--data-dir", mnist, "--json");
        Assert.True(trainOnly.ExitCode == 0, trainOnly.StandardError);
        Assert.Equal(fgsmArm.GetProperty("path").GetString(), trainOnly.Json().GetProperty("models")[0].GetString());
        var unknownArm = quick.InProcess("reproduce", "--quick", "--train-arms", "fgsm,nope", "--data-dir", mnist, "--json");
        Assert.Equal(2, unknownArm.ExitCode);
        Assert.Contains("'nope'", unknownArm.StandardError);
        Assert.Contains("dropout", unknownArm.StandardError);

        var again = quick.InProcess("reproduce", "--quick", "--out", outDir, "--data-dir", mnist, "--json");
        Assert.True(again.ExitCode == 0, again.StandardError);
        var resumed = again.Json().GetProperty("resumed").EnumerateArray().Select(key => key.GetString()).ToList();
        Assert.Contains("table1", resumed);
        Assert.Contains("table3", resumed);
        Assert.Contains("attacks", resumed);

        // --quiet, for scripts: everything read back, so no progress, no tables, only the line saying where the report is.
        var quiet = quick.InProcess("reproduce", "--quick", "--out", outDir, "--data-dir", mnist, "--quiet");
        Assert.True(quiet.ExitCode == 0, quiet.StandardError);
        Assert.Equal("", quiet.StandardError);
        Assert.Matches(@"^Report written to .*report\.html \(also report\.md and report\.json\) in \d+ s\.\r?\n$", quiet.StandardOutput);

        // The environment: versions, seed, threads, device, wall time in all and per study, peak memory.
        using var rewritten = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var environment = rewritten.RootElement.GetProperty("environment");
        Assert.Equal(0, environment.GetProperty("seed").GetInt32());
        Assert.True(environment.GetProperty("torchThreads").GetInt32() >= 1);
        Assert.Equal("cpu", environment.GetProperty("device").GetString());
        Assert.True(environment.GetProperty("peakMemoryBytes").GetInt64() > 100_000_000, environment.ToString());
        var studyTimes = environment.GetProperty("studyWallTimes").EnumerateArray().ToList();
        Assert.Equal(root.EnumerateObject().Select(property => property.Name).Where(name => name is not ("environment" or "claims")),
            studyTimes.Select(study => study.GetProperty("study").GetString()));
        Assert.All(studyTimes, study => Assert.True(study.GetProperty("resumed").GetBoolean(), study.ToString()));
        var firstTimes = root.GetProperty("environment").GetProperty("studyWallTimes").EnumerateArray().ToList();
        Assert.All(firstTimes, study => Assert.False(study.GetProperty("resumed").GetBoolean(), study.ToString()));
        Assert.True(firstTimes.Sum(study => study.GetProperty("seconds").GetDouble()) <= root.GetProperty("environment").GetProperty("wallTimeSeconds").GetDouble());
        string markdown = File.ReadAllText(Path.Combine(outDir, "report.md"));
        Assert.Matches(@"- \*\*Wall time per study:\*\* table1 [^,]+ \(read back\), table2 ", markdown);
        Assert.Matches(@"- \*\*Peak memory:\*\* \d+(\.\d+)? [MG]iB", markdown);
    }

    /// <summary>
    /// The shared run's report.html as a reader sees it, in headless Chromium at a phone's width and a laptop's: every figure
    /// loads, nothing logs an error, nothing makes the page scroll sideways, no text is too small to read, and nothing is
    /// loaded from outside the file. Without Chromium this fails and says how to install it.
    /// </summary>
    [Fact]
    public void The_html_report_reads_well_in_a_browser_at_phone_and_laptop_width()
    {
        HeadlessChromium.Executable();
        var run = quick.Run(mnist);
        Assert.True(run.ExitCode == 0, run.StandardError);
        string htmlPath = Path.Combine(quick.Out, "report.html");
        string html = File.ReadAllText(htmlPath);

        Assert.Empty(HeadlessChromium.OutsideLoads(html));
        var sources = Regex.Matches(html, "<img\\b[^>]*\\bsrc=\"([^\"]*)\"").Select(found => found.Groups[1].Value).ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, source => Assert.StartsWith("data:image/png;base64,", source, StringComparison.Ordinal));

        var checks = HeadlessChromium.Check(htmlPath, [390, 1280], TimeSpan.FromSeconds(90));
        Assert.Equal([390, 1280], checks.Select(check => check.Width));
        foreach (var check in checks)
        {
            string at = $"at {check.Width} px";
            Assert.Equal(check.Width, check.ViewportWidth);
            Assert.True(check.Errors.Count == 0, $"{at} the page logged: {string.Join(" | ", check.Errors)}");
            Assert.Equal(sources.Count, check.Images.Count);
            Assert.All(check.Images, image => Assert.True(image.NaturalWidth > 0 && image.NaturalHeight > 0, $"{at} figure \"{image.Alt}\" did not load"));
            Assert.True(check.ScrollWidth <= check.ViewportWidth, $"{at} the page is {check.ScrollWidth} px wide: it scrolls sideways");
            Assert.True(check.SmallestFontPixels >= 11, $"{at} some text is {check.SmallestFontPixels} px, too small to read");
        }
    }

    [Fact]
    public void Killed_during_a_study_and_while_writing_the_report_it_resumes_to_the_same_report_and_leaves_no_half_file()
    {
        var reference = quick.Run(mnist);
        Assert.True(reference.ExitCode == 0, reference.StandardError);
        string outDir = Path.Combine(quick.Home, "killed-report");
        string kept = Path.Combine(outDir, ".results");
        Directory.CreateDirectory(kept);
        // Every section the uninterrupted run kept but Table 3's: the children compute that one study (its models are
        // cached) and then write the report, which keeps this test to seconds.
        foreach (string file in Directory.GetFiles(Path.Combine(quick.Out, ".results"), "*.json").Where(file => !Path.GetFileName(file).StartsWith("table3-", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(kept, Path.GetFileName(file)));
        }
        string[] reproduce = ["reproduce", "--quick", "--out", outDir, "--data-dir", mnist, "--json"];

        // In the middle of Table 3: after L-BFGS finished on its first model.
        using (var child = CliProcess.Start(quick.Home, reproduce))
        {
            Assert.True(child.WaitForStandardError("progress: attack lbfgs", TimeSpan.FromMinutes(10)), child.StandardError);
            child.Kill();
        }
        Assert.False(File.Exists(Path.Combine(outDir, "report.json")));
        Assert.Empty(Directory.GetFiles(kept, "table3-*.json"));
        Assert.All(Directory.GetFiles(kept, "*.json"), file => JsonDocument.Parse(File.ReadAllText(file)).Dispose());

        // As the report is being written: its figures folder has just appeared.
        using (var child = CliProcess.Start(quick.Home, reproduce))
        {
            Assert.True(child.WaitFor(() => Directory.Exists(Path.Combine(outDir, "figures")), TimeSpan.FromMinutes(10)), child.StandardError);
            child.Kill();
        }
        var leftByTheKill = Figures(outDir);

        var rerun = CliProcess.Run(quick.Home, reproduce);
        Assert.True(rerun.ExitCode == 0, rerun.StandardError);
        Assert.Contains("table3", rerun.Json().GetProperty("resumed").EnumerateArray().Select(key => key.GetString()));
        Assert.Equal(Numbers(Path.Combine(quick.Out, "report.json")), Numbers(Path.Combine(outDir, "report.json")));
        var expected = Figures(quick.Out);
        Assert.Equal(expected, Figures(outDir));
        Assert.All(leftByTheKill, figure => Assert.Equal(expected[figure.Key], figure.Value));
        Assert.Empty(CliProcess.Temporaries(outDir));
        Assert.Empty(CliProcess.Temporaries(Path.Combine(quick.Home, "models")));
    }

    [Fact]
    public void Split_over_two_and_three_shards_and_merged_it_writes_the_unsplit_report()
    {
        var reference = quick.Run(mnist);
        Assert.True(reference.ExitCode == 0, reference.StandardError);
        // The zoo and the arms are cached in the shared home, as on a cluster with a shared $INTRIGUING_HOME. The sections of
        // Table 1, Table 2, the units and the spectral study (nine tenths of the quick run's study time) are handed to the
        // shards as kept sections; the shards compute the other four themselves.
        string[] computed = ["table3-", "table4-", "attacks-", "adversarialTraining-"];
        foreach (int shards in new[] { 2, 3 })
        {
            string parts = Path.Combine(quick.Home, $"shards-{shards}");
            string kept = Path.Combine(parts, ".results");
            Directory.CreateDirectory(kept);
            foreach (string file in Directory.GetFiles(Path.Combine(quick.Out, ".results"), "*.json")
                .Where(file => !computed.Any(prefix => Path.GetFileName(file).StartsWith(prefix, StringComparison.Ordinal))))
            {
                File.Copy(file, Path.Combine(kept, Path.GetFileName(file)));
            }
            var ran = new List<string>();
            for (int index = 0; index < shards; index++)
            {
                var shard = CliProcess.Run(quick.Home, ["reproduce", "--quick", "--out", parts, "--data-dir", mnist, "--shard", $"{index}/{shards}", "--quiet", "--json"]);
                Assert.True(shard.ExitCode == 0, shard.StandardError);
                var summary = shard.Json();
                Assert.True(File.Exists(summary.GetProperty("part").GetString()));
                var studies = summary.GetProperty("studies").EnumerateArray().Select(key => key.GetString()!).ToList();
                var resumed = summary.GetProperty("resumed").EnumerateArray().Select(key => key.GetString()!).ToList();
                ran.AddRange(studies.Except(resumed));
            }
            Assert.False(File.Exists(Path.Combine(parts, "report.json")), "a shard writes its part, not a report");
            Assert.Equal(computed.Select(prefix => prefix.TrimEnd('-')).Order(), ran.Order());

            string merged = Path.Combine(quick.Home, $"merged-{shards}");
            var merge = CliRun.Of("merge", parts, "--out", merged, "--json");
            Assert.True(merge.ExitCode == 0, merge.StandardError);
            Assert.Equal(Numbers(Path.Combine(quick.Out, "report.json")), Numbers(Path.Combine(merged, "report.json")));
            Assert.Equal(Figures(quick.Out), Figures(merged));
        }

        // A part missing: named.
        File.Delete(Path.Combine(quick.Home, "shards-3", "reproduce.part-1-of-3.json"));
        var incomplete = CliRun.Of("merge", Path.Combine(quick.Home, "shards-3"), "--out", Path.Combine(quick.Home, "merged-incomplete"));
        Assert.Equal(2, incomplete.ExitCode);
        Assert.Contains("1/3 missing", incomplete.StandardError);
    }

    /// <summary>report.json without what differs between two runs of the same seed: the environment, the timings and who trained each arm.</summary>
    private static string Numbers(string reportJson)
    {
        var report = JsonNode.Parse(File.ReadAllText(reportJson))!.AsObject();
        report.Remove("environment");
        static void DropTimings(JsonNode? node)
        {
            if (node is JsonObject item)
            {
                // An arm's "reused" says whether this process trained it or read it from the cache: which process did the work, not a result.
                foreach (string key in item.Select(property => property.Key).Where(key => key.EndsWith("econds", StringComparison.Ordinal) || key == "reused").ToList())
                {
                    item.Remove(key);
                }
                foreach (var property in item)
                {
                    DropTimings(property.Value);
                }
            }
            else if (node is JsonArray array)
            {
                foreach (var element in array)
                {
                    DropTimings(element);
                }
            }
        }
        DropTimings(report);
        return report.ToJsonString();
    }

    /// <summary>The report's figures (temporaries aside), by name, with their SHA-256.</summary>
    private static SortedDictionary<string, string> Figures(string outDir) =>
        new(Directory.GetFiles(Path.Combine(outDir, "figures"))
            .Where(path => !path.EndsWith(Intriguing.IO.AtomicFile.TemporarySuffix, StringComparison.Ordinal))
            .ToDictionary(path => Path.GetFileName(path), path => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))),
            StringComparer.Ordinal);

    [Fact]
    public void Reproduce_quiet_is_in_the_help_and_a_quiet_run_with_bad_input_prints_only_the_reason()
    {
        var help = CliRun.Of("reproduce", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--quiet", help.StandardOutput);

        string outDir = Path.Combine(Path.GetTempPath(), "intriguing-quiet-" + Guid.NewGuid().ToString("N"));
        try
        {
            var run = CliRun.Of("reproduce", "--quick", "--quiet", "--out", outDir, "--device", "cuda:7");
            Assert.Equal(2, run.ExitCode);
            Assert.Equal("", run.StandardOutput);
            Assert.Matches(@"^intriguing: bad input: --device cuda:7: [^\n]+\n$", run.StandardError.Replace("\r", ""));
        }
        finally
        {
            if (Directory.Exists(outDir))
            {
                Directory.Delete(outDir, recursive: true);
            }
        }
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

/// <summary>
/// `reproduce --quick` from nothing, run once for <see cref="ReproduceEndToEndTests"/> as a child process in a home of its
/// own (its report is the uninterrupted run the kill test compares with; models and kept sections stay for the others).
/// </summary>
public sealed class QuickReproduction : IDisposable
{
    private readonly Lock gate = new();
    private CliRun? run;

    public QuickReproduction() => Directory.CreateDirectory(Home);

    public string Home { get; } = Path.Combine(Path.GetTempPath(), "intriguing-e2e-" + Guid.NewGuid().ToString("N"));

    public string Out => Path.Combine(Home, "report");

    /// <summary>The run (made on first use).</summary>
    public CliRun Run(string mnist)
    {
        lock (gate)
        {
            return run ??= CliProcess.Run(Home, ["reproduce", "--quick", "--workers", "2", "--out", Out, "--data-dir", mnist, "--json"], TimeSpan.FromMinutes(60));
        }
    }

    /// <summary>The command line in-process with <c>$INTRIGUING_HOME</c> at <see cref="Home"/> for the call.</summary>
    public CliRun InProcess(params string[] arguments)
    {
        string? previous = Environment.GetEnvironmentVariable(IntriguingHome.EnvironmentVariable);
        Environment.SetEnvironmentVariable(IntriguingHome.EnvironmentVariable, Home);
        try
        {
            return CliRun.Of(arguments);
        }
        finally
        {
            Environment.SetEnvironmentVariable(IntriguingHome.EnvironmentVariable, previous);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(Home))
        {
            Directory.Delete(Home, recursive: true);
        }
    }
}
