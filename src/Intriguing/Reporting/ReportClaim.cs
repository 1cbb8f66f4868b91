namespace Intriguing.Reporting;

/// <summary>
/// Our verdict on one of a paper's claims, for the report's "claims at a glance". The study libraries compute it from
/// their own verdict objects (<c>Transfer/TransferVerdicts</c>, <c>Units/UnitVerdicts</c>, ...); the writers only show it.
/// </summary>
public enum ReportVerdict
{
    /// <summary>The numbers show what the claim says.</summary>
    Holds,

    /// <summary>Some of the comparisons the claim rests on show it, some do not.</summary>
    Partly,

    /// <summary>The numbers show the opposite, or none of the claim's comparisons shows it.</summary>
    DoesNotHold,

    /// <summary>The claim's statistic decides neither way at this sample size (not the same as "does not hold").</summary>
    Inconclusive,

    /// <summary>The study (or the part of it the claim needs) did not run, failed, or was skipped in this mode.</summary>
    NotRun,
}

/// <summary>
/// One claim a study judges, one line of the report's first table: what the paper says, our verdict, and the number and
/// statistic behind it. The section it belongs to is the <see cref="ReportSection"/> that carries it.
/// </summary>
/// <param name="Id">Short id, distinct within the section ("1", "a", "sound"); report.json prefixes the section key ("table2.1").</param>
/// <param name="Claim">The claim in one sentence, as the paper makes it (and which paper, when not Szegedy et al.).</param>
/// <param name="Verdict">Our verdict, computed by the study's library from the numbers.</param>
/// <param name="Evidence">The number and the statistic behind the verdict, in one line of plain text.</param>
public sealed record ReportClaim(string Id, string Claim, ReportVerdict Verdict, string Evidence)
{
    /// <summary>The verdicts as report.json writes them, in <see cref="ReportVerdict"/> order.</summary>
    public static readonly IReadOnlyList<string> VerdictWords = ["holds", "partly", "does not hold", "inconclusive", "not run"];

    /// <summary>The verdict in words: "holds", "partly", "does not hold", "inconclusive" or "not run".</summary>
    public string VerdictText => Words(Verdict);

    /// <summary><paramref name="verdict"/> in words (<see cref="VerdictWords"/>).</summary>
    public static string Words(ReportVerdict verdict) => VerdictWords[(int)verdict];

    /// <summary>The same claim marked as not run, its evidence saying why (<paramref name="reason"/>).</summary>
    public ReportClaim AsNotRun(string reason) => this with { Verdict = ReportVerdict.NotRun, Evidence = reason };

    internal void Validate(string sectionKey)
    {
        if (string.IsNullOrWhiteSpace(Id) || string.IsNullOrWhiteSpace(Claim))
        {
            throw new BadInputException($"a claim in section \"{sectionKey}\" has no id or no statement; each needs both");
        }
        if (!Enum.IsDefined(Verdict))
        {
            throw new BadInputException($"claim \"{Id}\" in section \"{sectionKey}\" has no valid verdict ({(int)Verdict})");
        }
    }
}
