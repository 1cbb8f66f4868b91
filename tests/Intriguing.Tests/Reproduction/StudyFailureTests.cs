using Intriguing.Reporting;
using Intriguing.Reproduction;

namespace Intriguing.Tests.Reproduction;

/// <summary>A study that throws: its section says so and its claims are "not run"; bad input still stops the run.</summary>
public sealed class StudyFailureTests
{
    private sealed class ThrowingStudy(Exception error) : IStudy
    {
        public string Key => "table2";

        public string Fingerprint => "";

        public string Title => "Table 2: transfer";

        public IReadOnlyList<ReportClaim> PlannedClaims => new Table2Study(10).PlannedClaims;

        public ReportSection Run(StudyContext context) => throw error;
    }

    [Fact]
    public void A_study_that_fails_gives_a_section_whose_claims_are_not_run()
    {
        var study = new ThrowingStudy(new InvalidOperationException("the matrix went NaN\nsecond line."));
        var (section, failure) = ReproductionRun.Attempt(study, () => study.Run(null!));
        Assert.Equal("the matrix went NaN second line", failure);
        Assert.Equal("table2", section.Key);
        Assert.Equal("Table 2: transfer", section.Title);
        Assert.Contains("did not run", section.Prose, StringComparison.Ordinal);
        Assert.Equal(["1", "2"], section.Claims.Select(claim => claim.Id));
        Assert.All(section.Claims, claim =>
        {
            Assert.Equal(ReportVerdict.NotRun, claim.Verdict);
            Assert.Equal("not run", claim.VerdictText);
            Assert.Contains("the matrix went NaN", claim.Evidence, StringComparison.Ordinal);
        });
        var json = JsonReportWriter.ToJson(new Report("t", Reporting.ReportSamples.Environment(), [section]));
        Assert.Equal("not run", json["claims"]![1]!["verdict"]!.GetValue<string>());
        Assert.True(json["table2"]!["failed"]!.GetValue<bool>());
    }

    [Fact]
    public void Bad_input_still_stops_the_run()
    {
        var study = new ThrowingStudy(new BadInputException("no such model"));
        Assert.Throws<BadInputException>(() => ReproductionRun.Attempt(study, () => study.Run(null!)));
    }

    [Fact]
    public void A_study_that_runs_gives_its_own_section()
    {
        var section = new ReportSection("table2", "t", "");
        var (result, failure) = ReproductionRun.Attempt(new ThrowingStudy(new InvalidOperationException()), () => section);
        Assert.Same(section, result);
        Assert.Null(failure);
    }
}
