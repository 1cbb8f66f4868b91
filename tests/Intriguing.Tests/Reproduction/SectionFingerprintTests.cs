using Intriguing.Attacks;
using Intriguing.Reproduction;

namespace Intriguing.Tests.Reproduction;

/// <summary>A kept study section is keyed on every setting that changes it.</summary>
public class SectionFingerprintTests
{
    private static readonly ReproductionSettings Settings = new("out", Seed: 0, Quick: true);

    [Fact]
    public void Changing_an_lbfgs_setting_changes_the_key_so_the_section_is_computed_again()
    {
        var plain = ReproductionRun.SectionFingerprint(new Table1Study(100), Settings);
        var same = ReproductionRun.SectionFingerprint(new Table1Study(100, new BoxConstrainedLbfgs()), Settings);
        var changed = ReproductionRun.SectionFingerprint(new Table1Study(100, new BoxConstrainedLbfgs { MaxIterations = 39 }), Settings);
        Assert.Equal(plain, same);
        Assert.NotEqual(plain, changed);
        Assert.Equal(plain, ReproductionRun.SectionFingerprint(new Table1Study(100, restarts: Table1Study.DefaultRestarts), Settings));
        Assert.NotEqual(plain, ReproductionRun.SectionFingerprint(new Table1Study(100, restarts: new(20, 4)), Settings));
        Assert.NotEqual(
            ReproductionRun.SectionFingerprint(new Table3Study(100), Settings),
            ReproductionRun.SectionFingerprint(new Table3Study(100, new BoxConstrainedLbfgs { History = 8 }), Settings));

        var cache = new StudyResultCache(Path.Combine(Path.GetTempPath(), "intriguing-fingerprint-" + Guid.NewGuid().ToString("N")));
        cache.Store(plain, new Intriguing.Reporting.ReportSection("table1", "Table 1", "prose"));
        Assert.NotNull(cache.TryLoad("table1", plain));
        Assert.Null(cache.TryLoad("table1", changed));
    }

    [Fact]
    public void The_device_dataset_seed_and_quick_flag_are_part_of_the_key()
    {
        var study = new AttacksStudy(100);
        var baseline = ReproductionRun.SectionFingerprint(study, Settings);
        Assert.NotEqual(baseline, ReproductionRun.SectionFingerprint(study, Settings with { Dataset = "fashion-mnist" }));
        Assert.NotEqual(baseline, ReproductionRun.SectionFingerprint(study, Settings with { Seed = 1 }));
        Assert.NotEqual(baseline, ReproductionRun.SectionFingerprint(study, Settings with { Quick = false }));
        Assert.Contains("device=cpu", baseline);
        // The build of the code is in the key: a section kept by another build (a bug fixed since) is never read back.
        Assert.Contains(typeof(IStudy).Assembly.ManifestModule.ModuleVersionId.ToString("N"), baseline);
        Assert.Contains(ReproductionRun.CodeVersion, baseline);
        Assert.Contains(new PgdLinf().Describe(), baseline);
    }
}
