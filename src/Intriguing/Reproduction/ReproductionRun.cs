using System.Diagnostics;
using Intriguing.Data;
using Intriguing.Models;
using Intriguing.Reporting;

namespace Intriguing.Reproduction;

/// <summary>Settings of one <c>reproduce</c> run.</summary>
public sealed record ReproductionSettings(string OutDir, int Seed = 0, bool Quick = false, string Dataset = "mnist", string? DataDir = null, string CommandLine = "intriguing reproduce", string Device = "cpu");

/// <summary>What a run produced: the report, where it was written, and which studies were read back from a previous run.</summary>
public sealed record ReproductionResult(Report Report, ReportFiles Files, IReadOnlyList<string> ResumedStudies);

/// <summary>
/// Runs the studies in order and writes the report. Each finished section is kept (see <see cref="StudyResultCache"/>),
/// so a run that was interrupted resumes where it stopped; models are cached by the model store.
/// </summary>
public static class ReproductionRun
{
    public const string Title = "Intriguing properties of neural networks: the paper's numbers beside ours";

    public static ReproductionResult Run(ReproductionSettings settings, IReadOnlyList<IStudy> studies, IProgress<ProgressUpdate>? progress = null)
    {
        var device = ComputeDevice.Parse(settings.Device);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        TorchSharp.torch.random.manual_seed(settings.Seed);
        using var data = ImageDataset.Load(settings.Dataset, settings.DataDir, progress);
        using var context = new StudyContext(data, settings.Seed, settings.Quick, progress, device);
        var cache = new StudyResultCache(Path.Combine(settings.OutDir, ".results"));
        var sections = new List<ReportSection>();
        var resumed = new List<string>();
        for (int index = 0; index < studies.Count; index++)
        {
            var study = studies[index];
            string fingerprint = SectionFingerprint(study, settings);
            progress?.Report(new ProgressUpdate("studies", index, studies.Count, study.Key));
            var section = cache.TryLoad(study.Key, fingerprint);
            if (section is null)
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                section = study.Run(context);
                cache.Store(fingerprint, section);
            }
            else
            {
                resumed.Add(study.Key);
            }
            sections.Add(section);
        }
        progress?.Report(new ProgressUpdate("studies", studies.Count, studies.Count));
        var environment = ReportEnvironment.Capture(settings.Seed, settings.Quick, clock.Elapsed, settings.CommandLine, started);
        var report = new Report(Title, environment, sections);
        var files = ReportWriter.WriteAll(report, settings.OutDir);
        return new ReproductionResult(report, files, resumed);
    }

    /// <summary>
    /// Everything a study's section depends on: the study's own settings (its attacks' settings among them), the seed,
    /// quick or not, the dataset, the device, and the recipes that trained the zoo's models. A kept section is read
    /// back only under the same fingerprint; change any of these and the study runs again.
    /// </summary>
    public static string SectionFingerprint(IStudy study, ReproductionSettings settings)
    {
        string recipes = string.Join(";", ModelZoo.All.SelectMany(spec =>
            new[] { Split.Train, Split.P1, Split.P2 }.Select(split => spec.RecipeFor(split, settings.Quick, null).Describe())));
        string device = ComputeDevice.Parse(settings.Device).ToString();
        return $"{study.Key}|{study.Fingerprint}|seed={settings.Seed}|quick={settings.Quick}|dataset={settings.Dataset}|device={device}|recipes={recipes}";
    }
}
