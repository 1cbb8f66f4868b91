using System.Diagnostics;
using System.Globalization;
using Intriguing.Data;
using Intriguing.Reporting;
using Intriguing.Statistics;
using Intriguing.Training;
using Intriguing.Training.Adversarial;
using static Intriguing.Training.Adversarial.AdversarialVerdicts;

namespace Intriguing.Reproduction;

/// <summary>
/// Section 4.3 and the methods that followed it: fc100-100-10 trained with the paper's per-layer pools, dropout, FGSM
/// (Goodfellow et al.) and PGD (Madry et al.) beside the zoo's weight-decay model, the pool ablation (input only, hidden
/// only, all layers), and <c>conv</c> trained adversarially; every model evaluated the same way
/// (<see cref="RobustnessEvaluation"/>), one line per claim saying whether our run agrees. The work is
/// <see cref="AdversarialTraining.Run"/> (it trains, caches the model under its variant and its evaluation next to it);
/// this class only runs it once per <see cref="Arm"/> and writes the section.
/// </summary>
public sealed class AdversarialTrainingStudy(IReadOnlyList<AdversarialTrainingStudy.Arm>? arms = null, bool extended = false) : IStudy
{
    /// <summary>
    /// One trained model of the study: a name the claims refer to (<see cref="PoolArm"/>, ...), what the table shows,
    /// the training settings (seed and quick are the run's), the evaluation, and whether the quick run trains it too.
    /// </summary>
    public sealed record Arm(string Name, string Label, AdversarialTrainingSettings Settings, EvaluationSettings Evaluation, bool InQuick)
    {
        /// <summary>Trained only by an extended run (<c>reproduce --extended</c>): an arm at a later paper's full scale, whose claim falls back on a cheaper arm without it.</summary>
        public bool ExtendedOnly { get; init; }
    }

    /// <summary>What <c>--extended</c> adds, measured on the 2-core reference machine: the Madry-style PGD-trained convnet, training and evaluation.</summary>
    public const string ExtendedCost = "about 10 minutes on 2 CPU cores (603 s measured: 325 s training, 253 s masking checks)";

    /// <summary>The paper's MLP, the model most arms train.</summary>
    public const string Fc100 = "fc100-100-10";
    /// <summary>The zoo's convnet, for the conv arms.</summary>
    public const string Conv = "conv";

    /// <summary>Arm: fc100-100-10 with dropout, the paper's baseline.</summary>
    public const string DropoutArm = "dropout";
    /// <summary>Arm: the paper's adversarial pools on every layer.</summary>
    public const string PoolArm = "pool";
    /// <summary>Arm: pools on the input layer only (ablation).</summary>
    public const string PoolInputArm = "pool-input";
    /// <summary>Arm: pools on the hidden layers only (ablation).</summary>
    public const string PoolHiddenArm = "pool-hidden";
    /// <summary>Arm: FGSM training (Goodfellow et al.).</summary>
    public const string FgsmArm = "fgsm";
    /// <summary>Arm: PGD training (Madry et al.).</summary>
    public const string PgdArm = "pgd";
    /// <summary>Arm: the convnet with FGSM and a random start.</summary>
    public const string ConvArm = "conv-fgsm-rs";
    /// <summary>Arm: pools of examples made afresh on every batch.</summary>
    public const string PoolFreshArm = "pool-fresh";
    /// <summary>Arm: FGSM training at the small eps 0.05.</summary>
    public const string FgsmSmallArm = "fgsm-0.05";
    /// <summary>Arm: the convnet with PGD training.</summary>
    public const string ConvPgdArm = "conv-pgd";

    // The gradient-masking checks (PGD-40 with restarts, transfer from the natural model) run for fgsm, pgd and pool arms.

    /// <summary>fc100-100-10 is cheap to attack: every measurement on its full count.</summary>
    public static readonly EvaluationSettings FullEvaluation = new(RobustCount: 10_000, LbfgsCount: 1000, MaskingCount: 1000);

    /// <summary>conv's PGD-40 on 10,000 images takes several minutes per eps: the first 1,000, L-BFGS on 200.</summary>
    public static readonly EvaluationSettings ConvEvaluation = new(RobustCount: 1000, LbfgsCount: 200, MaskingCount: 1000);

    /// <summary><c>reproduce --quick</c>: a smoke run, one epoch per arm, small attack counts (the clean error stays on all 10,000).</summary>
    public static readonly EvaluationSettings QuickEvaluation = new(RobustCount: 200, LbfgsCount: 20, MaskingCount: 50, MaskingRestarts: 2);

    /// <summary>Epochs of every arm in a quick run.</summary>
    public const int QuickEpochs = 1;

    /// <summary>
    /// The arms of <c>reproduce</c>, all at the run's seed. Epochs null = the zoo recipe's (30 for fc100-100-10).
    /// Change settings here; the claims find arms by <see cref="Arm.Name"/>.
    /// </summary>
    public static readonly IReadOnlyList<Arm> DefaultArms =
    [
        new(DropoutArm, "dropout (input 0.2, last hidden 0.5)",
            new AdversarialTrainingSettings { Model = Fc100, Method = AdversarialMethod.Dropout }, FullEvaluation, InQuick: true),
        new(PoolArm, "pools at layers 0, 1, 2 (the paper's)",
            new AdversarialTrainingSettings { Model = Fc100, Method = AdversarialMethod.Pool, Pool = new PoolTrainingOptions() }, FullEvaluation, InQuick: true),
        new(PoolInputArm, "pool at layer 0 only (input)",
            new AdversarialTrainingSettings { Model = Fc100, Method = AdversarialMethod.Pool, Pool = new PoolTrainingOptions { Layers = [0] } }, FullEvaluation, InQuick: false),
        new(PoolHiddenArm, "pools at layers 1, 2 only (hidden)",
            new AdversarialTrainingSettings { Model = Fc100, Method = AdversarialMethod.Pool, Pool = new PoolTrainingOptions { Layers = [1, 2] } }, FullEvaluation, InQuick: false),
        new(FgsmArm, "FGSM training, eps 0.25 (Goodfellow's)",
            new AdversarialTrainingSettings { Model = Fc100, Method = AdversarialMethod.Fgsm, Epsilon = 0.25 }, FullEvaluation, InQuick: true),
        new(PgdArm, "PGD-10 training, eps 0.1 (shorter than Madry's PGD-40 at 0.3)",
            new AdversarialTrainingSettings { Model = Fc100, Method = AdversarialMethod.Pgd, Epsilon = 0.1, Steps = 10 }, FullEvaluation, InQuick: false),
        new(PoolFreshArm, "pool at layer 0 filled by PGD (eps 0.1), refreshed every batch (capacity 200, half replaced, mix 0.5)",
            new AdversarialTrainingSettings
            {
                Model = Fc100,
                Method = AdversarialMethod.Pool,
                Pool = new PoolTrainingOptions
                {
                    Layers = [0],
                    Capacity = 200,
                    ReplaceFraction = 0.5,
                    RefreshInterval = 1,
                    MixRatio = 0.5,
                    Attack = new Attacks.PgdLinf { Epsilon = 0.1, StepSize = 0.025, Steps = 10, RandomStart = false },
                },
            }, FullEvaluation, InQuick: false),
        new(FgsmSmallArm, "FGSM training, eps 0.05",
            new AdversarialTrainingSettings { Model = Fc100, Method = AdversarialMethod.Fgsm, Epsilon = 0.05 }, FullEvaluation, InQuick: false),
        new(ConvArm, "FGSM training with random start, eps 0.15, 3 epochs",
            new AdversarialTrainingSettings { Model = Conv, Method = AdversarialMethod.Fgsm, Epsilon = 0.15, RandomStart = true, Epochs = 3 }, ConvEvaluation, InQuick: false),
        new(ConvPgdArm, "PGD-10 training at eps 0.3, eps ramped over 2 epochs, 4 epochs",
            new AdversarialTrainingSettings { Model = Conv, Method = AdversarialMethod.Pgd, Epsilon = 0.3, Steps = 10, EpsilonRampEpochs = 2 }, ConvEvaluation, InQuick: false)
        {
            ExtendedOnly = true,
        },
    ];

    private readonly IReadOnlyList<Arm> allArms = arms ?? DefaultArms;

    /// <summary>The study's key in the report and in report.json.</summary>
    public const string StudyKey = "adversarialTraining";

    /// <inheritdoc/>
    public string Key => StudyKey;

    /// <inheritdoc/>
    public string Fingerprint => string.Join("|", allArms.Select(Describe)) +
        string.Create(CultureInfo.InvariantCulture, $"|quickEpochs={QuickEpochs}|quickEvaluation={RobustnessEvaluation.Describe(QuickEvaluation)}") +
        (extended ? "|extended" : "");

    /// <summary>Whether this run trains the <see cref="Arm.ExtendedOnly"/> arms too.</summary>
    public bool Extended => extended;

    /// <summary>An arm's settings in one line: everything its model and evaluation depend on besides the run's seed.</summary>
    public static string Describe(Arm arm) => string.Create(CultureInfo.InvariantCulture,
        $"{arm.Name}:{arm.Settings.Model}:{arm.Settings.DescribeMethod()}:epochs={arm.Settings.Epochs?.ToString(CultureInfo.InvariantCulture) ?? "recipe"}:quick={arm.InQuick}:{RobustnessEvaluation.Describe(arm.Evaluation)}");

    /// <summary>
    /// The arms a run trains: all of them but the <see cref="Arm.ExtendedOnly"/> ones unless <paramref name="extended"/>,
    /// or in a quick run those marked <see cref="Arm.InQuick"/> with one epoch and small counts.
    /// </summary>
    public static IReadOnlyList<Arm> ForRun(IReadOnlyList<Arm> arms, bool quick, int seed, bool extended = false) => arms
        .Where(arm => quick ? arm.InQuick : extended || !arm.ExtendedOnly)
        .Select(arm => arm with
        {
            Settings = arm.Settings with { Seed = seed, Quick = quick, Epochs = quick ? QuickEpochs : arm.Settings.Epochs },
            Evaluation = (quick ? QuickEvaluation : arm.Evaluation) with { Seed = seed },
        })
        .ToList();

    /// <summary>
    /// The arms a helper process can train while the studies run: those whose training is single-threaded (the MLP
    /// arms; the convnet arms use both cores themselves), last first, so that the study, which takes the arms first to
    /// last, meets the helper in the middle.
    /// </summary>
    public static IReadOnlyList<string> HelperArms(bool quick, bool extended = false) =>
        [.. ForRun(DefaultArms, quick, seed: 0, extended).Where(arm => arm.Settings.Model != Conv).Select(arm => arm.Name).Reverse()];

    /// <summary>
    /// Trains and evaluates the arms named <paramref name="names"/> exactly as a run of this study with
    /// <paramref name="seed"/>, <paramref name="quick"/> and <paramref name="extended"/> does, into the model cache
    /// (results cached beside each model), so that the study reads them back instead of training them. An arm another
    /// process is training is waited for. Training and evaluation run on <paramref name="device"/> (the CPU when null).
    /// Returns each arm's result in the order given.
    /// </summary>
    /// <exception cref="BadInputException">A name that is not an arm of such a run.</exception>
    public static IReadOnlyList<AdversarialTrainingResult> TrainArms(ImageDataset data, IReadOnlyList<string> names, int seed, bool quick, bool extended = false,
        IProgress<ProgressUpdate>? progress = null, TorchSharp.torch.Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(names);
        var arms = ForRun(DefaultArms, quick, seed, extended).ToDictionary(arm => arm.Name, StringComparer.Ordinal);
        var unknown = names.Where(name => !arms.ContainsKey(name)).ToList();
        if (unknown.Count > 0)
        {
            throw new BadInputException($"--train-arms: no arm named {string.Join(", ", unknown.Select(name => $"'{name}'"))} in this run; " +
                $"the arms are {string.Join(", ", arms.Keys)}{(quick ? " (a quick run trains only these)" : extended ? "" : $" ({string.Join(", ", DefaultArms.Where(arm => arm.ExtendedOnly).Select(arm => arm.Name))} only with --extended)")}");
        }
        return [.. names.Select(name => AdversarialTraining.Run(arms[name].Settings, data, arms[name].Evaluation, progress, device: device))];
    }

    /// <summary>What one arm produced, and its wall time in this run (training, or loading the cached model, plus evaluations).</summary>
    public sealed record ArmOutcome(Arm Arm, AdversarialTrainingResult Result, double WallSeconds);

    /// <inheritdoc/>
    public ReportSection Run(StudyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var outcomes = new List<ArmOutcome>();
        foreach (var arm in ForRun(allArms, context.Quick, context.Seed, extended))
        {
            var clock = Stopwatch.StartNew();
            var result = AdversarialTraining.Run(arm.Settings, context.Data, arm.Evaluation, context.Progress, device: context.Device);
            outcomes.Add(new ArmOutcome(arm, result, clock.Elapsed.TotalSeconds));
        }
        return Section(outcomes, context.Quick, context.Seed, allArms.Where(arm => context.Quick ? !arm.InQuick : arm.ExtendedOnly && !extended).Select(arm => arm.Name).ToList());
    }

    /// <summary>The section's title.</summary>
    public const string SectionTitle = "Adversarial training (Section 4.3): the paper's per-layer pools beside dropout, FGSM and PGD training";

    /// <inheritdoc/>
    public string Title => SectionTitle;

    /// <inheritdoc/>
    public IReadOnlyList<ReportClaim> PlannedClaims => ReportClaims(Claims([]));

    /// <summary>The papers' claims among <paramref name="claims"/> (not our own targets) as lines of the claims table.</summary>
    public static IReadOnlyList<ReportClaim> ReportClaims(IReadOnlyList<Claim> claims) =>
        [.. claims.Where(claim => !OwnTargets.Contains(claim.Id)).Select(ToReportClaim)];

    /// <summary>Every claim, from the arms that ran (a claim whose arm did not run says so).</summary>
    public static IReadOnlyList<Claim> Claims(IReadOnlyList<ArmOutcome> outcomes)
    {
        var byName = outcomes.ToDictionary(outcome => outcome.Arm.Name, StringComparer.Ordinal);
        Robustness? Trained(string name) => byName.TryGetValue(name, out var outcome) ? outcome.Result.Trained : null;
        Robustness? baseline = outcomes.FirstOrDefault(outcome => outcome.Result.Model == Fc100)?.Result.Baseline;
        var claims = new List<Claim>();

        const string PoolStatement = "Adversarial pools lower the clean test error below weight decay's";
        string poolPaper = $"Szegedy 4.3: below {Percent(PaperPools, 1)} vs {Percent(PaperWeightDecay, 1)}";
        claims.Add(Trained(PoolArm) is { } pool && baseline is not null
            ? LowersCleanError("a", PoolStatement, poolPaper, "pools", pool, baseline)
            : NotRun("a", PoolStatement, poolPaper, PoolArm));

        const string DropoutStatement = "Dropout lowers the clean test error below weight decay's";
        string dropoutPaper = $"Szegedy 4.3: about {Percent(PaperDropout, 1)} vs {Percent(PaperWeightDecay, 1)}";
        claims.Add(Trained(DropoutArm) is { } dropout && baseline is not null
            ? LowersCleanError("b", DropoutStatement, dropoutPaper, "dropout", dropout, baseline)
            : NotRun("b", DropoutStatement, dropoutPaper, DropoutArm));

        claims.Add(Trained(PoolInputArm) is { } input && Trained(PoolHiddenArm) is { } hidden
            ? HigherLayersMoreUseful(input, hidden)
            : NotRun("c", "Pools for the higher layers are more useful than the input's (lower clean test error)", "Szegedy 4.3", $"{PoolInputArm} and {PoolHiddenArm}"));

        claims.Add(Trained(FgsmArm) is { } fgsm && baseline is not null
            ? FgsmTrainingHelps(fgsm, baseline)
            : NotRun("d", "FGSM training cuts the FGSM error while keeping the clean error (not shown higher)", "Goodfellow", FgsmArm));

        claims.Add(byName.TryGetValue(ConvArm, out var conv)
            ? ConvMeetsTarget(conv.Result.Trained, conv.Result.Masking)
            : NotRun("e", "conv trained adversarially: PGD-40 accuracy at eps 0.1 of at least 92% with clean accuracy of at least 98.5%", "our target", ConvArm));
        // Madry's claim is about PGD training: the PGD-trained conv when it ran, else the FGSM-trained one.
        claims.Add(byName.TryGetValue(ConvPgdArm, out var convPgd) || byName.TryGetValue(ConvArm, out convPgd)
            ? ConvAgainstMadry(convPgd.Result.Trained, convPgd.Arm.Label, convPgd.Result.Masking)
            : NotRun("f", "An adversarially trained MNIST convnet stays as accurate as Madry's under PGD-40 at eps 0.3", "Madry", $"{ConvPgdArm} or {ConvArm}"));

        claims.Add(byName.TryGetValue(PgdArm, out var pgd) && baseline is not null
            ? PgdTrainingHelps(pgd.Result.Trained, baseline, pgd.Arm.Settings.EffectiveEpsilon)
            : NotRun("g", "PGD training makes fc100-100-10 more robust to PGD-40 at its training eps", "Madry", PgdArm));

        // Our target for pool training, on the best pool found (docs/adversarial-training.md) when it ran.
        claims.Add(byName.TryGetValue(PoolFreshArm, out var pooled) || byName.TryGetValue(PoolArm, out pooled)
            ? PoolMeetsTarget(pooled.Result.Trained, pooled.Result.Baseline, pooled.Arm.Label)
            : NotRun("h", "Pool training: clean test error at most 1.40% and a mean L-BFGS minimal distortion above the baseline's", "our target", $"{PoolFreshArm} or {PoolArm}"));

        const string SmallStatement = "Adversarial training with small perturbations lowers the clean test error below weight decay's (FGSM at eps 0.05)";
        string smallPaper = $"Szegedy 4.3 with pools: below {Percent(PaperPools, 1)} vs {Percent(PaperWeightDecay, 1)}; Goodfellow: {Percent(GoodfellowCleanBefore)} to {Percent(GoodfellowCleanAfter)}";
        claims.Add(Trained(FgsmSmallArm) is { } small && baseline is not null
            ? LowersCleanError("i", SmallStatement, smallPaper, "FGSM training at eps 0.05", small, baseline)
            : NotRun("i", SmallStatement, smallPaper, FgsmSmallArm));
        return claims;
    }

    // ---- the section ----

    /// <summary>One arm in report.json. Errors are fractions in [0,1]; intervals are 95% Wilson intervals [lo, hi].</summary>
    /// <param name="Name">The arm's name (<see cref="PoolArm"/>, ...).</param>
    /// <param name="Label">What the table shows for it.</param>
    /// <param name="Model">The zoo model it trains.</param>
    /// <param name="Method">The training method ("pool", "fgsm", "pgd", "dropout", "none").</param>
    /// <param name="Settings">The method's settings in one line.</param>
    /// <param name="Recipe">The training recipe in words.</param>
    /// <param name="Epochs">Epochs trained.</param>
    /// <param name="Seconds">Training seconds (when the model was trained, in the run that trained it).</param>
    /// <param name="WallSeconds">This run's wall time for the arm: training or loading, plus evaluations.</param>
    /// <param name="Reused">True when the model came from the cache.</param>
    /// <param name="TestError">Clean test error.</param>
    /// <param name="TestErrorInterval">Its 95% interval.</param>
    /// <param name="TestCount">Test images behind it.</param>
    /// <param name="Robust">The robustness measurements.</param>
    /// <param name="Path">The trained model's file.</param>
    /// <param name="BaselinePath">The file of the model it is compared with.</param>
    /// <param name="RobustCount">Images the FGSM and PGD errors are measured on.</param>
    /// <param name="LbfgsCount">Images L-BFGS attacks.</param>
    /// <param name="History">Per-epoch loss and errors.</param>
    /// <param name="Masking">The gradient-masking checks, or null when they did not run for this arm.</param>
    public sealed record ArmJson(string Name, string Label, string Model, string Method, string Settings, string Recipe, int Epochs, double Seconds, double WallSeconds,
        bool Reused, double TestError, IReadOnlyList<double> TestErrorInterval, int TestCount, RobustJson Robust, string Path, string BaselinePath,
        int RobustCount, int LbfgsCount, IReadOnlyList<EpochRecord> History, MaskingJson? Masking);

    /// <summary>A model the arms are compared with (the zoo's, trained without adversarial examples), in report.json.</summary>
    /// <param name="Model">The zoo model's name.</param>
    /// <param name="Path">Its file.</param>
    /// <param name="TestError">Clean test error, a fraction.</param>
    /// <param name="TestErrorInterval">Its 95% interval.</param>
    /// <param name="TestCount">Test images behind it.</param>
    /// <param name="Robust">The robustness measurements.</param>
    public sealed record BaselineJson(string Model, string Path, double TestError, IReadOnlyList<double> TestErrorInterval, int TestCount, RobustJson Robust);

    /// <summary>One arm of the pool ablation (which layers get pools), in report.json.</summary>
    /// <param name="Arm">The arm's name.</param>
    /// <param name="Layers">The layers with pools (0 = the input).</param>
    /// <param name="Epochs">Epochs trained.</param>
    /// <param name="TestError">Clean test error, a fraction.</param>
    /// <param name="TestErrorInterval">Its 95% interval.</param>
    /// <param name="FgsmError01">Error under FGSM at eps 0.1.</param>
    /// <param name="PgdError01">Error under PGD at eps 0.1.</param>
    /// <param name="LbfgsMeanDistortion">L-BFGS's mean distortion over successes, or null when none succeeded.</param>
    /// <param name="LbfgsSuccesses">Images L-BFGS fooled.</param>
    /// <param name="Seconds">Training seconds.</param>
    public sealed record AblationJson(string Arm, IReadOnlyList<int> Layers, int Epochs, double TestError, IReadOnlyList<double> TestErrorInterval,
        double FgsmError01, double PgdError01, double? LbfgsMeanDistortion, int LbfgsSuccesses, double Seconds);

    /// <summary>One claim and our verdict on it, in report.json.</summary>
    /// <param name="Id">The claim's short id ("a", "b", ...).</param>
    /// <param name="Claim">The statement tested.</param>
    /// <param name="Paper">What the paper reports.</param>
    /// <param name="Ours">What we measured.</param>
    /// <param name="Agrees">true, false, or null when the statistic does not decide or the arm did not run.</param>
    /// <param name="Verdict">The verdict in words.</param>
    public sealed record ClaimJson(string Id, string Claim, string Paper, string Ours, bool? Agrees, string Verdict);

    /// <summary>The section from the arms' outcomes (no training here: tests give it made-up results).</summary>
    public static ReportSection Section(IReadOnlyList<ArmOutcome> outcomes, bool quick, int seed, IReadOnlyList<string>? leftOut = null)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var claims = Claims(outcomes);
        var baselines = outcomes.GroupBy(outcome => outcome.Result.Model, StringComparer.Ordinal).Select(group => group.First().Result).ToList();
        var ablation = outcomes.Where(outcome => outcome.Arm.Name is PoolArm or PoolInputArm or PoolHiddenArm)
            .OrderBy(outcome => outcome.Arm.Settings.Pool.Layers.Contains(0) ? outcome.Arm.Settings.Pool.Layers.Count == 1 ? 0 : 2 : 1).ToList();

        var tables = new List<ReportTable> { ComparisonTable(outcomes, baselines) };
        if (ablation.Count > 1)
        {
            tables.Add(AblationTable(ablation, baselines.FirstOrDefault(result => result.Model == Fc100)));
        }
        tables.Add(ClaimTable(claims, quick));
        var checkedArms = outcomes.Where(outcome => outcome.Result.Masking is not null).ToList();
        if (checkedArms.Count > 0)
        {
            tables.Add(MaskingTable(checkedArms));
        }

        var figures = new List<ReportFigure>();
        if (outcomes.Count > 0)
        {
            figures.Add(new ReportFigure("adversarial-training-errors.png",
                "Clean test error, FGSM error at eps 0.1 and PGD-40 error at eps 0.1 per model: the zoo's weight-decay models and every adversarially trained arm.",
                ErrorChart(outcomes, baselines)));
        }
        var pool = outcomes.FirstOrDefault(outcome => outcome.Arm.Name == PoolArm);
        if (pool is not null && pool.Result.History.Count > 0)
        {
            figures.Add(new ReportFigure("adversarial-training-pool-curves.png",
                $"Pool training of {Fc100} (layers {string.Join(", ", pool.Arm.Settings.Pool.Layers)}): clean test error (10,000 images) and FGSM eps 0.1 error (first 500 test images) after each epoch.",
                TrainingCurves.Render($"{Fc100} trained with adversarial pools (seed {seed})", pool.Result.History)));
        }

        return new ReportSection("adversarialTraining", SectionTitle, Prose(outcomes, claims, quick, leftOut ?? []))
        {
            Claims = ReportClaims(claims),
            Tables = tables,
            Figures = figures,
            Data = new
            {
                quick,
                seed,
                schedule = ScheduleNote(outcomes, quick),
                arms = outcomes.Select(ToJson).ToList(),
                baseline = baselines.Where(result => result.Model == Fc100).Select(ToBaselineJson).FirstOrDefault(),
                baselines = baselines.Select(ToBaselineJson).ToList(),
                ablation = ablation.Select(outcome => new AblationJson(outcome.Arm.Name, outcome.Arm.Settings.Pool.Layers, outcome.Result.Epochs,
                    outcome.Result.Trained.TestError.Value, [outcome.Result.Trained.TestError.Lower, outcome.Result.Trained.TestError.Upper],
                    Fgsm(outcome.Result.Trained, 0.1).Value, Pgd(outcome.Result.Trained, 0.1).Value, Finite(outcome.Result.Trained.LbfgsMeanDistortion),
                    outcome.Result.Trained.LbfgsSuccesses, Math.Round(outcome.Result.TrainingSeconds, 1))).ToList(),
                claims = claims.Select(claim => new ClaimJson(claim.Id, claim.Statement, claim.Paper, claim.Ours, claim.Agrees, claim.VerdictText)).ToList(),
                paper = new
                {
                    szegedy = new { weightDecay = PaperWeightDecay, dropout = PaperDropout, poolsBelow = PaperPools },
                    goodfellow = new { cleanBefore = GoodfellowCleanBefore, cleanAfter = GoodfellowCleanAfter, fgsmErrorBefore = GoodfellowFgsmBefore, fgsmErrorAfter = GoodfellowFgsmAfter, epsilon = 0.25 },
                    madry = new { naturalAccuracy = MadryNatural, pgd40Accuracy = MadryPgd40, fgsmAccuracy = MadryFgsm, epsilon = 0.3 },
                },
                targets = new { poolTestError = TargetPoolError, convPgdAccuracy = TargetConvPgdAccuracy, convCleanAccuracy = TargetConvCleanAccuracy },
            },
        };
    }

    private static ArmJson ToJson(ArmOutcome outcome)
    {
        var result = outcome.Result;
        return new ArmJson(outcome.Arm.Name, outcome.Arm.Label, result.Model, result.Method, result.MethodSettings, result.Recipe, result.Epochs,
            Math.Round(result.TrainingSeconds, 1), Math.Round(outcome.WallSeconds, 1), result.Reused, result.Trained.TestError.Value,
            [result.Trained.TestError.Lower, result.Trained.TestError.Upper], result.Trained.TestError.Count, RobustJson.From(result.Trained),
            result.Path, result.BaselinePath, outcome.Arm.Evaluation.RobustCount, outcome.Arm.Evaluation.LbfgsCount, result.History,
            result.Masking is null ? null : MaskingJson.From(result.Masking));
    }

    private static BaselineJson ToBaselineJson(AdversarialTrainingResult result) => new(result.Model, result.BaselinePath, result.Baseline.TestError.Value,
        [result.Baseline.TestError.Lower, result.Baseline.TestError.Upper], result.Baseline.TestError.Count, RobustJson.From(result.Baseline));

    private static string ScheduleNote(IReadOnlyList<ArmOutcome> outcomes, bool quick) => quick
        ? $"quick: a smoke run, {QuickEpochs} epoch per arm on the quick zoo, FGSM/PGD on the first {QuickEvaluation.RobustCount} test images and L-BFGS on {QuickEvaluation.LbfgsCount}; not comparable with the papers' numbers"
        : "full: " + string.Join("; ", outcomes.Select(outcome => string.Create(CultureInfo.InvariantCulture,
            $"{outcome.Arm.Name} {outcome.Result.Epochs} epochs{(outcome.Arm.Settings.Epochs is null ? " (the zoo recipe's)" : " (shortened)")}")));

    private static string PaperFor(ArmOutcome outcome) => outcome.Arm.Name switch
    {
        DropoutArm => $"Szegedy: ~{Percent(PaperDropout, 1)}",
        PoolArm or PoolFreshArm => $"Szegedy: below {Percent(PaperPools, 1)}",
        FgsmSmallArm => $"Szegedy's pools: below {Percent(PaperPools, 1)}",
        ConvPgdArm => $"Madry (PGD-40 at 0.3): {Percent(1 - MadryNatural, 1)}; PGD-40 0.3 {Percent(1 - MadryPgd40, 1)}, FGSM 0.3 {Percent(1 - MadryFgsm, 1)}",
        FgsmArm => $"Goodfellow (maxout): {Percent(GoodfellowCleanAfter)}; FGSM 0.25 {Percent(GoodfellowFgsmAfter, 1)}",
        PgdArm => $"Madry (convnet, PGD-40 at 0.3): {Percent(1 - MadryNatural, 1)}; PGD-40 0.3 {Percent(1 - MadryPgd40, 1)}",
        ConvArm => $"Madry (PGD-40 at 0.3): {Percent(1 - MadryNatural, 1)}; PGD-40 0.3 {Percent(1 - MadryPgd40, 1)}, FGSM 0.3 {Percent(1 - MadryFgsm, 1)}",
        _ => ReportFormat.NotAvailable,
    };

    private static readonly ReportCell[] ComparisonHeaders =
    [
        "model", "training", "epochs", ReportCell.Ours("clean test error [95%] (n)"), ReportCell.Paper("paper's clean error (their robust error)"),
        ReportCell.Ours("FGSM 0.1"), ReportCell.Ours("FGSM 0.25"), ReportCell.Ours("PGD-40 0.1"), ReportCell.Ours("PGD-40 0.3"),
        ReportCell.Ours("mean L-BFGS distortion (n)"), "training s",
    ];

    private static ReportTable ComparisonTable(IReadOnlyList<ArmOutcome> outcomes, IReadOnlyList<AdversarialTrainingResult> baselines)
    {
        var rows = new List<IReadOnlyList<ReportCell>>();
        foreach (var baseline in baselines)
        {
            rows.Add(Row(baseline.Model, "weight decay only (the zoo's model)", ReportFormat.NotAvailable, baseline.Baseline,
                baseline.Model == Fc100 ? $"Szegedy: {Percent(PaperWeightDecay, 1)}; Goodfellow (maxout): {Percent(GoodfellowCleanBefore)}, FGSM 0.25 {Percent(GoodfellowFgsmBefore, 1)}" : "Madry (natural): PGD ~100%",
                ReportFormat.NotAvailable));
            foreach (var outcome in outcomes.Where(outcome => outcome.Result.Model == baseline.Model))
            {
                rows.Add(Row(outcome.Result.Model, outcome.Arm.Label, outcome.Result.Epochs.ToString(CultureInfo.InvariantCulture), outcome.Result.Trained,
                    PaperFor(outcome), ReportFormat.Number(outcome.Result.TrainingSeconds, 0) + (outcome.Result.Reused ? " (cached)" : "")));
            }
        }
        return new ReportTable(
            "Every model evaluated the same way: clean error on all 10,000 test images (95% Wilson interval); FGSM and PGD-40 (step 0.01, random start) L-inf errors " +
            $"on the first test images (n per model: {string.Join(", ", outcomes.Select(outcome => outcome.Result.Model).Distinct().Select(model => $"{model} {outcomes.First(outcome => outcome.Result.Model == model).Arm.Evaluation.RobustCount}"))}; " +
            "intervals in report.json); mean L-BFGS minimal distortion (targeted at a random wrong class) over its successes. The paper column gives the number each " +
            "paper reports for the corresponding training (other nets: a maxout net for Goodfellow, a wider convnet for Madry).",
            ComparisonHeaders, rows);
    }

    private static IReadOnlyList<ReportCell> Row(string model, string training, string epochs, Robustness robustness, string paper, string seconds) =>
    [
        model,
        training,
        epochs,
        ReportCell.Ours($"{RateText(robustness.TestError)} ({robustness.TestError.Count})"),
        ReportCell.Paper(paper),
        ReportCell.Ours(Percent(Fgsm(robustness, 0.1).Value, 1)),
        ReportCell.Ours(Percent(Fgsm(robustness, 0.25).Value, 1)),
        ReportCell.Ours(Percent(Pgd(robustness, 0.1).Value, 1)),
        ReportCell.Ours(Percent(Pgd(robustness, 0.3).Value, 1)),
        ReportCell.Ours($"{Distortion(robustness)} ({robustness.LbfgsSuccesses})"),
        seconds,
    ];

    private static ReportTable AblationTable(IReadOnlyList<ArmOutcome> ablation, AdversarialTrainingResult? baseline) => new(
        "The per-layer ablation of pool training on fc100-100-10 (layer 0 is the input, 1 and 2 the hidden layers); the paper: pools for the higher layers were more useful.",
        ["pools at layers", "epochs", ReportCell.Ours("clean test error [95%]"), ReportCell.Ours("FGSM 0.1 error [95%]"), ReportCell.Ours("PGD-40 0.1 error"),
            ReportCell.Ours("mean L-BFGS distortion (n)"), "training s"],
        (baseline is null
            ? []
            : new List<IReadOnlyList<ReportCell>>
            {
                new ReportCell[]
                {
                    "none (weight decay)", ReportFormat.NotAvailable, ReportCell.Ours(RateText(baseline.Baseline.TestError)),
                    ReportCell.Ours(RateText(Fgsm(baseline.Baseline, 0.1))), ReportCell.Ours(Percent(Pgd(baseline.Baseline, 0.1).Value, 1)),
                    ReportCell.Ours($"{Distortion(baseline.Baseline)} ({baseline.Baseline.LbfgsSuccesses})"), ReportFormat.NotAvailable,
                },
            })
        .Concat(ablation.Select(outcome => (IReadOnlyList<ReportCell>)
        [
            string.Join(", ", outcome.Arm.Settings.Pool.Layers),
            outcome.Result.Epochs.ToString(CultureInfo.InvariantCulture),
            ReportCell.Ours(RateText(outcome.Result.Trained.TestError)),
            ReportCell.Ours(RateText(Fgsm(outcome.Result.Trained, 0.1))),
            ReportCell.Ours(Percent(Pgd(outcome.Result.Trained, 0.1).Value, 1)),
            ReportCell.Ours($"{Distortion(outcome.Result.Trained)} ({outcome.Result.Trained.LbfgsSuccesses})"),
            ReportFormat.Number(outcome.Result.TrainingSeconds, 0),
        ])).ToList());

    private static ReportTable ClaimTable(IReadOnlyList<Claim> claims, bool quick) => new(
        "One line per claim: the claim, the number it was made with, ours, and whether our run agrees. Two models' error rates on the same images " +
        "differ when McNemar's exact test on the images only one of them gets wrong gives p < 0.05; a rate meets a fixed target when its 95% Wilson " +
        "interval lies wholly on the target's side; mean distortions differ when Welch's 95% interval excludes 0." +
        (quick ? " Quick run: one epoch per arm against the quick zoo, so these verdicts are a smoke test, not the reproduction's." : ""),
        ["", "claim", ReportCell.Paper("paper / target"), ReportCell.Ours("ours"), "verdict"],
        claims.Select(claim => (IReadOnlyList<ReportCell>)[claim.Id, claim.Statement, ReportCell.Paper(claim.Paper), ReportCell.Ours(claim.Ours), claim.VerdictText]).ToList());

    private static ReportTable MaskingTable(IReadOnlyList<ArmOutcome> checkedArms) => new(
        "Gradient-masking checks of the adversarially trained models, on the first test images: the error under PGD-40, under PGD-40 with random restarts " +
        "(an image counts if any restart fools it), under PGD-40 examples made on the naturally trained zoo model of the same architecture (a transfer " +
        "attack never sees the trained model's gradients), and under one FGSM step. Each is compared with plain PGD-40 on the same images (difference in " +
        "points with its paired 95% interval, exact McNemar p). Signs of masking: the restarts' excess wholly above " +
        $"{Percent(RobustnessEvaluation.MaskingMargin, 0)}; transfer or FGSM shown to fool more than white-box PGD-40 (p < {PairedComparison.Level}). " +
        "AutoAttack is the cascade of Croce and Hein (2020) on the same images (the fast version: APGD-CE, then APGD-T over the 9 most likely wrong " +
        "classes, each on the images still robust): its error, and its excess over PGD-40 (what PGD-40 misses; a sign when wholly above " +
        $"{Percent(RobustnessEvaluation.MaskingMargin, 0)}).",
        ["model", "training", "eps", "n", ReportCell.Ours("PGD-40"), ReportCell.Ours("restarts - PGD-40"), ReportCell.Ours("transfer - PGD-40"),
            ReportCell.Ours("FGSM - PGD-40"), ReportCell.Ours("AutoAttack error"), ReportCell.Ours("AutoAttack - PGD-40"), "sign of masking"],
        checkedArms.SelectMany(outcome => outcome.Result.Masking!.PgdError.Keys.Select(key => (IReadOnlyList<ReportCell>)
        [
            outcome.Result.Model,
            outcome.Arm.Name,
            key,
            outcome.Result.Masking.Count.ToString(CultureInfo.InvariantCulture),
            ReportCell.Ours(Percent(outcome.Result.Masking.PgdError[key].Value, 1)),
            ReportCell.Ours(Excess(outcome.Result.Masking.RestartsExcess, key) + $" (x {outcome.Result.Masking.Restarts})"),
            ReportCell.Ours(Excess(outcome.Result.Masking.TransferExcess, key)),
            ReportCell.Ours(Excess(outcome.Result.Masking.FgsmExcess, key)),
            ReportCell.Ours(outcome.Result.Masking.AutoAttackError.TryGetValue(key, out var cascade)
                ? $"{Percent(cascade.Value, 1)} ({outcome.Result.Masking.CascadeVersion})"
                : ReportFormat.NotAvailable),
            ReportCell.Ours(Excess(outcome.Result.Masking.AutoAttackExcess, key)),
            outcome.Result.Masking.Signs.Any(sign => sign.StartsWith($"eps {key}:", StringComparison.Ordinal)) ? "yes"
                : outcome.Result.Masking.Undecided.Any(sign => sign.StartsWith($"eps {key}:", StringComparison.Ordinal)) ? "undecided" : "no",
        ])).ToList());

    private static string Excess(IReadOnlyDictionary<string, PairedComparison> excess, string key) =>
        excess.TryGetValue(key, out var paired)
            ? string.Create(CultureInfo.InvariantCulture, $"{paired.Difference * 100:+0.0;-0.0;0.0} [{paired.Lower * 100:0.0}, {paired.Upper * 100:0.0}], p {PValues.Format(paired.PValue)}")
            : ReportFormat.NotAvailable;

    private static string MaskingProse(IReadOnlyList<ArmOutcome> outcomes)
    {
        var checkedArms = outcomes.Where(outcome => outcome.Result.Masking is not null).ToList();
        if (checkedArms.Count == 0)
        {
            return "No arm of this run was checked for gradient masking (the checks run for FGSM, PGD and pool training).";
        }
        var lines = checkedArms.Select(outcome =>
        {
            var masking = outcome.Result.Masking!;
            string checks = masking.CascadeVersion is null ? "these three checks" : "these four checks";
            string verdict = masking.Signs.Count > 0
                ? "**signs of masking**, so its PGD numbers may overstate its robustness: " + string.Join("; ", masking.Signs)
                : masking.Undecided.Count > 0
                    ? $"no sign of masking shown in {checks}, but {masking.Count} images cannot rule one out: " + string.Join("; ", masking.Undecided)
                    : $"no sign of masking in {checks} on {masking.Count} images (which does not prove there is none)";
            string cascade = masking.AutoAttackError.Count == 0
                ? ""
                : "; AutoAttack (" + masking.CascadeVersion + ") error " + string.Join(", ", masking.AutoAttackError.Select(entry =>
                    $"{Percent(entry.Value.Value, 1)} at eps {entry.Key} against PGD-40's {Percent(masking.PgdError[entry.Key].Value, 1)}"));
            string warnings = masking.AutoAttackWarnings.Count == 0 ? "" : "; the cascade warns: " + string.Join("; ", masking.AutoAttackWarnings);
            return $"- {outcome.Arm.Name}: {verdict}{cascade}{warnings}.";
        });
        bool cascadeRan = checkedArms.Any(outcome => outcome.Result.Masking!.AutoAttackError.Count > 0);
        return "**Gradient masking** (restarts, transfer from the natural model, FGSM against PGD-40" +
            (cascadeRan ? ", and the AutoAttack cascade against PGD-40" : "") + "; table below):\n" + string.Join("\n", lines);
    }

    private static string Prose(IReadOnlyList<ArmOutcome> outcomes, IReadOnlyList<Claim> claims, bool quick, IReadOnlyList<string> leftOut)
    {
        string schedule = quick
            ? $"**Quick run: a smoke run, not comparable with the papers.** Each arm trains {QuickEpochs} epoch on the quick zoo's recipe, against the quick zoo's " +
              $"models; FGSM and PGD run on the first {QuickEvaluation.RobustCount} test images and L-BFGS on {QuickEvaluation.LbfgsCount}; arms left out: " +
              $"{string.Join(", ", leftOut.DefaultIfEmpty("none"))}. The numbers show that the harness runs, " +
              "not what the methods reach, and the verdicts below are the smoke run's."
            : "**Schedules** (an arm marked cached was trained by an earlier run or by a helper process of this one (`reproduce --workers`); its time is that process's, under its load). " + string.Join("; ", outcomes.Select(outcome => string.Create(CultureInfo.InvariantCulture,
                $"{outcome.Arm.Name}: {outcome.Result.Epochs} epochs{(outcome.Arm.Settings.Epochs is null ? " (the zoo recipe's)" : " (shorter than the recipe's)")}, " +
                $"{ReportFormat.Number(outcome.Result.TrainingSeconds, 0)} s of training{(outcome.Result.Reused ? " (cached)" : "")}"))) +
              ". **Settings:** " + string.Join("; ", outcomes.Select(outcome => $"{outcome.Arm.Name} ({outcome.Result.Model}): {outcome.Result.MethodSettings}")) +
              ". `./intriguing adv-train` runs any of them with other settings." +
              (leftOut.Count > 0
                  ? $" **Not run by default:** {string.Join(", ", leftOut)} (a convnet PGD-trained at Madry's eps 0.3, to compare with that paper at its scale); " +
                    $"`./intriguing reproduce --extended` adds it, {ExtendedCost}. Claim (f) then rests on it instead of on {ConvArm}."
                  : "");
        return
            "The paper trained a 100-100-10 net with a pool of adversarial examples kept per layer and continuously refreshed, mixed into every batch, and " +
            $"reports a test error below {Percent(PaperPools, 1)} (weight decay alone {Percent(PaperWeightDecay, 1)}, dropout about {Percent(PaperDropout, 1)}), " +
            "with pools for the higher layers more useful than the input's. **How a layer's pool enters training:** the pool of layer k holds perturbed " +
            "activations phi_k(x) + r, found by an attack on the sub-network above layer k inside the layer's box (L-BFGS as in the paper, or PGD) and kept only " +
            "if that sub-network misclassifies them; each batch adds pool samples, which train only the layers above k with the image's original label " +
            "(docs/adversarial-training.md).\n\n" +
            $"Every arm below ({string.Join(", ", outcomes.Select(outcome => outcome.Arm.Name).DefaultIfEmpty("none"))}) and its weight-decay baseline (the zoo's own " +
            "model) are trained by one training loop with the zoo's recipe, optimiser and data order for their architecture, so a difference between them is the " +
            "method's, and every model is evaluated the same way. Clean errors of two models are compared on the same 10,000 test images with McNemar's exact " +
            "test, attack errors on the same attacked images likewise.\n\n" +
            schedule + "\n\n" +
            string.Join("\n", claims.Select(claim => $"- **({claim.Id}) {Capitalised(claim.VerdictText)}{(quick && claim.Verdict != Verdict.NotRun ? " (smoke run)" : "")}.** {claim.Statement}. Ours: {claim.Ours}. Paper or target: {claim.Paper}.")) +
            "\n\n" + MaskingProse(outcomes);
    }

    private static byte[] ErrorChart(IReadOnlyList<ArmOutcome> outcomes, IReadOnlyList<AdversarialTrainingResult> baselines)
    {
        var groups = new List<(string Label, Robustness Robustness)>();
        foreach (var baseline in baselines)
        {
            groups.Add(($"{baseline.Model}\nweight decay", baseline.Baseline));
            groups.AddRange(outcomes.Where(outcome => outcome.Result.Model == baseline.Model)
                .Select(outcome => ($"{(baseline.Model == Fc100 ? "" : baseline.Model + "\n")}{outcome.Arm.Name}", outcome.Result.Trained)));
        }
        return AdversarialTrainingChart.Render(groups);
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
