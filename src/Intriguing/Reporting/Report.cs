namespace Intriguing.Reporting;

/// <summary>
/// The whole output of <c>./intriguing reproduce</c>: the run's settings and one section per study
/// (Table 1, Table 3, the attacks, ...). Studies never touch each other's sections; the reproduce
/// command only collects them and hands the report to <see cref="ReportWriter.WriteAll"/>.
/// </summary>
/// <param name="Title">Heading of report.md / report.html.</param>
/// <param name="Environment">Versions, machine and settings of the run (the "environment" key of report.json).</param>
/// <param name="Sections">The studies in reading order; keys must be distinct.</param>
public sealed record Report(string Title, ReportEnvironment Environment, IReadOnlyList<ReportSection> Sections)
{
    /// <summary>The report.json key that holds <see cref="Environment"/>; no section may use it.</summary>
    public const string EnvironmentKey = "environment";

    /// <summary>The report.json key that holds <see cref="Claims"/>; no section may use it.</summary>
    public const string ClaimsKey = "claims";

    /// <summary>Every section's claims in reading order, each with the key of its section (the anchor it links to).</summary>
    public IReadOnlyList<(ReportSection Section, ReportClaim Claim)> Claims =>
        [.. Sections.SelectMany(section => section.Claims.Select(claim => (section, claim)))];

    /// <summary>Checks what the writers rely on: distinct, well-formed section keys and figure file names.</summary>
    /// <exception cref="BadInputException">A key or figure name is missing, malformed or used twice.</exception>
    public void Validate()
    {
        var sectionKeys = new HashSet<string>(StringComparer.Ordinal);
        var figureNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (ReportSection section in Sections)
        {
            section.Validate();
            if (section.Key is EnvironmentKey or ClaimsKey)
            {
                throw new BadInputException($"report section key \"{section.Key}\" is reserved for the run's {(section.Key == EnvironmentKey ? "environment" : "claims at a glance")}");
            }
            if (!sectionKeys.Add(section.Key))
            {
                throw new BadInputException($"report section key \"{section.Key}\" is used by two sections; each study needs its own key");
            }
            foreach (ReportFigure figure in section.Figures)
            {
                if (!figureNames.Add(figure.FileName))
                {
                    throw new BadInputException($"figure file name \"{figure.FileName}\" (section \"{section.Key}\") is used twice; figures/ needs distinct names");
                }
            }
        }
    }
}
