using Intriguing.Reporting;
using Intriguing.Reproduction;

namespace Intriguing.Tests.Reproduction;

public class ReproductionShardsTests
{
    private sealed class NamedStudy(string key) : IStudy
    {
        public string Key => key;

        public string Fingerprint => "";

        public ReportSection Run(StudyContext context) => new(key, key, "");
    }

    private static readonly IReadOnlyList<IStudy> Studies =
        [.. new[] { "table1", "table2", "table3", "table4", "attacks", "units", "spectral", AdversarialTrainingStudy.StudyKey }.Select(key => new NamedStudy(key))];

    private static IReadOnlyList<AdversarialTrainingStudy.Arm> Arms(bool quick) =>
        AdversarialTrainingStudy.ForRun(AdversarialTrainingStudy.DefaultArms, quick, seed: 0);

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(7, false)]
    [InlineData(40, true)]
    public void Every_study_and_arm_belongs_to_exactly_one_shard(int count, bool quick)
    {
        var plan = ReproductionShards.Plan(Studies, Arms(quick), count);

        Assert.Equal(count, plan.Count);
        Assert.Equal(Studies.Select(study => study.Key).Order(), plan.SelectMany(work => work.Studies).Order());
        Assert.Equal(Arms(quick).Select(arm => arm.Name).Order(), plan.SelectMany(work => work.Arms).Order());
        // Each shard keeps the run's order within its share, and computes the same plan from its index alone.
        Assert.All(plan, work => Assert.Equal(Studies.Select(study => study.Key).Where(work.Studies.Contains), work.Studies));
        Assert.Equal(plan, ReproductionShards.Plan(Studies, Arms(quick), count), new WorkComparer());
    }

    [Fact]
    public void Two_shards_share_the_full_run_by_estimated_cost()
    {
        var arms = Arms(quick: false);
        var plan = ReproductionShards.Plan(Studies, arms, 2);
        double Load(ShardWork work) =>
            work.Studies.Sum(key => ReproductionShards.StudySeconds[key]) + arms.Where(arm => work.Arms.Contains(arm.Name)).Sum(ReproductionShards.ArmSeconds);

        double total = Load(plan[0]) + Load(plan[1]);
        // Longest first to the lighter shard: within the largest unit (the convnet arm, 350 s) of an even split.
        Assert.InRange(Math.Abs(Load(plan[0]) - Load(plan[1])), 0, 350);
        Assert.Equal(total, Studies.Sum(study => ReproductionShards.StudySeconds[study.Key]) + arms.Sum(ReproductionShards.ArmSeconds), 6);
        Assert.Contains(AdversarialTrainingStudy.ConvArm, plan[0].Arms);
    }

    [Fact]
    public void A_kept_section_serialises_and_reads_back_only_as_itself()
    {
        var section = new ReportSection("table2", "Table 2", "prose")
        {
            Tables = [new ReportTable("caption", ["model", ReportCell.Ours("ours")], [["fc10-1e-4", ReportCell.Paper("7.40%")]])],
            Claims = [new ReportClaim("2a", "a claim", ReportVerdict.Holds, "because")],
        };
        string json = StudyResultCache.Serialize("fp", section);

        var back = StudyResultCache.Deserialize(json, "table2", "fp");
        Assert.Equal(StudyResultCache.Serialize("fp", back), json);
        Assert.Contains("not table3", Assert.Throws<BadInputException>(() => StudyResultCache.Deserialize(json, "table3", "fp")).Message);
        Assert.Throws<BadInputException>(() => StudyResultCache.Deserialize(json, "table2", "other"));
        Assert.Contains("cannot be read", Assert.Throws<BadInputException>(() => StudyResultCache.Deserialize(json[..20], "table2", "fp")).Message);
    }

    private sealed class WorkComparer : IEqualityComparer<ShardWork>
    {
        public bool Equals(ShardWork? x, ShardWork? y) => x!.Arms.SequenceEqual(y!.Arms) && x.Studies.SequenceEqual(y.Studies);

        public int GetHashCode(ShardWork obj) => obj.Studies.Count;
    }
}
