using System.Text.Json.Nodes;
using Intriguing.Reporting;
using Intriguing.Reproduction;
using Intriguing.Spectral;
using Intriguing.Transfer;
using Intriguing.Units;

namespace Intriguing.Tests.Reporting;

/// <summary>The claims at a glance: carried by the sections, written first in every view, "not run" for a study that failed.</summary>
public sealed class ReportClaimsTests
{
    /// <summary>Every study key of a full reproduce run, in report order.</summary>
    public static readonly string[] StudyKeys = ["table1", "table2", "table3", "table4", "attacks", "units", "spectral", "adversarialTraining"];

    /// <summary>A report with every study's key, two of them judging claims and one failed, as the writers get it from reproduce.</summary>
    public static Report FullReport()
    {
        var sections = StudyKeys.Select(key => key switch
        {
            "table2" => new ReportSection(key, "Table 2: transfer", "Prose.")
            {
                Claims =
                [
                    new ReportClaim("1", "Examples fool other models more than noise", ReportVerdict.Partly, "3 of 5 comparisons significant (McNemar, Holm)"),
                    new ReportClaim("2", "Weakly regularised models' examples transfer more", ReportVerdict.DoesNotHold, "0 of 4 comparisons significant"),
                ],
                Data = new { count = 100 },
            },
            "units" => new ReportSection(key, "Section 3: units", "Prose.")
            {
                Claims = [new ReportClaim("1", UnitVerdicts.PaperClaimText, ReportVerdict.Holds, "units purer on 0 of 5 layers")],
                Data = new JsonObject { ["verdict"] = "x" },
            },
            "spectral" => ReportSection.NotRun(key, "Spectral analysis", "out of memory in layer conv2", new SpectralStudy(10, 1).PlannedClaims),
            _ => new ReportSection(key, key, "Prose.") { Data = new { key } },
        }).ToList();
        return new Report("Claims", ReportSamples.Environment(), sections);
    }

    [Fact]
    public void Report_json_has_a_claims_array_with_every_field_and_an_allowed_verdict()
    {
        var json = (JsonObject)JsonNode.Parse(JsonReportWriter.Render(FullReport()))!;
        var claims = Assert.IsType<JsonArray>(json["claims"]);
        Assert.Equal(5, claims.Count);
        foreach (var claim in claims.Cast<JsonObject>())
        {
            Assert.Equal(["id", "claim", "verdict", "evidence", "section"], claim.Select(entry => entry.Key));
            Assert.Contains(claim["verdict"]!.GetValue<string>(), ReportClaim.VerdictWords);
            Assert.StartsWith(claim["section"]!.GetValue<string>() + ".", claim["id"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(claim["claim"]!.GetValue<string>()));
        }
        Assert.Equal("table2.1", claims[0]!["id"]!.GetValue<string>());
        Assert.Equal("partly", claims[0]!["verdict"]!.GetValue<string>());
        Assert.Equal("does not hold", claims[1]!["verdict"]!.GetValue<string>());
        // The keys come in order: environment, claims, then the studies.
        Assert.Equal(["environment", "claims", .. StudyKeys], json.Select(entry => entry.Key));
    }

    [Fact]
    public void A_study_that_failed_gives_not_run_for_each_of_its_claims()
    {
        var json = (JsonObject)JsonNode.Parse(JsonReportWriter.Render(FullReport()))!;
        var spectral = json["claims"]!.AsArray().Where(claim => claim!["section"]!.GetValue<string>() == "spectral").ToList();
        Assert.Equal(["spectral.sound", "spectral.certified"], spectral.Select(claim => claim!["id"]!.GetValue<string>()));
        Assert.All(spectral, claim =>
        {
            Assert.Equal("not run", claim!["verdict"]!.GetValue<string>());
            Assert.Contains("out of memory in layer conv2", claim["evidence"]!.GetValue<string>(), StringComparison.Ordinal);
        });
        Assert.True(json["spectral"]!["failed"]!.GetValue<bool>());
    }

    [Fact]
    public void Every_study_that_judges_claims_plans_them_so_a_failure_lists_them()
    {
        var studies = new IStudy[] { new Table2Study(10), new Table4Study(10), new UnitsStudy(100, 10), new SpectralStudy(10, 1), new AdversarialTrainingStudy() };
        foreach (var study in studies)
        {
            var failed = ReportSection.NotRun(study.Key, study.Title, "boom", study.PlannedClaims);
            failed.Validate();
            Assert.NotEmpty(failed.Claims);
            Assert.All(failed.Claims, claim => Assert.Equal(ReportVerdict.NotRun, claim.Verdict));
            Assert.NotEqual(study.Key, study.Title);
        }
        // The adversarial-training claims of the papers (a-d, f, g, i), not our own targets (e, h).
        Assert.Equal(["a", "b", "c", "d", "f", "g", "i"], new AdversarialTrainingStudy().PlannedClaims.Select(claim => claim.Id));
    }

    [Fact]
    public void Adversarial_training_without_arms_gives_not_run_claims_in_its_section()
    {
        var section = AdversarialTrainingStudy.Section([], quick: true, seed: 0);
        Assert.NotEmpty(section.Claims);
        Assert.All(section.Claims, claim => Assert.Equal(ReportVerdict.NotRun, claim.Verdict));
    }

    [Fact]
    public void Html_puts_the_claims_table_after_the_title_and_before_the_contents_and_the_first_section()
    {
        string html = HtmlReportWriter.Render(FullReport());
        int title = html.IndexOf("<h1>", StringComparison.Ordinal);
        int claims = html.IndexOf("<table class=\"claims\">", StringComparison.Ordinal);
        int environment = html.IndexOf("<dl class=\"environment\">", StringComparison.Ordinal);
        int firstSection = html.IndexOf("<section id=\"table1\">", StringComparison.Ordinal);
        Assert.True(title >= 0 && claims > title && claims < environment && environment < firstSection, $"order: h1 {title}, claims {claims}, environment {environment}, table1 {firstSection}");
        Assert.Contains("<span class=\"verdict verdict-does-not-hold\">does not hold</span>", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"verdict verdict-not-run\">not run</span>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#table2\">Table 2</a>", html, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"viewport\"", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"table-scroll\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_puts_the_claims_table_first_with_links_to_section_anchors()
    {
        string markdown = MarkdownReportWriter.Render(FullReport());
        int claims = markdown.IndexOf("## Claims at a glance", StringComparison.Ordinal);
        int environment = markdown.IndexOf("- **Command:**", StringComparison.Ordinal);
        int firstSection = markdown.IndexOf("## table1", StringComparison.Ordinal);
        Assert.True(claims > 0 && claims < environment && environment < firstSection);
        Assert.Contains("| **partly** | Examples fool other models more than noise | 3 of 5 comparisons significant (McNemar, Holm) | [Table 2](#table2) |", markdown, StringComparison.Ordinal);
        Assert.Contains("<a id=\"table2\"></a>", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_report_without_claims_has_no_claims_table_but_an_empty_array()
    {
        var report = ReportSamples.TwoSections();
        Assert.DoesNotContain("Claims at a glance", HtmlReportWriter.Render(report), StringComparison.Ordinal);
        Assert.DoesNotContain("Claims at a glance", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
        Assert.Empty(JsonReportWriter.ToJson(report)["claims"]!.AsArray());
    }

    [Fact]
    public void Claims_are_checked_the_key_claims_is_reserved_and_ids_are_distinct()
    {
        Assert.Throws<BadInputException>(() => new Report("t", ReportSamples.Environment(), [new ReportSection("claims", "t", "")]).Validate());
        var twice = new ReportSection("table2", "t", "") { Claims = [new("1", "a", ReportVerdict.Holds, ""), new("1", "b", ReportVerdict.Holds, "")] };
        Assert.Throws<BadInputException>(twice.Validate);
        var noVerdict = new ReportSection("table2", "t", "") { Claims = [new("1", "a", (ReportVerdict)42, "")] };
        Assert.Throws<BadInputException>(noVerdict.Validate);
    }

    [Fact]
    public void Claims_survive_the_study_cache()
    {
        string folder = ReportSamples.TemporaryFolder();
        try
        {
            var cache = new StudyResultCache(folder);
            var section = FullReport().Sections.First(section => section.Key == "table2");
            cache.Store("fingerprint", section);
            var loaded = cache.TryLoad("table2", "fingerprint");
            Assert.NotNull(loaded);
            Assert.Equal(section.Claims, loaded.Claims);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(ClaimVerdictKind.Agrees, 3, 3, ReportVerdict.Holds)]
    [InlineData(ClaimVerdictKind.Partly, 1, 3, ReportVerdict.Partly)]
    [InlineData(ClaimVerdictKind.Disagrees, 0, 3, ReportVerdict.DoesNotHold)]
    [InlineData(ClaimVerdictKind.Disagrees, 0, 0, ReportVerdict.Inconclusive)]
    public void Transfer_verdicts_map_onto_the_claims_table(ClaimVerdictKind kind, int passed, int tests, ReportVerdict expected)
    {
        var verdict = new ClaimVerdict("1", TransferVerdicts.ClaimOneStatement, kind, TransferVerdicts.McNemarStatistic, 0.05, "Holm", tests, passed, 0, [], "");
        var claim = TransferVerdicts.ToReportClaim(verdict, "c");
        Assert.Equal(expected, claim.Verdict);
        if (tests > 0)
        {
            Assert.Contains($"{passed} of {tests} comparisons", claim.Evidence, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_units_claim_holds_partly_or_not_from_the_layers_verdicts()
    {
        Assert.Equal(ReportVerdict.Holds, UnitVerdicts.PaperClaim([("conv", "conv1", UnitVerdictKind.NoDifference), ("conv", "conv2", UnitVerdictKind.RandomMoreCoherent)], 6).Verdict);
        var partly = UnitVerdicts.PaperClaim([("conv", "conv1", UnitVerdictKind.UnitsMoreCoherent), ("conv", "conv2", UnitVerdictKind.NegligibleDifference)], 6);
        Assert.Equal(ReportVerdict.Partly, partly.Verdict);
        Assert.Contains("1 of 2 layers (conv conv1)", partly.Evidence, StringComparison.Ordinal);
        Assert.Equal(ReportVerdict.DoesNotHold, UnitVerdicts.PaperClaim([("conv", "conv1", UnitVerdictKind.UnitsMoreCoherent)], 3).Verdict);
        Assert.Equal(ReportVerdict.Inconclusive, UnitVerdicts.PaperClaim([], 0).Verdict);
    }

    [Fact]
    public void Spectral_verdicts_hold_or_not_with_plain_evidence()
    {
        var claim = SpectralVerdicts.ToReportClaim("sound", SpectralVerdicts.BoundClaim, new SpectralVerdict(false, "**Not sound**: on `conv`, 2 over."));
        Assert.Equal(ReportVerdict.DoesNotHold, claim.Verdict);
        Assert.Equal("Not sound: on conv, 2 over.", claim.Evidence);
        Assert.Equal("median 3x", SpectralVerdicts.ToReportClaim("c", "c", new SpectralVerdict(true, "long", "median 3x")).Evidence);
    }
}
