using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>
/// One study of the paper (Table 1's errors, the attacks, the cross-split study, ...). It computes its numbers and
/// returns its own report section; studies never read or change each other's sections.
/// </summary>
public interface IStudy
{
    /// <summary>The section's key in report.json (docs/json-output.md: "table1", "table3", "attacks", ...).</summary>
    string Key { get; }

    /// <summary>
    /// Settings that change the study's result beyond the shared ones (seed, quick); part of the key under which
    /// a finished section is kept so that an interrupted <c>reproduce</c> resumes without redoing it. The code is part of
    /// that key already (<see cref="ReproductionRun.CodeVersion"/>): a change to how the study computes needs no entry here.
    /// </summary>
    string Fingerprint { get; }

    /// <summary>Runs the study in <paramref name="context"/> (seed, quick, data, models, progress) and returns its section.</summary>
    ReportSection Run(StudyContext context);

    /// <summary>The section's title, also used for the section of a run in which the study failed.</summary>
    string Title => Key;

    /// <summary>
    /// The claims the study judges, before it runs (verdicts are placeholders): a run in which the study fails still lists
    /// them, marked "not run" (<see cref="ReportSection.NotRun"/>). Studies that judge no claim keep the empty default.
    /// </summary>
    IReadOnlyList<ReportClaim> PlannedClaims => [];
}
