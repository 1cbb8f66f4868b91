using Intriguing.Statistics;
using static Intriguing.Transfer.TransferText;

namespace Intriguing.Transfer;

/// <summary>What a claim's comparisons say, from how many of them pass.</summary>
public enum ClaimVerdictKind
{
    /// <summary>Every comparison the claim rests on passes.</summary>
    Agrees,

    /// <summary>Some pass, some do not.</summary>
    Partly,

    /// <summary>None passes (or there is nothing to compare).</summary>
    Disagrees,
}

/// <summary>One comparison after the correction: passes (significant in the claim's direction), not detected, or significant the other way.</summary>
public enum ComparisonResult
{
    /// <summary>Significant in the claim's direction.</summary>
    Passes,
    /// <summary>Not significant either way.</summary>
    NotDetected,
    /// <summary>Significant against the claim.</summary>
    Opposite,
}

/// <summary>
/// One comparison a claim rests on, before the test: on the same <see cref="Items"/> images, <see cref="Supporting"/>
/// count on the claim's side (e.g. fooled by the adversarial example but not by the noise) and <see cref="Opposing"/>
/// on the other (fooled by the noise but not by the example). For a rate tested against one half, the two are the
/// images fooled and not fooled. <see cref="Group"/> names which of the claim's comparisons it belongs to.
/// </summary>
public sealed record ClaimComparison(string Group, string Cell, int Items, int Supporting, int Opposing)
{
    /// <summary>The two-sided exact p-value: McNemar's on discordant pairs, the sign test against one half (the same binomial test).</summary>
    public double PValue => McNemar.ExactPValue(Supporting, Opposing);
}

/// <summary>A comparison with its p-value, its Holm-adjusted p-value over the claim's comparisons, and the result at the claim's level.</summary>
public sealed record ClaimTest(string Group, string Cell, int Items, int Supporting, int Opposing, double PValue, double AdjustedPValue, ComparisonResult Result);

/// <summary>
/// One of the paper's claims judged on our numbers: <see cref="Verdict"/> from how many of its <see cref="Tests"/>
/// comparisons pass (<see cref="Passed"/>; <see cref="Opposite"/> are significant the other way), the test
/// (<see cref="Statistic"/>), its level and correction, every comparison, and the sentence the report prints.
/// </summary>
public sealed record ClaimVerdict(
    string Claim,
    string Statement,
    ClaimVerdictKind Verdict,
    string Statistic,
    double Alpha,
    string Correction,
    int Tests,
    int Passed,
    int Opposite,
    IReadOnlyList<ClaimTest> Comparisons,
    string Sentence)
{
    /// <summary>Passing comparisons of one group.</summary>
    public int PassedIn(string group) => Comparisons.Count(test => test.Group == group && test.Result == ComparisonResult.Passes);

    /// <summary>Comparisons of one group.</summary>
    public int CountIn(string group) => Comparisons.Count(test => test.Group == group);

    /// <summary>Comparisons of one group significant against the claim.</summary>
    public int OppositeIn(string group) => Comparisons.Count(test => test.Group == group && test.Result == ComparisonResult.Opposite);
}

/// <summary>
/// The paper's transfer claims (Section 4.2, Tables 2 and 4) judged on a measured matrix. Every claim rests on a set of
/// comparisons made on the same images (the adversarial and the noise error of a cell are measured on the same images,
/// so they are compared pair by pair with McNemar's exact test, not by their intervals); the p-values are Holm-corrected
/// over the comparisons the claim rests on, a comparison passes when its adjusted p is below <see cref="Alpha"/> in the
/// claim's direction, and the claim <em>agrees</em> when every comparison passes, <em>disagrees</em> when none does, and
/// <em>partly agrees</em> otherwise. Each sentence names the test, the level and the counts.
/// </summary>
public static class TransferVerdicts
{
    /// <summary>The significance level after the correction, 0.05.</summary>
    public const double Alpha = 0.05;

    /// <summary>The paired test's name, as the sentences give it.</summary>
    public const string McNemarStatistic = "McNemar's exact test";

    /// <summary>The test of a rate against one half, as the sentences give it.</summary>
    public const string BinomialStatistic = "exact binomial test against one half";

    /// <summary>The multiple-comparison correction, as the sentences give it.</summary>
    public const string Correction = "Holm";

    /// <summary>Claim (1)'s groups of comparisons.</summary>
    public const string OwnDistortion = "own distortion", SameRms = "same RMS", PaperNoise = "paper's noise row";

    /// <summary>Claim (2)'s groups.</summary>
    public const string Plain = "plain", Magnified = "magnified";

    /// <summary>Claim (3)'s groups.</summary>
    public const string AcrossHalves = "across halves", SameAgainstOther = "same half against other half";

    /// <summary>Claim (1)'s statement, as <see cref="ClaimVerdict.Statement"/> gives it.</summary>
    public const string ClaimOneStatement = "off the diagonal, adversarial examples fool other models more than noise of the same size";

    /// <summary>Claim (2)'s statement, as <see cref="ClaimVerdict.Statement"/> gives it.</summary>
    public const string ClaimTwoStatement = "examples from weakly regularised models transfer more";

    /// <summary>Claim (3)'s statement, as <see cref="ClaimVerdict.Statement"/> gives it.</summary>
    public const string ClaimThreeStatement = "examples transfer to a model trained on the other half of the data, less than to one trained on the same half";

    /// <summary>Claim (4)'s statement, as <see cref="ClaimVerdict.Statement"/> gives it.</summary>
    public const string ClaimFourStatement = "magnified examples fool most of both other models";

    /// <summary>How every claim is judged, in a sentence for the report.</summary>
    public static readonly string Rule =
        $"How the claims are judged: a claim rests on a set of comparisons, each made on the same images (so compared pair by pair with {McNemarStatistic}, " +
        $"two-sided, on the images only one side fooled); the p-values are corrected with {Correction}'s method over the comparisons the claim rests on, " +
        $"a comparison passes when its adjusted p is below {Number(Alpha, 2)} in the claim's direction, and the claim agrees when every comparison passes, " +
        "disagrees when none does, and partly agrees otherwise.";

    /// <summary>Holm over <paramref name="comparisons"/>, each comparison's result at <paramref name="alpha"/>, and the verdict from the count that pass.</summary>
    public static (IReadOnlyList<ClaimTest> Tests, ClaimVerdictKind Kind) Judge(IReadOnlyList<ClaimComparison> comparisons, double alpha = Alpha)
    {
        ArgumentNullException.ThrowIfNull(comparisons);
        double[] pValues = [.. comparisons.Select(comparison => comparison.PValue)];
        double[] adjusted = Holm.Adjust(pValues);
        var tests = comparisons.Select((comparison, index) => new ClaimTest(comparison.Group, comparison.Cell, comparison.Items, comparison.Supporting,
            comparison.Opposing, pValues[index], adjusted[index],
            adjusted[index] >= alpha ? ComparisonResult.NotDetected
                : comparison.Supporting > comparison.Opposing ? ComparisonResult.Passes : ComparisonResult.Opposite)).ToList();
        return (tests, KindOf(tests.Count(test => test.Result == ComparisonResult.Passes), tests.Count));
    }

    /// <summary>Agrees when all <paramref name="tests"/> pass, disagrees when none does (or there are none), partly otherwise.</summary>
    public static ClaimVerdictKind KindOf(int passed, int tests) =>
        tests > 0 && passed == tests ? ClaimVerdictKind.Agrees : passed == 0 ? ClaimVerdictKind.Disagrees : ClaimVerdictKind.Partly;

    /// <summary>"Agrees", "Partly agrees", "Disagrees".</summary>
    public static string Words(ClaimVerdictKind kind) => kind switch
    {
        ClaimVerdictKind.Agrees => "Agrees",
        ClaimVerdictKind.Partly => "Partly agrees",
        _ => "Disagrees",
    };

    // ---- Claim (1): off the diagonal, examples fool other models more than noise of the same size ----

    /// <summary>
    /// Claim (1)'s comparisons, off the diagonal: each plain cell against noise scaled to its row's own mean distortion,
    /// each magnified cell against noise of the same RMS, and (when measured) against the paper's noise row of that
    /// stddev; all on the row's images.
    /// </summary>
    public static IReadOnlyList<ClaimComparison> ClaimOneComparisons(IReadOnlyList<TransferRow> rows, IReadOnlyList<MagnifiedRow> magnified)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(magnified);
        var comparisons = new List<ClaimComparison>();
        foreach (var row in rows)
        {
            comparisons.AddRange(OffDiagonal(row.Source, row.Discordant).Select(cell => Paired(OwnDistortion, row.Source, cell.Target, row.Examples, cell.Counts)));
        }
        foreach (var row in magnified)
        {
            comparisons.AddRange(OffDiagonal(row.Source, row.Discordant).Select(cell => Paired(SameRms, row.Source, cell.Target, row.Examples, cell.Counts)));
        }
        foreach (var row in magnified)
        {
            comparisons.AddRange(OffDiagonal(row.Source, row.StddevDiscordant).Select(cell => Paired(PaperNoise, row.Source, cell.Target, row.Examples, cell.Counts)));
        }
        return comparisons;
    }

    /// <summary>Claim (1) on a matrix.</summary>
    public static ClaimVerdict ClaimOne(TransferMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return ClaimOne(matrix.Rows, matrix.Magnified, matrix.EqualDistortion.Rms);
    }

    /// <summary>Claim (1) on rows and their magnified versions (magnified to <paramref name="rms"/>).</summary>
    public static ClaimVerdict ClaimOne(IReadOnlyList<TransferRow> rows, IReadOnlyList<MagnifiedRow> magnified, double rms)
    {
        var (tests, kind) = Judge(ClaimOneComparisons(rows, magnified));
        var verdict = new ClaimVerdict("1", ClaimOneStatement, kind,
            McNemarStatistic, Alpha, Correction, tests.Count, tests.Count(test => test.Result == ComparisonResult.Passes),
            tests.Count(test => test.Result == ComparisonResult.Opposite), tests, "");
        var (meanAdversarial, meanNoise) = MeansAgainstMatchedNoise(rows);
        var equal = EqualDistortion(rows, magnified, rms);
        string paperRow = verdict.CountIn(PaperNoise) == 0
            ? $"none against the paper's noise row (no row of stddev {Number(rms, 2)} was measured)"
            : $"{verdict.PassedIn(PaperNoise)} of {verdict.CountIn(PaperNoise)} against the paper's noise row of stddev {Number(rms, 2)} on the same images";
        string sentence =
            $"**(1) {Words(kind)}.** Off the diagonal, do adversarial examples fool other models more than noise of the same size? " +
            $"Significantly more ({McNemarStatistic} on the same images, {Correction}-adjusted p < {Number(Alpha, 2)} over the claim's {tests.Count} comparisons) in " +
            $"{verdict.PassedIn(OwnDistortion)} of {verdict.CountIn(OwnDistortion)} cells against Gaussian noise scaled to the row's own mean distortion " +
            $"(mean error {Percent(meanAdversarial)} against {Percent(meanNoise)}), " +
            $"{verdict.PassedIn(SameRms)} of {verdict.CountIn(SameRms)} magnified to RMS {Number(rms, 2)} against noise of that RMS, and {paperRow}; " +
            $"significantly less in {verdict.Opposite} of {tests.Count}" +
            (equal.WorstCell is null ? "." : $". Smallest difference at equal distortion: {Points(equal.WorstMargin)} ({equal.WorstCell}).");
        return verdict with { Sentence = sentence };
    }

    /// <summary>The equal-distortion summary of a matrix: the magnified part of claim (1), with claim (1)'s correction.</summary>
    public static EqualDistortion EqualDistortion(IReadOnlyList<TransferRow> rows, IReadOnlyList<MagnifiedRow> magnified, double rms)
    {
        var (tests, _) = Judge(ClaimOneComparisons(rows, magnified));
        int Count(string group, ComparisonResult result) => tests.Count(test => test.Group == group && test.Result == result);
        double worst = double.PositiveInfinity;
        string? worstCell = null;
        foreach (var row in magnified)
        {
            foreach (var (target, rate) in row.Errors.Where(cell => cell.Key != row.Source))
            {
                double noise = row.Noise.Errors[target];
                // The paper's noise row on the row's own images (from the paired counts), as the test compares them.
                double margin = rate - Math.Max(noise, row.StddevDiscordant.ContainsKey(target) ? PaperNoiseRate(row, target) : 0);
                if (margin < worst)
                {
                    worst = margin;
                    worstCell = $"{row.Source} -> {target}";
                }
            }
        }
        return new EqualDistortion(rms, tests.Count(test => test.Group == SameRms), Count(SameRms, ComparisonResult.Passes), Count(PaperNoise, ComparisonResult.Passes),
            worstCell is null ? 0 : worst, worstCell, Count(SameRms, ComparisonResult.Opposite), Count(PaperNoise, ComparisonResult.Opposite),
            tests.Count(test => test.Group == PaperNoise), tests.Count, Alpha,
            $"{McNemarStatistic} on the same images, {Correction}-adjusted over claim (1)'s {tests.Count} comparisons");
    }

    /// <summary>Mean off-diagonal error of the examples and of the noise scaled to each row's own distortion.</summary>
    public static (double Adversarial, double Noise) MeansAgainstMatchedNoise(IReadOnlyList<TransferRow> rows)
    {
        var cells = rows.SelectMany(row => row.Errors.Where(cell => cell.Key != row.Source)
            .Select(cell => (Adversarial: cell.Value, Noise: row.MatchedNoise.Errors[cell.Key]))).ToList();
        return cells.Count == 0 ? (0, 0) : (cells.Average(cell => cell.Adversarial), cells.Average(cell => cell.Noise));
    }

    // ---- Claim (2): examples from weakly regularised models transfer more ----

    /// <summary>
    /// Claim (2)'s comparisons: for each pair of neighbours in <paramref name="family"/> (ordered from the weakest
    /// regularisation to the strongest), each target other than the two, on the images both sources' examples share:
    /// images the weaker model's example fools and the stronger's does not (supporting) against the reverse; once at the
    /// examples' own distortion and once magnified.
    /// </summary>
    /// <exception cref="ArgumentException">A member of the family that is not a row of the matrix.</exception>
    public static IReadOnlyList<ClaimComparison> ClaimTwoComparisons(TransferMatrix matrix, IReadOnlyList<string> family)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(family);
        var comparisons = new List<ClaimComparison>();
        foreach (var (group, rows) in new[]
        {
            (Plain, matrix.Rows.Select(row => (row.Source, row.Indices, row.Outcomes)).ToList()),
            (Magnified, matrix.Magnified.Select(row => (row.Source, row.Indices, row.Outcomes)).ToList()),
        })
        {
            for (int index = 0; index + 1 < family.Count; index++)
            {
                var weaker = Find(rows, family[index]);
                var stronger = Find(rows, family[index + 1]);
                var shared = SharedImages(weaker.Indices, stronger.Indices);
                foreach (string target in matrix.Targets.Where(target => target != weaker.Source && target != stronger.Source))
                {
                    var counts = McNemar.Count(
                        [.. shared.Select(pair => weaker.Outcomes[target][pair.First])],
                        [.. shared.Select(pair => stronger.Outcomes[target][pair.Second])]);
                    comparisons.Add(new ClaimComparison(group, $"{weaker.Source} vs {stronger.Source} -> {target}", counts.Items, counts.FirstOnly, counts.SecondOnly));
                }
            }
        }
        return comparisons;
    }

    /// <summary>
    /// Claim (2) on a matrix: do examples of the weaker-regularised member of <paramref name="family"/> fool the other
    /// targets more? With the paper's own numbers (<paramref name="paper"/>: a source's mean off-diagonal error and
    /// distortion in the paper, or null) beside ours.
    /// </summary>
    public static ClaimVerdict ClaimTwo(TransferMatrix matrix, IReadOnlyList<string> family, Func<string, (double Transfer, double Distortion)?>? paper = null)
    {
        var (tests, kind) = Judge(ClaimTwoComparisons(matrix, family));
        var verdict = new ClaimVerdict("2", ClaimTwoStatement, kind, McNemarStatistic, Alpha, Correction,
            tests.Count, tests.Count(test => test.Result == ComparisonResult.Passes), tests.Count(test => test.Result == ComparisonResult.Opposite), tests, "");
        double[] plain = [.. family.Select(source => MeanOffDiagonal(matrix.Rows.First(row => row.Source == source).Errors, source))];
        double[] magnified = [.. family.Select(source => MeanOffDiagonal(matrix.Magnified.First(row => row.Source == source).Errors, source))];
        string names = string.Join(" / ", family);
        string sentence =
            $"**(2) {Words(kind)}.** Do examples from weakly regularised models transfer more? For each neighbouring pair of {names} " +
            $"(weakest regularisation first) and each other target, on the images both sources' examples share, the weaker model's examples fool the target " +
            $"significantly more ({McNemarStatistic}, {Correction}-adjusted p < {Number(Alpha, 2)} over the claim's {tests.Count} comparisons) in " +
            $"{verdict.PassedIn(Plain)} of {verdict.CountIn(Plain)} at the examples' own distortions and {verdict.PassedIn(Magnified)} of {verdict.CountIn(Magnified)} " +
            $"magnified to RMS {Number(matrix.EqualDistortion.Rms, 2)}; significantly less in {verdict.OppositeIn(Plain)} and {verdict.OppositeIn(Magnified)}. " +
            $"Mean error of the other targets: {Rates(plain)} at their own distortions ({string.Join(" / ", family.Select(source => Number(matrix.Rows.First(row => row.Source == source).Distortion, 3)))}), " +
            $"{Rates(magnified)} magnified.";
        var paperValues = family.Select(source => paper?.Invoke(source)).ToList();
        if (paperValues.All(value => value is not null))
        {
            double[] transfer = [.. paperValues.Select(value => value!.Value.Transfer)];
            double[] distortion = [.. paperValues.Select(value => value!.Value.Distortion)];
            int most = Array.IndexOf(transfer, transfer.Max());
            bool largest = distortion[most] >= distortion.Max();
            sentence += $" The paper's own Table 2 gives {Rates(transfer)} (distortions {string.Join(" / ", distortion.Select(value => Number(value, 3)))}): " +
                $"there transfer {Trend(transfer)} as regularisation grows, and the examples of {family[most]} transfer most, " +
                $"{(largest ? "at the largest distortion" : "though not at the largest distortion")}.";
        }
        return verdict with { Sentence = sentence };
    }

    // ---- Claim (3): transfer to the other half of the data, less than within the same half ----

    /// <summary>
    /// Claim (3)'s two comparisons on the row of <paramref name="source"/>: its examples against noise of their own
    /// distortion on <paramref name="otherHalf"/> (a model trained on the other half of the data), and
    /// <paramref name="sameHalf"/> against <paramref name="otherHalf"/> on the same examples.
    /// </summary>
    public static IReadOnlyList<ClaimComparison> ClaimThreeComparisons(TransferMatrix matrix, string source, string sameHalf, string otherHalf)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var row = matrix.Rows.First(candidate => candidate.Source == source);
        int[] againstNoise = row.Discordant[otherHalf];
        var againstSameHalf = McNemar.Count(row.Outcomes[sameHalf], row.Outcomes[otherHalf]);
        return
        [
            new ClaimComparison(AcrossHalves, $"{source} -> {otherHalf}", row.Examples, againstNoise[0], againstNoise[1]),
            new ClaimComparison(SameAgainstOther, $"{source} -> {sameHalf} vs {otherHalf}", againstSameHalf.Items, againstSameHalf.FirstOnly, againstSameHalf.SecondOnly),
        ];
    }

    /// <summary>Claim (3) on a matrix, with the paper's two values beside ours (null when it gives none).</summary>
    public static ClaimVerdict ClaimThree(TransferMatrix matrix, string source, string sameHalf, string otherHalf,
        double? paperSameHalf = null, double? paperOtherHalf = null)
    {
        var (tests, kind) = Judge(ClaimThreeComparisons(matrix, source, sameHalf, otherHalf));
        var verdict = new ClaimVerdict("3", ClaimThreeStatement, kind,
            McNemarStatistic, Alpha, Correction, tests.Count, tests.Count(test => test.Result == ComparisonResult.Passes),
            tests.Count(test => test.Result == ComparisonResult.Opposite), tests, "");
        var row = matrix.Rows.First(candidate => candidate.Source == source);
        var across = tests[0];
        var within = tests[1];
        string sentence =
            $"**(3) {Words(kind)}.** Examples for {source} fool {otherHalf}, trained on the other half, {Rate(row.Errors[otherHalf], row.Intervals[otherHalf])}" +
            $"{Paper(paperOtherHalf)} against {Percent(row.MatchedNoise.Errors[otherHalf])} for noise scaled to the examples' mean distortion on the same images, and {sameHalf}, on the same half, " +
            $"{Rate(row.Errors[sameHalf], row.Intervals[sameHalf])}{Paper(paperSameHalf)}; {row.Examples} examples of mean distortion {Number(row.Distortion, 3)}. " +
            $"{McNemarStatistic} on the same images, {Correction}-adjusted over the 2 comparisons at {Number(Alpha, 2)}: across the halves " +
            $"{Outcome(across, "significantly above noise", "significantly below noise", "not distinguishable from noise")} " +
            $"({across.Supporting} images only the examples fooled, {across.Opposing} only the noise, adjusted p = {PValues.Format(across.AdjustedPValue)}); " +
            $"{Outcome(within, "significantly less than within the same half", "significantly more than within the same half", "not distinguishable from within the same half")} " +
            $"({within.Supporting} examples fool only {sameHalf}, {within.Opposing} only {otherHalf}, adjusted p = {PValues.Format(within.AdjustedPValue)}).";
        return verdict with { Sentence = sentence };
    }

    // ---- Claim (4): magnified examples fool most of both other models ----

    /// <summary>Claim (4)'s comparisons: for each of <paramref name="targets"/>, the magnified examples of <paramref name="source"/> it gets wrong against those it gets right.</summary>
    public static IReadOnlyList<ClaimComparison> ClaimFourComparisons(TransferMatrix matrix, string source, IReadOnlyList<string> targets)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(targets);
        var row = matrix.Magnified.First(candidate => candidate.Source == source);
        return [.. targets.Select(target => new ClaimComparison(Magnified, $"{source} -> {target}", row.Counts[target], row.Fooled[target], row.Counts[target] - row.Fooled[target]))];
    }

    /// <summary>Claim (4) on a matrix, with the paper's value per target (null when it gives none).</summary>
    public static ClaimVerdict ClaimFour(TransferMatrix matrix, string source, IReadOnlyList<string> targets, Func<string, double?>? paper = null)
    {
        var (tests, kind) = Judge(ClaimFourComparisons(matrix, source, targets));
        var verdict = new ClaimVerdict("4", ClaimFourStatement, kind, BinomialStatistic, Alpha, Correction,
            tests.Count, tests.Count(test => test.Result == ComparisonResult.Passes), tests.Count(test => test.Result == ComparisonResult.Opposite), tests, "");
        var row = matrix.Magnified.First(candidate => candidate.Source == source);
        var paperValues = targets.Select(target => paper?.Invoke(target)).ToList();
        string sentence =
            $"**(4) {Words(kind)}.** Magnified to RMS {Number(row.RequestedRms, 2)} (reached {Number(row.Distortion, 3)}, {Percent(row.ClippedFraction)} of values clipped), " +
            $"do the examples for {source} fool most of {string.Join(" and ", targets)}? " +
            string.Join(", ", targets.Select((target, index) => $"{target} {Rate(row.Errors[target], row.Intervals[target])}{Paper(paperValues[index])}")) +
            $"; significantly above one half ({BinomialStatistic}, {Correction}-adjusted p < {Number(Alpha, 2)} over the {tests.Count} cells) in {verdict.Passed} of {tests.Count}, " +
            $"significantly below in {verdict.Opposite}. Gaussian noise of the same RMS on the same images: " +
            string.Join(" and ", targets.Select(target => $"{Percent(row.Noise.Errors[target])} (McNemar p = {PValues.Format(row.PValues[target])})")) + ".";
        if (paperValues.All(value => value is not null))
        {
            sentence += $" The paper's own values are above one half in {paperValues.Count(value => value > 0.5)} of {paperValues.Count}.";
        }
        return verdict with { Sentence = sentence };
    }

    // ---- the report's claims at a glance ----

    /// <summary>
    /// <paramref name="verdict"/> as a line of the report's claims table, under <paramref name="claim"/> (the paper's words
    /// and where it makes them): agrees holds, partly partly, disagrees does not hold; a claim with no comparison to make
    /// is inconclusive. The evidence gives the counts and the test behind them.
    /// </summary>
    public static Reporting.ReportClaim ToReportClaim(ClaimVerdict verdict, string claim)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (verdict.Tests == 0)
        {
            return new Reporting.ReportClaim(verdict.Claim, claim, Reporting.ReportVerdict.Inconclusive, "no comparison could be made on these images");
        }
        var kind = verdict.Verdict switch
        {
            ClaimVerdictKind.Agrees => Reporting.ReportVerdict.Holds,
            ClaimVerdictKind.Partly => Reporting.ReportVerdict.Partly,
            _ => Reporting.ReportVerdict.DoesNotHold,
        };
        string evidence = $"{verdict.Passed} of {verdict.Tests} comparisons significant in the claim's direction, {verdict.Opposite} against it " +
            $"({verdict.Statistic}, {verdict.Correction}-adjusted p < {Number(verdict.Alpha, 2)})";
        return new Reporting.ReportClaim(verdict.Claim, claim, kind, evidence);
    }

    /// <summary>The claims table's wording of a transfer claim: the statement, capitalised, and where the paper makes it ("Table 2").</summary>
    public static string ClaimText(string statement, string where)
    {
        ArgumentException.ThrowIfNullOrEmpty(statement);
        return $"{char.ToUpperInvariant(statement[0])}{statement[1..]} (Szegedy et al., {where})";
    }

    /// <summary>Claim <paramref name="id"/> before its study ran: the wording of <see cref="ClaimText"/>, not run yet.</summary>
    public static Reporting.ReportClaim Planned(string id, string statement, string where) =>
        new(id, ClaimText(statement, where), Reporting.ReportVerdict.NotRun, "not run yet");

    // ---- helpers ----

    /// <summary>Mean of a row's errors over the targets other than its source.</summary>
    public static double MeanOffDiagonal(IReadOnlyDictionary<string, double> errors, string source) =>
        errors.Where(cell => cell.Key != source).Select(cell => cell.Value).DefaultIfEmpty(0).Average();

    /// <summary>"falls", "rises" or "is not monotone" for values in order.</summary>
    public static string Trend(IReadOnlyList<double> values)
    {
        bool falls = true, rises = true;
        for (int index = 1; index < values.Count; index++)
        {
            falls &= values[index] < values[index - 1];
            rises &= values[index] > values[index - 1];
        }
        return values.Count < 2 ? "is one value" : falls ? "falls" : rises ? "rises" : "is not monotone";
    }

    private static IEnumerable<(string Target, int[] Counts)> OffDiagonal(string source, IReadOnlyDictionary<string, int[]> discordant) =>
        discordant.Where(cell => cell.Key != source).Select(cell => (cell.Key, cell.Value));

    private static ClaimComparison Paired(string group, string source, string target, int items, int[] counts) =>
        new(group, $"{source} -> {target}", items, counts[0], counts[1]);

    private static double PaperNoiseRate(MagnifiedRow row, string target)
    {
        // Fooled by the paper's noise on the row's images = fooled by both + fooled by the noise only.
        int bothOrExamplesOnly = row.Fooled[target];
        int[] counts = row.StddevDiscordant[target];
        int noiseFooled = bothOrExamplesOnly - counts[0] + counts[1];
        return row.Counts[target] == 0 ? 0 : (double)noiseFooled / row.Counts[target];
    }

    private static (string Source, IReadOnlyList<long> Indices, IReadOnlyDictionary<string, bool[]> Outcomes) Find(
        IReadOnlyList<(string Source, IReadOnlyList<long> Indices, IReadOnlyDictionary<string, bool[]> Outcomes)> rows, string source)
    {
        foreach (var row in rows)
        {
            if (row.Source == source)
            {
                return row;
            }
        }
        throw new ArgumentException($"'{source}' is not a row of the matrix", nameof(source));
    }

    /// <summary>Positions (in the first list, in the second) of the images both lists hold.</summary>
    private static List<(int First, int Second)> SharedImages(IReadOnlyList<long> first, IReadOnlyList<long> second)
    {
        var positions = new Dictionary<long, int>();
        for (int position = 0; position < second.Count; position++)
        {
            positions[second[position]] = position;
        }
        var shared = new List<(int, int)>();
        for (int position = 0; position < first.Count; position++)
        {
            if (positions.TryGetValue(first[position], out int other))
            {
                shared.Add((position, other));
            }
        }
        return shared;
    }

    private static string Outcome(ClaimTest test, string passes, string opposite, string neither) => test.Result switch
    {
        ComparisonResult.Passes => passes,
        ComparisonResult.Opposite => opposite,
        _ => neither,
    };

    private static string Paper(double? paper) => paper is double value ? $" (paper {Percent(value)})" : "";

}
