using System.Globalization;
using Intriguing.Reporting;
using Intriguing.Statistics;
using Intriguing.Units;

namespace Intriguing.Reproduction;

/// <summary>
/// Section 3 and Figures 1-4: are single units more interpretable than random directions of the same layer? For every
/// hidden layer of <c>conv</c> and <c>fc100-100-10</c>, the top-K test images of each unit and of random directions,
/// their coherence against chance, a Mann-Whitney test with Cliff's delta (Holm-corrected over every test of the section),
/// the verdict beside the paper's claim, and
/// the image grids. The work is <see cref="UnitAnalysis"/>; this class only runs it and writes the section.
/// </summary>
public sealed class UnitsStudy(int pool, int randomDirections, int top = UnitAnalysisOptions.PaperTop) : IStudy
{
    /// <summary>The models the section analyses, every hidden layer of each.</summary>
    public static readonly IReadOnlyList<string> Models = ["conv", "fc100-100-10"];

    /// <summary>Section 3's claim, as the verdicts quote it.</summary>
    public const string PaperClaim = "single units are no more coherent than random directions";

    /// <inheritdoc/>
    public string Key => "units";

    /// <inheritdoc/>
    public string Title => "Section 3: units or directions? Figures 1-4 as a measurement";

    /// <inheritdoc/>
    public IReadOnlyList<ReportClaim> PlannedClaims => [new("1", UnitVerdicts.PaperClaimText, ReportVerdict.NotRun, "not run yet")];

    /// <inheritdoc/>
    public string Fingerprint => $"{string.Join(",", Models)}|pool={pool}|directions={randomDirections}|top={top}|chance={new UnitAnalysisOptions().ChanceSamples}|rows={UnitFigure.DefaultRows}|verdicts=holm";

    /// <summary>One family of directions (single units or random directions) of a layer, in report.json; see <see cref="DirectionFamily"/>.</summary>
    /// <param name="Directions">All directions of the family.</param>
    /// <param name="Compared">Directions in the comparison (above their floor on at least K images).</param>
    /// <param name="InactiveExcluded">Directions left out as inactive (dead or almost dead units).</param>
    /// <param name="TiedAtCut">Compared directions whose K-th place was shared with further images.</param>
    /// <param name="MeanPurity">Mean label purity over the compared directions, in [0,1].</param>
    /// <param name="PurityInterval">95% interval of <paramref name="MeanPurity"/>, [lo, hi].</param>
    /// <param name="MeanLayerBelowCosine">Mean pairwise cosine similarity of the top images in the layer below.</param>
    /// <param name="MeanPixelCosine">Mean pairwise cosine similarity of the top images in pixel space.</param>
    /// <param name="MeanPurityAllDirections">Mean label purity over every direction, the inactive ones included.</param>
    /// <param name="DistinctTopImages">How many different images the compared directions' top-K sets hold together.</param>
    public sealed record FamilySummary(int Directions, int Compared, int InactiveExcluded, int TiedAtCut, double MeanPurity, double[] PurityInterval,
        double MeanLayerBelowCosine, double MeanPixelCosine, double MeanPurityAllDirections, int DistinctTopImages);

    /// <summary>One hidden layer's comparison of single units with random directions, in report.json; see <see cref="LayerUnits"/>.</summary>
    /// <param name="Layer">The layer's name.</param>
    /// <param name="LayerBelow">The layer whose activations give the layer-below cosine ("pixels" for the first).</param>
    /// <param name="Units">The layer's width.</param>
    /// <param name="Natural">The single units.</param>
    /// <param name="Random">The random directions.</param>
    /// <param name="Chance">Label purity of K images drawn at random.</param>
    /// <param name="PValue">Two-sided Mann-Whitney p of purity, natural against random.</param>
    /// <param name="EffectSize">Cliff's delta of purity (positive: units purer).</param>
    /// <param name="ChanceLevels">Every measure for random sets of K images.</param>
    /// <param name="Comparisons">Purity, layer-below cosine and pixel cosine: natural against random.</param>
    /// <param name="VerdictKind">The verdict as a value.</param>
    /// <param name="PaperClaimHolds">True when the measurements agree with <see cref="PaperClaim"/>.</param>
    /// <param name="Verdict">The verdict in one sentence.</param>
    /// <param name="Figure">The file name of the layer's image grid under figures/.</param>
    /// <param name="Seconds">Wall time of the layer's analysis, activations excluded.</param>
    /// <param name="AdjustedPValue"><paramref name="PValue"/> after Holm's correction over the section's tests.</param>
    /// <param name="Tests">How many tests the correction covers.</param>
    /// <param name="Top">K, the top images per direction.</param>
    public sealed record LayerSummary(string Layer, string LayerBelow, int Units, FamilySummary Natural, FamilySummary Random, double Chance,
        double PValue, double EffectSize, ChanceLevels ChanceLevels, IReadOnlyList<MeasureComparison> Comparisons, UnitVerdictKind VerdictKind,
        bool PaperClaimHolds, string Verdict, string Figure, double Seconds, double AdjustedPValue, int Tests, int Top);

    /// <summary>Every analysed layer of one model, in report.json.</summary>
    /// <param name="Model">The model's name.</param>
    /// <param name="Pool">Test images ranked per direction.</param>
    /// <param name="Layers">One summary per hidden layer, input side first.</param>
    /// <param name="ActivationSeconds">Wall time of computing the activations over the pool.</param>
    /// <param name="Seconds">Wall time of the model's whole analysis.</param>
    public sealed record ModelSummary(string Model, int Pool, IReadOnlyList<LayerSummary> Layers, double ActivationSeconds, double Seconds);

    /// <inheritdoc/>
    public ReportSection Run(StudyContext context)
    {
        var options = new UnitAnalysisOptions(top, randomDirections, context.Seed);
        int poolSize = Math.Min(pool, context.Data.Test.Count);
        var results = new List<ModelUnits>();
        var figures = new List<ReportFigure>();
        using var images = context.Data.Test.Slice(0, poolSize);
        foreach (string name in Models)
        {
            var trained = context.Model(name);
            var layers = UnitLayers.Resolve(trained.Model, name, null);
            var result = UnitAnalysis.Analyze(trained.Model, name, images, layers, options, context.Progress);
            foreach (var layer in result.Layers)
            {
                byte[] png = UnitFigure.Render(layer, images.Images, images.Labels,
                    $"{name}, layer {layer.Layer}: top {top} of {Count(poolSize)} test images per direction (seed {context.Seed})");
                figures.Add(new ReportFigure(FigureName(name, layer), FigureCaption(name, layer, poolSize), png));
            }
            results.Add(result);
        }

        // Every test this section reports (both models, every layer, three measures) is one family for Holm's correction.
        var judged = UnitVerdicts.JudgeTogether([.. results.SelectMany(result => result.Layers)]);
        var models = new List<ModelSummary>();
        int next = 0;
        foreach (var result in results)
        {
            var summaries = result.Layers.Select(_ => judged[next++]).Select(layer => Summarise(layer, FigureName(result.Model, layer))).ToList();
            models.Add(new ModelSummary(result.Model, poolSize, summaries, Math.Round(result.ActivationSeconds, 2), Math.Round(result.Seconds, 2)));
        }

        var allLayers = models.SelectMany(model => model.Layers.Select(layer => (model.Model, Layer: layer))).ToList();
        var purityTable = new ReportTable(
            $"Label purity of the top {top} of {Count(poolSize)} test images per direction: single units e_i against {randomDirections} random unit directions v " +
            "(means with 95% intervals; units active on fewer than K images left out), chance = K images drawn at random, two-sided Mann-Whitney p " +
            $"(and Holm-adjusted over the section's {allLayers.FirstOrDefault().Layer?.Tests ?? 0} tests, which the verdict reads) and Cliff's delta (+: units purer); " +
            "distinct top images: how many different images the compared directions' top-K sets hold together, of K per direction.",
            ["model", "layer", "units compared", "purity: units (ours)", "purity: random (ours)", "chance", "Cliff's delta", "p (Holm-adjusted)", "distinct top images: units / random",
                "verdict (ours)", "paper (Section 3)"],
            allLayers.Select(row => (IReadOnlyList<ReportCell>)
            [
                row.Model,
                row.Layer.Layer,
                $"{row.Layer.Natural.Compared} of {row.Layer.Units}",
                ReportCell.Ours(WithInterval(row.Layer.Natural)),
                ReportCell.Ours(WithInterval(row.Layer.Random)),
                ReportFormat.Number(row.Layer.Chance),
                ReportCell.Ours(Delta(row.Layer.Comparisons[0])),
                ReportCell.Ours($"{PValues.Format(row.Layer.PValue)} ({PValues.Format(row.Layer.AdjustedPValue)})"),
                ReportCell.Ours($"{Distinct(row.Layer.Natural, top)} / {Distinct(row.Layer.Random, top)}"),
                ReportCell.Ours(UnitVerdicts.Words(row.Layer.VerdictKind)),
                ReportCell.Paper("units no more coherent"),
            ]).ToList());

        var similarityTable = new ReportTable(
            "Without labels: mean pairwise cosine similarity of the top images' activations in the layer below (pixels under the first hidden layer) " +
            "and of their pixels; units / random / chance, then Cliff's delta and p (Holm-adjusted in brackets).",
            ["model", "layer", "layer below", "similarity below: units / random / chance", "delta, p (below)", "pixel similarity: units / random / chance", "delta, p (pixels)"],
            allLayers.Select(row =>
            {
                var below = row.Layer.Comparisons.First(item => item.Measure == LayerUnits.LayerBelowCosineMeasure);
                var pixels = row.Layer.Comparisons.First(item => item.Measure == LayerUnits.PixelCosineMeasure);
                return (IReadOnlyList<ReportCell>)
                [
                    row.Model,
                    row.Layer.Layer,
                    row.Layer.LayerBelow,
                    ReportCell.Ours(Triple(below)),
                    ReportCell.Ours($"{Delta(below)}, p {PValues.Format(below.PValue)} ({PValues.Format(below.AdjustedPValue)})"),
                    ReportCell.Ours(Triple(pixels)),
                    ReportCell.Ours($"{Delta(pixels)}, p {PValues.Format(pixels.PValue)} ({PValues.Format(pixels.AdjustedPValue)})"),
                ];
            }).ToList());

        string overall = Overall(allLayers.Select(row => (row.Model, row.Layer)).ToList());
        return new ReportSection(Key, Title, Prose(context.Seed, poolSize, allLayers, overall))
        {
            Claims = [UnitVerdicts.PaperClaim([.. allLayers.Select(row => (row.Model, row.Layer.Layer, row.Layer.VerdictKind))], allLayers.FirstOrDefault().Layer?.Tests ?? 0)],
            Tables = [purityTable, similarityTable],
            Figures = figures,
            Data = new
            {
                paperClaim = PaperClaim,
                verdict = overall,
                pool = poolSize,
                top,
                directions = randomDirections,
                seed = context.Seed,
                models,
            },
        };
    }

    private string Prose(int seed, int poolSize, IReadOnlyList<(string Model, LayerSummary Layer)> rows, string overall)
    {
        var layers = rows.Select(row => row.Layer).ToList();
        var lines = new List<string>
        {
            "The paper's first finding (Section 3, Figures 1-4): the held-out images that most activate a single unit e_i look no more " +
            "alike than those that most activate a random direction v of the same layer, so \"meaning\" lives in the space of activations " +
            "rather than in single units. The paper shows hand-picked grids. We turn them into a measurement: for every hidden layer of the " +
            $"convnet `conv` and of FC100-100-10, the top {top} of the first {Count(poolSize)} MNIST test images by <phi(x), e_i> for every unit, " +
            $"and by <phi(x), v> for {randomDirections} random unit directions drawn with seed {seed}; ties go to the lower image index. " +
            "Each set of images is scored by its label purity (the share of its most common label) and, without labels, by the mean " +
            "pairwise cosine similarity of the images in the layer below and in pixel space. Chance is the same score for sets of random images. " +
            "Units active on fewer than K images (dead ReLUs) have no top K of their own and are left out; the tables say how many.",
            "",
            "**Verdict:** " + overall,
            "",
        };
        lines.AddRange(rows.Select(row => $"- `{row.Model}` {row.Layer.Verdict}"));
        lines.Add("");
        int tests = layers.FirstOrDefault()?.Tests ?? 0;
        bool aboveChance = layers.All(layer => layer.Natural.PurityInterval[0] > layer.Chance && layer.Random.PurityInterval[0] > layer.Chance);
        lines.Add(
            "The verdict is read from label purity; a label-free measure that differs too is named in the same line. " +
            $"All {tests} Mann-Whitney tests of this section ({layers.Count} layers, {(layers.Count == 0 ? 0 : tests / layers.Count)} measures each) are one family, corrected with Holm's method: " +
            $"a difference counts when its Holm-adjusted p is below {UnitVerdicts.Alpha.ToString(CultureInfo.InvariantCulture)} and Cliff's |delta| is at least " +
            $"{UnitVerdicts.NegligibleDelta.ToString(CultureInfo.InvariantCulture)} (Romano et al.'s \"small\"); with hundreds of directions the test alone flags differences too small to see. " +
            "\"No difference detected\" is only that: no equivalence margin is tested, so it fails to contradict the paper rather than confirming that units and random " +
            "directions are equally coherent. " +
            (aboveChance
                ? "Both families are above chance on every layer (the lower end of each 95% interval exceeds chance): whichever direction of these layers one takes, its top images resemble each other, which is the paper's point that the space, not the axis, carries the meaning."
                : "Not every family is above chance on every layer (see the table): there, a direction's top images are hardly more alike than random ones.") +
            " Each model here is one trained network with one draw of directions; docs/units.md repeats the measurement over three seeds (three trainings), " +
            "which tells a property of the architecture from a property of one network.");
        lines.Add("");
        lines.Add(Independence(rows));
        lines.Add("");
        lines.Add(BauNote(rows));
        lines.Add("");
        lines.Add(
            "The figures show, per layer, six units drawn at random with the seed (left, as the paper's Figure 1) and the first six random " +
            "directions (right, as Figure 2), each image captioned with its true label. The paper's Figures 3 and 4 use AlexNet on ImageNet, " +
            "which this MNIST toolkit does not train; FC100-100-10's layers stand in for a second architecture. `intriguing units --model NAME` " +
            "runs the same analysis on any model, with every direction's images in its JSON output.");
        return string.Join("\n", lines);
    }

    private static string BauNote(IReadOnlyList<(string Model, LayerSummary Layer)> rows)
    {
        var unitsWin = rows.Where(row => row.Layer.VerdictKind == UnitVerdictKind.UnitsMoreCoherent).Select(row => $"{row.Model} {row.Layer.Layer}").ToList();
        string start =
            "Later work disagrees in part: Bau et al. (2017, \"Network Dissection\") found that the units of trained ImageNet and Places convnets " +
            "match human-labelled concepts far more often than the axes of a random rotation of the same layer, so whether units are special " +
            "depends on the network and the layer. ";
        return unitsWin.Count == 0
            ? start + "On our MNIST layers no layer shows single units detectably purer than random directions by more than a negligible margin (Holm-adjusted)."
            : start + $"Here too, in {string.Join(" and ", unitsWin)}, single units come out purer than random directions, which sides with Bau et al. for that layer.";
    }

    private static string Overall(IReadOnlyList<(string Model, LayerSummary Layer)> layers)
    {
        string Names(UnitVerdictKind kind) => string.Join(", ", layers.Where(row => row.Layer.VerdictKind == kind).Select(row => $"{row.Model} {row.Layer.Layer}"));
        int Count(UnitVerdictKind kind) => layers.Count(row => row.Layer.VerdictKind == kind);
        int tests = layers.FirstOrDefault().Layer?.Tests ?? 0;
        var parts = new List<string>
        {
            $"by label purity (Holm-adjusted over {tests} tests), no difference between single units and random directions is detected on {Count(UnitVerdictKind.NoDifference)} of {layers.Count} layers",
        };
        if (Count(UnitVerdictKind.NegligibleDifference) > 0)
        {
            parts.Add($"a negligible one on {Count(UnitVerdictKind.NegligibleDifference)} ({Names(UnitVerdictKind.NegligibleDifference)})");
        }
        if (Count(UnitVerdictKind.RandomMoreCoherent) > 0)
        {
            parts.Add($"random directions are purer on {Count(UnitVerdictKind.RandomMoreCoherent)} ({Names(UnitVerdictKind.RandomMoreCoherent)})");
        }
        string text = string.Join("; ", parts);
        var against = layers.Where(row => row.Layer.VerdictKind == UnitVerdictKind.UnitsMoreCoherent).ToList();
        text += against.Count == 0
            ? $"; single units are purer on none, so the paper's claim is not contradicted on any layer (without an equivalence test, not confirmed either)"
            : "; against the paper, single units are purer on " + string.Join(", ", against.Select(row => string.Create(CultureInfo.InvariantCulture,
                $"{row.Model} {row.Layer.Layer} (purity {row.Layer.Natural.MeanPurity:0.00} vs {row.Layer.Random.MeanPurity:0.00}, delta {row.Layer.EffectSize:+0.00;-0.00}, " +
                $"{UnitVerdicts.Words(MannWhitney.MagnitudeOf(row.Layer.EffectSize))} effect, Holm-adjusted p {PValues.Format(row.Layer.AdjustedPValue)})")));
        return char.ToUpperInvariant(text[0]) + text[1..] + ".";
    }

    /// <summary>How far the directions share their top images, which the test's independence assumption ignores.</summary>
    private static string Independence(IReadOnlyList<(string Model, LayerSummary Layer)> rows)
    {
        if (rows.Count == 0)
        {
            return "";
        }
        static double Share(FamilySummary family, int top) => family.Compared == 0 ? 1 : (double)family.DistinctTopImages / (family.Compared * top);
        var tightest = rows.MinBy(row => Share(row.Layer.Natural, row.Layer.Top));
        return "The directions are not independent samples, though the Mann-Whitney test treats them so: neighbouring units of a convolutional layer see " +
            "overlapping patches of the same images, and any two directions may rank the same images first. " +
            string.Create(CultureInfo.InvariantCulture,
                $"On {tightest.Model} {tightest.Layer.Layer}, the layer where units share most, the {tightest.Layer.Natural.Compared:N0} compared units' top-{tightest.Layer.Top} sets " +
                $"({tightest.Layer.Natural.Compared * tightest.Layer.Top:N0} places) hold only {tightest.Layer.Natural.DistinctTopImages:N0} distinct images; the table gives every layer. ") +
            "Shared top images make the p-values optimistic, and Holm's correction does not undo that, " +
            "so a p-value just under the threshold is weak evidence.";
    }

    private static LayerSummary Summarise(LayerUnits layer, string figure) => new(
        layer.Layer, layer.LayerBelow, layer.Units, Family(layer.Natural), Family(layer.Random), layer.Chance, layer.PValue, layer.EffectSize,
        layer.ChanceLevels, layer.Comparisons, layer.Verdict.Kind, layer.Verdict.PaperClaimHolds, layer.Verdict.Sentence, figure, Math.Round(layer.Seconds, 2),
        layer.AdjustedPValue, layer.Verdict.Tests, layer.Top);

    private static FamilySummary Family(DirectionFamily family) => new(
        family.Directions, family.Compared, family.InactiveExcluded, family.TiedAtCut, family.MeanPurity, family.PurityInterval,
        family.MeanLayerBelowCosine, family.MeanPixelCosine, family.MeanPurityAllDirections, family.DistinctTopImages);

    private static string FigureName(string model, LayerUnits layer) => $"units-{model}-{layer.Layer}.png";

    private static string Distinct(FamilySummary family, int top) => string.Create(CultureInfo.InvariantCulture,
        $"{family.DistinctTopImages:N0} of {family.Compared * top:N0}");

    private static string FigureCaption(string model, LayerUnits layer, int poolSize) => string.Create(CultureInfo.InvariantCulture,
        $"In the style of Figures 1 (left: single units) and 2 (right: random directions): {model}, layer {layer.Layer}, top {layer.Top} of {Count(poolSize)} test images. " +
        $"Mean purity {layer.Natural.MeanPurity:0.00} (units) vs {layer.Random.MeanPurity:0.00} (random), chance {layer.Chance:0.00}.");

    private static string Count(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string WithInterval(FamilySummary family) => string.Create(CultureInfo.InvariantCulture,
        $"{family.MeanPurity:0.00} [{family.PurityInterval[0]:0.00}, {family.PurityInterval[1]:0.00}]");

    private static string Delta(MeasureComparison comparison) => string.Create(CultureInfo.InvariantCulture,
        $"{comparison.CliffsDelta:+0.00;-0.00;0.00} ({UnitVerdicts.Words(comparison.Magnitude)})");

    private static string Triple(MeasureComparison comparison) => string.Create(CultureInfo.InvariantCulture,
        $"{comparison.Natural:0.000} / {comparison.Random:0.000} / {comparison.Chance:0.000}");
}
