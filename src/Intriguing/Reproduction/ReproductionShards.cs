using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>What one shard of a split <c>reproduce</c> does: the adversarial-training arms it trains first, then the studies it runs.</summary>
/// <param name="Arms">Arm names (<see cref="AdversarialTrainingStudy.Arm.Name"/>), in the run's order.</param>
/// <param name="Studies">Study keys, in report order.</param>
public sealed record ShardWork(IReadOnlyList<string> Arms, IReadOnlyList<string> Studies);

/// <summary>
/// One shard's part of a split <c>reproduce</c>: the sections of the studies it ran (each as the section cache keeps it,
/// with its fingerprint and, for a study that failed, why), their wall times, the arms it trained, the data it
/// ran on, when it started, its seconds, its peak memory and the models it used.
/// </summary>
public sealed record ReproductionPart(
    IReadOnlyList<ReproductionPart.Section> Sections,
    IReadOnlyList<StudyWallTime> WallTimes,
    IReadOnlyList<string> Arms,
    string DataOrigin,
    DateTimeOffset Started,
    double Seconds,
    long PeakMemoryBytes)
{
    /// <summary>
    /// The models the part's work used ("NAME (split)" for the zoo's, "arm NAME" for the arms it trained) with the SHA-256
    /// of each file (<see cref="Sharding.ShardParts.Fingerprint"/>): what its manifest records.
    /// </summary>
    public IReadOnlyDictionary<string, string> Models { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// A study's section as kept (<see cref="StudyResultCache.Serialize"/>), under its fingerprint; <paramref name="Failure"/>
    /// is the one-line reason when the study failed (its section then says it did not run).
    /// </summary>
    public sealed record Section(string Key, string Fingerprint, string Json, string? Failure = null);

    /// <summary>The units of work the part covered: its arms (<c>arm:NAME</c>) and studies (<c>study:KEY</c>).</summary>
    public IReadOnlyList<string> Units => [.. Arms.Select(arm => "arm:" + arm), .. Sections.Select(section => "study:" + section.Key)];
}

/// <summary>
/// How <c>reproduce --shard i/n</c> divides a run: its units of work are the studies and the adversarial-training arms
/// (each arm trained, evaluated and cached as one job), dealt to the shards by estimated cost, longest first, each to
/// the shard with the least work so far (ties to the lower index). The plan depends only on the run's studies and arms
/// and n, so every shard computes the same plan from its index alone. A zoo model is trained by the first shard that
/// needs it, under the model store's lock; with a shared <c>$INTRIGUING_HOME</c> the others wait and read it back.
/// </summary>
public static class ReproductionShards
{
    /// <summary>
    /// Seconds each study takes on a 2-core CPU in a full run (measured from an empty cache, its arms aside for the
    /// adversarial-training study): only used to balance the plan.
    /// </summary>
    public static IReadOnlyDictionary<string, double> StudySeconds { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["table1"] = 241,
        ["table2"] = 13,
        ["table3"] = 73,
        ["table4"] = 3,
        ["attacks"] = 7,
        ["units"] = 14,
        ["spectral"] = 254,
        [AdversarialTrainingStudy.StudyKey] = 60,
    };

    /// <summary>The estimated seconds of an arm: a convnet arm's training and masking checks cost about three fc100-100-10 arms.</summary>
    public static double ArmSeconds(AdversarialTrainingStudy.Arm arm)
    {
        ArgumentNullException.ThrowIfNull(arm);
        return arm.Settings.Model == AdversarialTrainingStudy.Conv ? (arm.ExtendedOnly ? 600 : 350) : 110;
    }

    /// <summary>The adversarial-training arms a run of <paramref name="studies"/> with <paramref name="settings"/> trains (none without that study).</summary>
    public static IReadOnlyList<AdversarialTrainingStudy.Arm> ArmsOf(IReadOnlyList<IStudy> studies, ReproductionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(studies);
        ArgumentNullException.ThrowIfNull(settings);
        var training = studies.OfType<AdversarialTrainingStudy>().FirstOrDefault();
        return training is null ? [] : AdversarialTrainingStudy.ForRun(AdversarialTrainingStudy.DefaultArms, settings.Quick, settings.Seed, training.Extended);
    }

    /// <summary>The work of each of <paramref name="count"/> shards (index i is shard i's).</summary>
    public static IReadOnlyList<ShardWork> Plan(IReadOnlyList<IStudy> studies, IReadOnlyList<AdversarialTrainingStudy.Arm> arms, int count)
    {
        ArgumentNullException.ThrowIfNull(studies);
        ArgumentNullException.ThrowIfNull(arms);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var units = studies.Select((study, order) => (Study: true, Name: study.Key, Order: order, Seconds: StudySeconds.GetValueOrDefault(study.Key, 60)))
            .Concat(arms.Select((arm, order) => (Study: false, Name: arm.Name, Order: studies.Count + order, Seconds: ArmSeconds(arm))))
            .OrderByDescending(unit => unit.Seconds).ThenBy(unit => unit.Order)
            .ToList();
        var load = new double[count];
        var owner = new Dictionary<(bool, string), int>();
        foreach (var unit in units)
        {
            int lightest = 0;
            for (int shard = 1; shard < count; shard++)
            {
                lightest = load[shard] < load[lightest] ? shard : lightest;
            }
            load[lightest] += unit.Seconds;
            owner[(unit.Study, unit.Name)] = lightest;
        }
        return [.. Enumerable.Range(0, count).Select(shard => new ShardWork(
            [.. arms.Where(arm => owner[(false, arm.Name)] == shard).Select(arm => arm.Name)],
            [.. studies.Where(study => owner[(true, study.Key)] == shard).Select(study => study.Key)]))];
    }
}
