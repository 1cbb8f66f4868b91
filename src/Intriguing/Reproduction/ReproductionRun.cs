using System.Diagnostics;
using Intriguing.Data;
using Intriguing.IO;
using Intriguing.Models;
using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>Settings of one <c>reproduce</c> run. <see cref="Dataset"/> is mnist, fashion-mnist or folder:PATH, resized to <see cref="Resize"/> when given.</summary>
public sealed record ReproductionSettings(string OutDir, int Seed = 0, bool Quick = false, string Dataset = "mnist", string? DataDir = null, string CommandLine = "intriguing reproduce", string Device = "cpu", ImageSize? Resize = null);

/// <summary>What a run produced: the report, where it was written, and which studies were read back from a previous run.</summary>
public sealed record ReproductionResult(Report Report, ReportFiles Files, IReadOnlyList<string> ResumedStudies)
{
    /// <summary>The studies that failed, each with its one-line reason; their sections say so and list their claims as not run.</summary>
    public IReadOnlyList<(string Key, string Reason)> FailedStudies { get; init; } = [];
}

/// <summary>
/// Runs the studies in order and writes the report. Each finished section is kept (see <see cref="StudyResultCache"/>),
/// so a run that was interrupted resumes where it stopped; models are cached by the model store.
/// </summary>
public static class ReproductionRun
{
    /// <summary>
    /// The start of the progress task of each study (<c>study table1</c>, ...): 0 of 1 when the study starts (detail: its
    /// title), 1 of 1 when it ends (detail: "done in 12.3 s", "read back in 80 ms" or "failed in ..."). Every other task
    /// reported between the two is the study's own work (training, attacks), so a display can show it beneath the study.
    /// </summary>
    public const string StudyTaskPrefix = "study ";

    /// <summary>The report's title.</summary>
    public const string Title = "Intriguing properties of neural networks: the paper's numbers beside ours";

    /// <summary>
    /// Runs <paramref name="studies"/> (reading back those a previous run of the same code and settings finished) and
    /// writes the report into <see cref="ReproductionSettings.OutDir"/>, which is checked first: a folder that cannot be
    /// written is a <see cref="BadInputException"/> before any work. <paramref name="beforeStudy"/>, when given, is called
    /// with a study's key just before that study runs (not when it is read back): the command line starts its helper
    /// processes there.
    /// </summary>
    public static ReproductionResult Run(ReproductionSettings settings, IReadOnlyList<IStudy> studies, IProgress<ProgressUpdate>? progress = null,
        Action<string>? beforeStudy = null)
    {
        PathChecks.WritableFolder(settings.OutDir, "report folder");
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var run = RunStudies(settings, studies, progress, beforeStudy, beforeStudies: null);
        var environment = ReportEnvironment.Capture(settings.Seed, settings.Quick, clock.Elapsed, settings.CommandLine, started,
            ComputeDevice.Parse(settings.Device).ToString(), run.DataOrigin) with
        { StudyWallTimes = run.WallTimes };
        var report = new Report(Title, environment, run.Sections);
        return new ReproductionResult(report, WriteReport(report, settings.OutDir, progress), run.Resumed) { FailedStudies = run.Failed };
    }

    /// <summary>
    /// One shard's share of a run split over processes or cluster jobs (see <see cref="ReproductionShards"/>): trains and
    /// evaluates the adversarial-training arms <paramref name="shard"/> owns into the model cache, then runs the studies it
    /// owns (keeping their sections in <see cref="ReproductionSettings.OutDir"/>'s <c>.results</c> as a whole run does),
    /// and returns them as a part for <see cref="Merge"/>; writes no report. Studies another shard owns are not run.
    /// </summary>
    public static ReproductionPart RunPart(ReproductionSettings settings, IReadOnlyList<IStudy> studies, Sharding.Shard shard, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(studies);
        ArgumentNullException.ThrowIfNull(shard);
        PathChecks.WritableFolder(settings.OutDir, "report folder");
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var training = studies.OfType<AdversarialTrainingStudy>().FirstOrDefault();
        var work = ReproductionShards.Plan(studies, ReproductionShards.ArmsOf(studies, settings), shard.Count)[shard.Index];
        var mine = studies.Where(study => work.Studies.Contains(study.Key, StringComparer.Ordinal)).ToList();
        var armFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        var run = RunStudies(settings, mine, progress, beforeStudy: null, beforeStudies: data =>
        {
            if (work.Arms.Count > 0)
            {
                var trained = AdversarialTrainingStudy.TrainArms(data, work.Arms, settings.Seed, settings.Quick, training?.Extended ?? false, progress, ComputeDevice.Parse(settings.Device));
                for (int arm = 0; arm < trained.Count; arm++)
                {
                    armFiles[$"arm {work.Arms[arm]}"] = trained[arm].Path;
                }
            }
        });
        var fingerprints = run.ModelFiles.Concat(armFiles).ToDictionary(pair => pair.Key, pair => Sharding.ShardParts.Fingerprint(pair.Value), StringComparer.Ordinal);
        return new ReproductionPart(
            [.. run.Sections.Select((section, index) => new ReproductionPart.Section(section.Key, run.Fingerprints[index], StudyResultCache.Serialize(run.Fingerprints[index], section),
                run.Failed.Where(failure => failure.Key == section.Key).Select(failure => failure.Reason).FirstOrDefault()))],
            run.WallTimes, work.Arms, run.DataOrigin, started,
            Math.Round(clock.Elapsed.TotalSeconds, 3), ReportEnvironment.PeakMemory())
        { Models = fingerprints };
    }

    /// <summary>
    /// The report of a run split into <paramref name="parts"/> (every shard's part, checked to be one run by the caller):
    /// the sections in the order of <paramref name="studies"/>, each exactly as the shard that ran it kept it, so the
    /// report's numbers, tables and figures are those of one unsplit run. The environment is the merging process's, with
    /// the parts' study times, the earliest start, the parts' seconds summed (compute time, not wall time) and the
    /// largest peak memory of any part. Writes the report into <paramref name="settings"/>'s <see cref="ReproductionSettings.OutDir"/>.
    /// </summary>
    /// <exception cref="BadInputException">A study no part holds, or a section that cannot be read.</exception>
    public static ReproductionResult Merge(IReadOnlyList<ReproductionPart> parts, IReadOnlyList<IStudy> studies, ReproductionSettings settings,
        IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(studies);
        PathChecks.WritableFolder(settings.OutDir, "--out");
        var sections = new List<ReportSection>();
        var wallTimes = new List<StudyWallTime>();
        var failed = new List<(string Key, string Reason)>();
        foreach (var study in studies)
        {
            string fingerprint = SectionFingerprint(study, settings);
            var holder = parts.FirstOrDefault(part => part.Sections.Any(section => section.Key == study.Key))
                ?? throw new BadInputException($"merge: no part holds the study {study.Key}");
            var kept = holder.Sections.First(section => section.Key == study.Key);
            if (kept.Fingerprint != fingerprint)
            {
                throw new BadInputException($"merge: the part holding the study {study.Key} computed it with other settings or another build (fingerprint differs)");
            }
            sections.Add(StudyResultCache.Deserialize(kept.Json, study.Key, fingerprint));
            wallTimes.Add(holder.WallTimes.FirstOrDefault(time => time.Study == study.Key)
                ?? throw new BadInputException($"merge: the part holding the study {study.Key} does not give its time"));
            if (kept.Failure is { } failure)
            {
                failed.Add((study.Key, failure));
            }
        }
        var environment = ReportEnvironment.Capture(settings.Seed, settings.Quick, TimeSpan.FromSeconds(parts.Sum(part => part.Seconds)), settings.CommandLine,
            parts.Min(part => part.Started), ComputeDevice.Parse(settings.Device).ToString(), parts[0].DataOrigin) with
        {
            StudyWallTimes = wallTimes,
            PeakMemoryBytes = parts.Max(part => part.PeakMemoryBytes),
        };
        var report = new Report(Title, environment, sections);
        return new ReproductionResult(report, WriteReport(report, settings.OutDir, progress), []) { FailedStudies = failed };
    }

    private sealed record StudiesRun(List<ReportSection> Sections, List<string> Fingerprints, List<string> Resumed, List<(string Key, string Reason)> Failed,
        List<StudyWallTime> WallTimes, string DataOrigin)
    {
        public IReadOnlyDictionary<string, string> ModelFiles { get; set; } = new Dictionary<string, string>();
    }

    private static StudiesRun RunStudies(ReproductionSettings settings, IReadOnlyList<IStudy> studies, IProgress<ProgressUpdate>? progress,
        Action<string>? beforeStudy, Action<ImageDataset>? beforeStudies)
    {
        var device = ComputeDevice.Parse(settings.Device);
        TorchSharp.torch.random.manual_seed(settings.Seed);
        using var data = ImageDataset.Load(DatasetChoice.Parse(settings.Dataset, settings.Resize), settings.DataDir, progress);
        // The zoo takes 28x28 grey images of 10 classes and trains on the training split: other data is refused before any study.
        data.CheckFits(InputSpace.Mnist, "the paper's zoo");
        data.RequireTraining("reproduce (it trains the paper's zoo)");
        beforeStudies?.Invoke(data);
        using var context = new StudyContext(data, settings.Seed, settings.Quick, progress, device);
        var cache = new StudyResultCache(Path.Combine(settings.OutDir, ".results"));
        var run = new StudiesRun([], [], [], [], [], data.Origin);
        for (int index = 0; index < studies.Count; index++)
        {
            var study = studies[index];
            string fingerprint = SectionFingerprint(study, settings);
            progress?.Report(new ProgressUpdate("studies", index, studies.Count, study.Key));
            string studyTask = StudyTaskPrefix + study.Key;
            progress?.Report(new ProgressUpdate(studyTask, 0, 1, study.Title));
            var studyClock = Stopwatch.StartNew();
            bool studyResumed = false;
            bool studyFailed = false;
            // Another run sharing this folder may be computing this very section: wait for it, then read it back.
            using (cache.Lock(study.Key, fingerprint, progress))
            {
                var section = cache.TryLoad(study.Key, fingerprint, progress);
                if (section is null)
                {
                    using var scope = TorchSharp.torch.NewDisposeScope();
                    beforeStudy?.Invoke(study.Key);
                    (section, string? failure) = Attempt(study, () => study.Run(context), progress);
                    if (failure is null)
                    {
                        cache.Store(fingerprint, section);
                    }
                    else
                    {
                        // Not kept: the study runs again next time.
                        run.Failed.Add((study.Key, failure));
                        studyFailed = true;
                    }
                }
                else
                {
                    run.Resumed.Add(study.Key);
                    studyResumed = true;
                }
                run.Sections.Add(section);
                run.Fingerprints.Add(fingerprint);
            }
            var seconds = Math.Round(studyClock.Elapsed.TotalSeconds, 3);
            run.WallTimes.Add(new StudyWallTime(study.Key, seconds, studyResumed, studyFailed));
            string outcome = studyFailed ? "failed" : studyResumed ? "read back" : "done";
            progress?.Report(new ProgressUpdate(studyTask, 1, 1, $"{outcome} in {ReportFormat.Duration(studyClock.Elapsed)}"));
        }
        progress?.Report(new ProgressUpdate("studies", studies.Count, studies.Count));
        run.ModelFiles = context.ModelFiles;
        return run;
    }

    private static ReportFiles WriteReport(Report report, string outDir, IProgress<ProgressUpdate>? progress)
    {
        // Two runs writing one folder take turns, so the figures and the three report files all come from one of them.
        using (FileLock.Acquire(Path.Combine(outDir, ".results", ".report.lock"), $"writing the report in {outDir}", progress))
        {
            return ReportWriter.WriteAll(report, outDir);
        }
    }

    /// <summary>
    /// <paramref name="run"/>'s section, or when it throws, the section of a study that did not run
    /// (<see cref="ReportSection.NotRun"/>: its planned claims "not run") and the one-line reason. Bad input still stops
    /// the run (exit 2), as do cancellation and running out of memory; anything else fails this study only, so the report
    /// still comes out.
    /// </summary>
    internal static (ReportSection Section, string? Failure) Attempt(IStudy study, Func<ReportSection> run, IProgress<ProgressUpdate>? progress = null)
    {
        try
        {
            return (run(), null);
        }
        catch (Exception error) when (error is not (BadInputException or OperationCanceledException or OutOfMemoryException))
        {
            string reason = OneLine(error.Message);
            progress?.Report(ProgressUpdate.Warning($"study {study.Key}", $"failed: {reason}"));
            return (ReportSection.NotRun(study.Key, study.Title, reason, study.PlannedClaims), reason);
        }
    }

    private static string OneLine(string message)
    {
        string line = string.Join(' ', (message ?? "").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length == 0 ? "an error without a message" : line.TrimEnd('.');
    }

    /// <summary>
    /// Everything a study's section depends on: the study's own settings (its attacks' settings among them), the seed,
    /// quick or not, the dataset, the device, the recipes that trained the zoo's models, and the code that computed it
    /// (<see cref="CodeVersion"/>). A kept section is read back only under the same fingerprint; change any of these
    /// and the study runs again.
    /// </summary>
    public static string SectionFingerprint(IStudy study, ReproductionSettings settings)
    {
        string recipes = string.Join(";", ModelZoo.All.SelectMany(spec =>
            new[] { Split.Train, Split.P1, Split.P2 }.Select(split => spec.RecipeFor(split, settings.Quick, null).Describe())));
        string device = ComputeDevice.Parse(settings.Device).ToString();
        return $"{study.Key}|{study.Fingerprint}|seed={settings.Seed}|quick={settings.Quick}|dataset={settings.Dataset}{(settings.Resize is { } size ? $"-r{size}" : "")}|device={device}|recipes={recipes}|code={CodeVersion}";
    }

    /// <summary>
    /// The build of the code that computes the sections: the module version id of this library, which the compiler
    /// derives from the compiled code (so any change to any study, attack or writer changes it, committed or not, and
    /// nothing else does), and the TorchSharp that runs it. A section is reused only by the build that wrote it, which is
    /// what resuming an interrupted run needs; no study author has a number to remember to bump, so a fixed bug can
    /// never come back from a kept section.
    /// </summary>
    public static string CodeVersion { get; } =
        $"{typeof(ReproductionRun).Assembly.GetName().Name} build {typeof(ReproductionRun).Assembly.ManifestModule.ModuleVersionId:N}, " +
        $"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}";
}
