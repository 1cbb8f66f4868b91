using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Reporting;
using Intriguing.Spectral;

namespace Intriguing.Reproduction;

/// <summary>
/// Section 4.4 and Table 5: per-layer upper Lipschitz bounds for every zoo model and for AlexNet, beside the amplification
/// measured on random, adversarial and worst-local perturbations, and the L2 radius the bounds certify beside the distortion
/// the attacks needed. The work is in <see cref="SpectralAnalysis"/>; this class runs it through the study context.
/// </summary>
public sealed class SpectralStudy(int count, int alexNetImages) : IStudy
{
    /// <summary>Every zoo model, on the split the paper trains it on (FC123-456-10 only appears in Table 3, trained on P1).</summary>
    public static readonly IReadOnlyList<(string Model, Split Split)> Models =
    [
        ("fc10-1e-4", Split.Train), ("fc10-1e-2", Split.Train), ("fc10-1", Split.Train), ("fc100-100-10", Split.Train),
        ("fc200-200-10", Split.Train), ("ae400-10", Split.Train), ("fc123-456-10", Split.P1), ("conv", Split.Train),
    ];

    /// <summary>The minimal-perturbation attacks whose L2 distances the certified radii are set beside.</summary>
    public static readonly IReadOnlyList<string> AttackMethods = ["lbfgs", "cw", "deepfool"];

    /// <summary>The model the spectral-norm penalty is tried on (the paper's suggestion, Section 4.4).</summary>
    public const string PenaltyModel = "fc100-100-10";

    /// <summary>The plain model or the penalised one: its errors, its analysis, and L-BFGS towards a random wrong class (Table 1's setting).</summary>
    public sealed record PenaltyRow(string Training, double Weight, double TestError, double TrainError, SpectralResult Analysis,
        double LbfgsMeanDistortion, double LbfgsSuccessRate, int LbfgsAttempted);

    /// <inheritdoc/>
    public string Key => "spectral";

    /// <summary>Every setting that changes the section: images, models, attacks, the analyses' and the bounds' settings, the penalty, the tolerances.</summary>
    public string Fingerprint => string.Join("|",
        $"count={count}",
        $"alexnet={alexNetImages}",
        $"models={string.Join(",", Models.Select(model => $"{model.Model}@{model.Split.Name()}"))}",
        $"attacks={string.Join(";", AttackMethods.Select(method => AttackCatalog.Create(method).Describe()))}",
        $"zoo=({new SpectralSettings().Describe(SpectralAnalysis.ZooRandomRadii)})",
        $"alexnet-settings=({SpectralAnalysis.AlexNetSettings(0).Describe(SpectralAnalysis.AlexNetRandomRadii)})",
        $"alexnet-weights=he",
        FormattableString.Invariant($"penalty={PenaltyModel}x{SpectralPenaltyTraining.DefaultWeight:G6},steps-per-batch={SpectralPenaltyHook.PowerStepsPerBatch}"),
        FormattableString.Invariant($"tolerances={Soundness.Float64Tolerance:G3};{Soundness.Float32Tolerance:G3}"));

    /// <inheritdoc/>
    public ReportSection Run(StudyContext context)
    {
        var results = new List<SpectralResult>();
        foreach (var (name, split) in Models)
        {
            var trained = context.Model(name, split);
            var attacks = AttackMethods.ToDictionary(method => method, method => context.Attack(name, split, method, targeted: false, count));
            using var images = context.Data.Test.Slice(0, count);
            results.Add(SpectralAnalysis.ForClassifier(trained.Model, name, images.Images, images.Labels, attacks,
                new SpectralSettings(Seed: context.Seed), $"{name} trained on {split.Name()}", context.Progress));
        }
        var penalty = PenaltyComparison(context, results.First(result => result.Model == PenaltyModel));
        SpectralResult alexNet;
        SpectralLayer alexNetPool;
        LocalResponseNormSettings alexNetNormalization;
        using (var network = AlexNet.HeInitialised(context.Seed))
        {
            var layers = network.Stack().Layers;
            alexNetPool = layers.First(layer => layer.Kind == SpectralLayerKind.MaxPool);
            alexNetNormalization = layers.First(layer => layer.Kind == SpectralLayerKind.LocalResponseNorm).Normalization!;
            alexNet = SpectralAnalysis.ForAlexNet(network, alexNetImages, $"He-initialised random weights (seed {context.Seed})",
                SpectralAnalysis.AlexNetSettings(context.Seed), context.Progress);
        }

        var series = results.Select(result => (result.Model, result.CertifiedImages)).ToList();
        byte[] scatter = SpectralFigures.CertifiedVersusAttack(series);
        byte[] table5 = SpectralFigures.BoundsBesidePaper($"AlexNet ({alexNet.Weights}): our per-layer bounds beside the paper's Table 5 (trained weights)",
            alexNet.Layers.Where(layer => layer.Paper is not null).ToList());
        var claims = Claims(results, alexNet, penalty);

        return new ReportSection(Key, Title, Prose(context, results, alexNet, alexNetPool, alexNetNormalization, claims))
        {
            Claims =
            [
                SpectralVerdicts.ToReportClaim("sound", SpectralVerdicts.BoundClaim, claims.Soundness),
                SpectralVerdicts.ToReportClaim("certified", SpectralVerdicts.RemarkClaim, claims.Certification),
            ],
            Tables = [SummaryTable(results), LayerTable(results), AlexNetTable(alexNet), ConvolutionTable(results.Append(alexNet)), PenaltyTable(penalty)],
            Figures =
            [
                new ReportFigure("spectral-certified-vs-attack.png", SpectralVerdicts.ScatterCaption(series).Sentence, scatter),
                new ReportFigure("spectral-alexnet-table5.png", $"AlexNet's conv and fc bounds, ours ({alexNet.Weights}) beside Table 5 (the paper's trained weights).", table5),
            ],
            Data = new
            {
                count,
                alexNetImages,
                models = results.Select(result => result with { CertifiedImages = [] }).ToList(),
                alexnet = alexNet,
                spectralPenalty = penalty.Select(row => row with { Analysis = row.Analysis with { CertifiedImages = [] } }).ToList(),
                table5 = AlexNet.PaperTable5,
                allSound = results.All(result => result.Sound) && alexNet.Sound && penalty.All(row => row.Analysis.Sound),
                claims,
            },
        };
    }

    private PenaltyRow[] PenaltyComparison(StudyContext context, SpectralResult plainAnalysis)
    {
        var plain = context.Model(PenaltyModel);
        var plainLbfgs = context.Attack(PenaltyModel, Split.Train, "lbfgs", targeted: true, count).Summary;
        double weight = SpectralPenaltyTraining.DefaultWeight;
        using var penalised = SpectralPenaltyTraining.GetOrTrain(PenaltyModel, context.Data, Split.Train, context.Seed, context.Quick, weight, context.Progress);
        using var images = context.Data.Test.Slice(0, count);
        var targets = AttackTargets.RandomWrong(images.Labels, context.Seed);
        var lbfgs = AttackCatalog.Create("lbfgs", seed: context.Seed).Run(penalised.Model, images.Images, images.Labels, targets, progress: context.Progress).Summary;
        var attacks = AttackMethods.ToDictionary(method => method,
            method => AttackCatalog.Create(method, seed: context.Seed).Run(penalised.Model, images.Images, images.Labels, progress: context.Progress));
        var analysis = SpectralAnalysis.ForClassifier(penalised.Model, $"{PenaltyModel} + penalty {weight}", images.Images, images.Labels, attacks,
            new SpectralSettings(Seed: context.Seed), penalised.Report.Recipe, context.Progress);
        return
        [
            new("plain (the zoo's recipe)", 0, plain.Report.TestError, plain.Report.TrainError, plainAnalysis, plainLbfgs.MeanDistortion, plainLbfgs.SuccessRate, plainLbfgs.Attempted),
            new($"+ spectral-norm penalty {weight.ToString(CultureInfo.InvariantCulture)} * sum of layer norms", weight, penalised.Report.TestError, penalised.Report.TrainError,
                analysis, lbfgs.MeanDistortion, lbfgs.SuccessRate, lbfgs.Attempted),
        ];
    }

    private static ReportTable PenaltyTable(IReadOnlyList<PenaltyRow> rows) => new(
        $"The paper's suggestion tried on {PenaltyModel}: the same recipe with the spectral-norm penalty (one power step per layer per batch) added to the loss. " +
        "L-BFGS is Table 1's setting (towards a random wrong class; mean distortion over successes, success rate in brackets).",
        ["training", "test error", "layer bounds", "bound (product)", "max measured", "L-BFGS mean distortion", "certified L2 (median)", "attack / certified (median)"],
        rows.Select(row => (IReadOnlyList<ReportCell>)
        [
            row.Training,
            ReportCell.Ours(ReportFormat.Percent(row.TestError)),
            string.Join(" x ", row.Analysis.Layers.Select(layer => Number(layer.Bound, 2))),
            ReportCell.Ours(Number(row.Analysis.Product, 2)),
            ReportCell.Ours(Number(row.Analysis.Empirical.MaxRatio, 2)),
            ReportCell.Ours($"{ReportFormat.Distortion(row.LbfgsMeanDistortion)} ({ReportFormat.Percent(row.LbfgsSuccessRate, 0)})"),
            ReportCell.Ours(Number(row.Analysis.Certified?.MedianCertifiedL2 ?? double.NaN, 3)),
            ReportCell.Ours($"{Number(row.Analysis.Certified?.MedianRatio ?? double.NaN, 1)}x"),
        ]).ToList());

    /// <inheritdoc/>
    public string Title => "Spectral analysis (Section 4.4, Table 5): per-layer Lipschitz bounds, measured, and what they certify";

    /// <inheritdoc/>
    public IReadOnlyList<ReportClaim> PlannedClaims =>
    [
        new("sound", SpectralVerdicts.BoundClaim, ReportVerdict.NotRun, "not run yet"),
        new("certified", SpectralVerdicts.RemarkClaim, ReportVerdict.NotRun, "not run yet"),
    ];

    /// <summary>The section's claims, each computed from the numbers by <see cref="SpectralVerdicts"/> (and each able to come out negative).</summary>
    public sealed record SpectralClaims(SpectralVerdict Soundness, SpectralVerdict FourierBounds, SpectralVerdict LinearLayers, SpectralVerdict NetworkGap,
        SpectralVerdict Certification, SpectralVerdict Scatter);

    private static SpectralClaims Claims(IReadOnlyList<SpectralResult> results, SpectralResult alexNet, IReadOnlyList<PenaltyRow> penalty)
    {
        var analysed = results.Select(result => (result.Model, result.Soundness))
            .Concat(penalty.Where(row => row.Weight > 0).Select(row => (row.Analysis.Model, row.Analysis.Soundness)))
            .Append((alexNet.Model, alexNet.Soundness)).ToList();
        var convolutions = results.Append(alexNet)
            .SelectMany(result => result.Layers.Where(layer => layer.Kind == "convolution").Select(layer => (result.Model, layer))).ToList();
        var linear = results.SelectMany(result => result.Layers.Where(layer => layer.Kind == "linear")
            .Select(layer => new LayerReach(result.Model, layer.Name, layer.Bound, Source(layer, "local")))).ToList();
        var gapModel = results.First(result => result.Model == PenaltyModel);
        var series = results.Select(result => (result.Model, result.CertifiedImages)).ToList();
        return new SpectralClaims(
            SpectralVerdicts.Sound(analysed),
            SpectralVerdicts.FourierBounds(convolutions),
            SpectralVerdicts.LinearLayersMeetBounds(linear),
            SpectralVerdicts.NetworkGap(gapModel.Model, gapModel.Product, gapModel.Empirical.MaxRatio, gapModel.Layers.Any(layer => layer.Kind == "sigmoid")),
            SpectralVerdicts.Certification(series),
            SpectralVerdicts.ScatterCaption(series));
    }

    private static string Prose(StudyContext context, IReadOnlyList<SpectralResult> results, SpectralResult alexNet, SpectralLayer pool,
        LocalResponseNormSettings normalization, SpectralClaims claims)
    {
        int images = results.Select(result => result.Certified?.Images ?? 0).DefaultIfEmpty(0).Max();
        var poolRow = alexNet.Layers.FirstOrDefault(layer => layer.Kind == "maxpool");
        return
            "**What the spectral analysis does (the reader's third question).** Section 4.4 writes the network as a chain of layers " +
            "phi = phi_K o ... o phi_1 and bounds how much each can stretch a perturbation: ||phi_k(x) - phi_k(x + r)|| <= L_k ||r||. " +
            "For a fully connected layer L_k is the largest singular value of its weight; for a convolution the paper takes the 2-D Fourier " +
            "transform of the filters and the largest singular value of the per-frequency matrix (we fold stride in by polyphase " +
            "decomposition and keep zero padding sound by embedding the input in a circular grid of size H + 2p); " +
            SpectralVerdicts.WeightlessConstants(normalization, pool.Kernel, pool.Stride, pool.InputShape[1]) + ". The product bounds the whole network. A large product does not " +
            "prove that adversarial examples exist, but a small one would rule them out; the per-layer numbers show where instability could come from. " +
            claims.FourierBounds.Sentence + "\n\n" +
            $"**What we measured.** On the first {images} test images of each model we pushed random perturbations, the adversarial perturbations of L-BFGS, C&W and DeepFool, and the locally worst " +
            "direction (power iteration on the Jacobian) through each network and divided output change by input change, per layer and " +
            $"for the whole network. {claims.Soundness.Sentence} {claims.LinearLayers.Sentence} {claims.NetworkGap.Sentence}\n\n" +
            "**What the bounds certify.** A bound L means no perturbation with ||r||_2 < margin / (sqrt(2) L) can change the class. " +
            claims.Certification.Sentence + "\n\n" +
            "**AlexNet.** We build Krizhevsky et al.'s network (five convolutions with the original strides and groups, LRN, overlapping " +
            $"max-pooling, three fully connected layers, input 3 x {AlexNet.InputSide} x {AlexNet.InputSide}). Table 5's numbers ({SpectralVerdicts.PaperTable5(AlexNet.PaperTable5)}) belong to the " +
            $"paper's weights trained on ImageNet; ours come from {alexNet.Weights} (no ImageNet weights here), so they show the " +
            $"method, not the paper's values: product {Number(alexNet.Product, 1)} against a largest measured ratio of {Number(alexNet.Empirical.MaxRatio, 3)} on {alexNet.Inputs}" +
            (poolRow is null ? "" : $" (each of its pools counts {Number(poolRow.Bound, 2)})") +
            $"; bounds took {Number(alexNet.BoundSeconds, 1)} s. `intriguing spectral --arch alexnet --weights FILE` computes the table for trained weights." +
            (context.Quick ? "\n\n**Quick run**: fewer images, so the measured ratios are lower estimates over a smaller sample." : "");
    }

    private static ReportTable SummaryTable(IReadOnlyList<SpectralResult> results) => new(
        "Whole networks: the product of the layer bounds, the largest measured ||phi(x) - phi(x+r)|| / ||r|| (pairs measured in brackets), " +
        "and per test image the certified L2 radius beside the smallest attack perturbation (medians over correctly classified images an attack fooled).",
        ["model", "bound (product)", "max measured (pairs)", "sound", "certified L2 (median)", "attack L2 (median)", "attack / certified (median, min)", "seconds (cpu)"],
        results.Select(result => (IReadOnlyList<ReportCell>)
        [
            result.Model,
            ReportCell.Ours(Number(result.Product, 2)),
            ReportCell.Ours($"{Number(result.Empirical.MaxRatio, 2)} ({result.Empirical.Samples})"),
            result.Sound ? "yes" : "NO",
            ReportCell.Ours(Number(result.Certified?.MedianCertifiedL2 ?? double.NaN, 3)),
            ReportCell.Ours(Number(result.Certified?.MedianAttackL2 ?? double.NaN, 3)),
            ReportCell.Ours($"{Number(result.Certified?.MedianRatio ?? double.NaN, 1)}x, {Number(result.Certified?.MinRatio ?? double.NaN, 1)}x"),
            $"{Number(result.BoundSeconds + result.MeasureSeconds, 1)} ({Number(result.CpuSeconds, 1)})",
        ]).ToList());

    private static ReportTable LayerTable(IReadOnlyList<SpectralResult> results) => new(
        "Every layer of every zoo model: its bound, its exact constant, the largest ratio measured at that layer in its own worst local " +
        "direction and over the differences that random, adversarial and Jacobian perturbations of the input bring to it.",
        ["model", "layer", "kind", "bound", "exact", "measured: own worst direction", "measured: propagated", "how"],
        results.SelectMany(result => result.Layers.Select(layer => (IReadOnlyList<ReportCell>)
        [
            result.Model,
            layer.Name,
            layer.Kind,
            ReportCell.Ours(Number(layer.Bound, 4)),
            ExactCell(layer, 4),
            ReportCell.Ours(Number(Source(layer, "local"), 4)),
            ReportCell.Ours(Number(layer.MeasuredBySource.Where(stats => stats.Source != "local" && stats.Samples > 0).Select(stats => stats.MaxRatio).DefaultIfEmpty(double.NaN).Max(), 4)),
            layer.BoundMethod,
        ])).ToList());

    private static ReportTable AlexNetTable(SpectralResult alexNet) => new(
        $"AlexNet beside Table 5. Ours: {alexNet.Weights}; measured on {alexNet.Inputs}. Table 5's numbers belong to the paper's weights trained on ImageNet, " +
        "so the columns compare the method, not the values. A convolution's exact column is power iteration on the layer as computed: an estimate from below, marked so; " +
        "the bounds never use it.",
        ["layer", "kind", "bound (ours)", "Table 5 (paper)", "exact or estimate (ours)", "max measured", "how"],
        alexNet.Layers.Select(layer => (IReadOnlyList<ReportCell>)
        [
            layer.Name,
            layer.Kind,
            ReportCell.Ours(Number(layer.Bound, 3)),
            ReportCell.Paper(layer.Paper is double paper ? Number(paper, 2) : ""),
            ExactCell(layer, 3),
            ReportCell.Ours(Number(layer.MaxRatio, 3)),
            layer.BoundMethod,
        ]).Append(
        [
            "network", "product", ReportCell.Ours(Number(alexNet.Product, 1)), ReportCell.Paper(""), "", ReportCell.Ours(Number(alexNet.Empirical.MaxRatio, 3)),
            alexNet.Sound ? "sound" : "NOT sound",
        ]).ToList());

    private static ReportTable ConvolutionTable(IEnumerable<SpectralResult> results) => new(
        "Convolutions: the Fourier bound on the layer's padded input grid (how its maximum over frequencies was settled: decompositions, " +
        "Cholesky certificates, cheap norms), the stride-1 Fourier number (what ignoring the stride would give), power iteration on the padded, " +
        "strided convolution (an estimate of its norm from below), and power iteration on the circular convolution, which the Fourier number must equal (relative difference).",
        ["model", "layer", "grid", "Fourier bound", "maximum over frequencies", "stride-1 Fourier", "estimate (power iteration)", "bound / estimate", "circular: relative difference"],
        results.SelectMany(result => result.Layers.Where(layer => layer.Fourier is not null).Select(layer => (IReadOnlyList<ReportCell>)
        [
            result.Model,
            layer.Name,
            $"{layer.Fourier!.GridHeight}x{layer.Fourier.GridWidth}",
            ReportCell.Ours(Number(layer.Bound, 4)),
            LayerBounds.Established(layer.Fourier),
            Number(layer.Fourier.Stride1Bound, 4),
            layer.Exact is double exact ? Number(exact, 4) : ReportFormat.NotAvailable,
            layer.Exact is double value && value > 0 ? Number(layer.Bound / value, 4) : ReportFormat.NotAvailable,
            layer.Circular is { } circular ? circular.RelativeDifference.ToString("G2", CultureInfo.InvariantCulture) : "not run",
        ])).ToList());

    /// <summary>The exact column: the value, marked where it is a power-iteration estimate rather than exact.</summary>
    private static string ExactCell(LayerRow layer, int decimals) => layer.Exact switch
    {
        double exact when layer.ExactKind == NumberKind.Estimate => $"{Number(exact, decimals)} (estimate)",
        double exact => Number(exact, decimals),
        _ => ReportFormat.NotAvailable,
    };

    private static double Source(LayerRow layer, string source) =>
        layer.MeasuredBySource.FirstOrDefault(stats => stats.Source == source)?.MaxRatio ?? double.NaN;

    private static string Number(double value, int decimals) => ReportFormat.Number(value, decimals);
}
