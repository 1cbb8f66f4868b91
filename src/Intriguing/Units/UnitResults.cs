namespace Intriguing.Units;

/// <summary>Settings of the unit analysis (Section 3).</summary>
/// <param name="Top">K, the images kept per direction (the paper shows 8).</param>
/// <param name="RandomDirections">N, the random unit-norm directions compared with the layer's single units.</param>
/// <param name="Seed">Seeds the random directions (Random(seed)), the chance sets (Random(seed + 1)) and the units shown in figures (Random(seed + 2)).</param>
/// <param name="ChanceSamples">How many sets of K random images give the chance levels.</param>
public sealed record UnitAnalysisOptions(int Top = 8, int RandomDirections = 500, int Seed = 0, int ChanceSamples = 2000)
{
    /// <summary>The paper's K.</summary>
    public const int PaperTop = 8;

    /// <exception cref="BadInputException">A setting out of range, named as the command line names it.</exception>
    public void Validate(int pool)
    {
        if (Top < 2 || Top > pool)
        {
            throw new BadInputException($"--top must be 2..{pool} (the images in the pool; pairwise similarity needs two); got {Top}");
        }
        if (RandomDirections < 1)
        {
            throw new BadInputException($"--directions must be at least 1 (random directions to compare with the units); got {RandomDirections}");
        }
        if (ChanceSamples < 1)
        {
            throw new BadInputException($"chance samples must be at least 1; got {ChanceSamples}");
        }
    }
}

/// <summary>One direction's top-K images and how coherent they are.</summary>
/// <param name="Name">"unit 17" (natural basis e_17) or "random 3" (the fourth random direction).</param>
/// <param name="Natural">True for a single unit e_i, false for a random direction v.</param>
/// <param name="Index">The unit's index in the layer, or the random direction's number.</param>
/// <param name="TopImages">Test-set indices of the K images with the highest &lt;phi(x), direction&gt;, best first.</param>
/// <param name="TopScores">Their scores &lt;phi(x), direction&gt;.</param>
/// <param name="MajorityLabel">The most common label among them.</param>
/// <param name="Purity">The share of <paramref name="MajorityLabel"/> among the K images.</param>
/// <param name="LayerBelowCosine">Mean pairwise cosine similarity of the K images' activations in the layer below (pixels for the first hidden layer).</param>
/// <param name="PixelCosine">Mean pairwise cosine similarity of the K images' pixels.</param>
/// <param name="Inactive">Fewer than K images score above the pool's lowest score (a dead or almost dead unit): part of the selection was by index only, so it is left out of the comparison.</param>
/// <param name="TiedAtCut">The K-th and (K+1)-th scores are equal: part of the selection was decided by index.</param>
public sealed record DirectionCoherence(
    string Name,
    bool Natural,
    int Index,
    int[] TopImages,
    float[] TopScores,
    int MajorityLabel,
    double Purity,
    double LayerBelowCosine,
    double PixelCosine,
    bool Inactive,
    bool TiedAtCut);

/// <summary>
/// The coherence of one family of directions (the single units, or the random directions) in a layer. Means are over
/// the <paramref name="Compared"/> directions that are active on at least K images; <paramref name="PerDirection"/> lists every direction.
/// </summary>
/// <param name="Directions">All directions of the family.</param>
/// <param name="Compared">Directions in the comparison (above their floor on at least K images).</param>
/// <param name="InactiveExcluded">Directions left out because fewer than K images lift them above their floor (dead or almost dead units).</param>
/// <param name="TiedAtCut">Compared directions whose K-th place was shared with further images (index decided).</param>
/// <param name="MeanPurity">Mean label purity over the compared directions.</param>
/// <param name="PurityInterval">95% interval of <paramref name="MeanPurity"/> (normal approximation, mean +- 1.96 standard errors).</param>
/// <param name="MeanLayerBelowCosine">Mean of the layer-below pairwise cosine similarity.</param>
/// <param name="MeanPixelCosine">Mean of the pixel-space pairwise cosine similarity.</param>
/// <param name="MeanPurityAllDirections">Mean label purity over every direction, the inactive ones included (their top K partly by index).</param>
/// <param name="PerDirection">Every direction's own measures, in order.</param>
public sealed record DirectionFamily(
    int Directions,
    int Compared,
    int InactiveExcluded,
    int TiedAtCut,
    double MeanPurity,
    double[] PurityInterval,
    double MeanLayerBelowCosine,
    double MeanPixelCosine,
    double MeanPurityAllDirections,
    IReadOnlyList<DirectionCoherence> PerDirection)
{
    /// <summary>
    /// How many different images the compared directions' top-K sets hold together (at most K x <see cref="Compared"/>).
    /// Far fewer means the directions share their top images (neighbouring conv units see overlapping patches), so
    /// they are not independent samples of the layer's directions.
    /// </summary>
    public int DistinctTopImages => PerDirection.Where(direction => !direction.Inactive).SelectMany(direction => direction.TopImages).Distinct().Count();
}

/// <summary>The same measures for sets of K images drawn at random from the pool: what "no coherence" looks like.</summary>
public sealed record ChanceLevels(int Samples, double Purity, double LayerBelowCosine, double PixelCosine);

/// <summary>
/// Natural against random directions on one measure: the two-sided Mann-Whitney test and Cliff's delta (positive: units
/// more coherent). <see cref="AdjustedPValue"/> is <see cref="PValue"/> after Holm's correction over the
/// <see cref="Tests"/> comparisons reported together (NaN until <see cref="UnitVerdicts.Correct"/> sets it).
/// </summary>
public sealed record MeasureComparison(
    string Measure,
    double Natural,
    double Random,
    double Chance,
    double PValue,
    double CliffsDelta,
    EffectMagnitude Magnitude,
    double U,
    double Z,
    int NaturalCount,
    int RandomCount,
    double AdjustedPValue,
    int Tests);

/// <summary>What the comparison of label purity says (p-values Holm-adjusted over the tests reported together).</summary>
public enum UnitVerdictKind
{
    /// <summary>
    /// No difference detected (adjusted p &gt;= 0.05). Not evidence that the two are equally coherent: no equivalence
    /// margin is tested; it only fails to contradict the paper.
    /// </summary>
    NoDifference,

    /// <summary>A difference is detected but Cliff's |delta| &lt; 0.147: too small to see, so it does not contradict the paper.</summary>
    NegligibleDifference,

    /// <summary>Single units are more coherent (adjusted p &lt; 0.05, delta &gt;= 0.147): against the paper, with Bau et al. 2017.</summary>
    UnitsMoreCoherent,

    /// <summary>Random directions are more coherent (adjusted p &lt; 0.05, delta &lt;= -0.147): units are, if anything, less interpretable.</summary>
    RandomMoreCoherent,
}

/// <summary>The verdict on one layer, the sentence that states it with its numbers, and the size of the corrected family (<see cref="Tests"/>).</summary>
public sealed record UnitVerdict(UnitVerdictKind Kind, string Sentence, int Tests)
{
    /// <summary>
    /// True unless single units came out more coherent than random directions: the paper's claim is not contradicted
    /// on the layer. Not a test of equivalence ("no difference detected" is not "no difference").
    /// </summary>
    public bool PaperClaimHolds => Kind != UnitVerdictKind.UnitsMoreCoherent;
}

/// <summary>
/// Section 3's comparison for one layer: the single units e_i and the random directions v, each with its top-K
/// images of the pool and their coherence, the chance levels, the tests, and the verdict.
/// </summary>
/// <param name="Layer">The layer's name (e.g. "conv2", "hidden1").</param>
/// <param name="LayerIndex">Its index in the model's hidden layers, input side first.</param>
/// <param name="LayerBelow">The layer whose activations give <see cref="DirectionCoherence.LayerBelowCosine"/>, "pixels" for the first hidden layer.</param>
/// <param name="Units">The layer's width (the number of natural directions).</param>
/// <param name="Pool">Images in the pool (the MNIST test set).</param>
/// <param name="Top">K.</param>
/// <param name="Seed">The seed of the random choices.</param>
/// <param name="Natural">The single units.</param>
/// <param name="Random">The random directions.</param>
/// <param name="ChanceLevels">The measures for random sets of K images.</param>
/// <param name="Comparisons">Purity, layer-below cosine, pixel cosine: natural against random.</param>
/// <param name="Verdict">The verdict from label purity, its p-value Holm-adjusted over <see cref="UnitVerdict.Tests"/> tests.</param>
/// <param name="Seconds">Wall time of the layer's analysis (activations excluded).</param>
public sealed record LayerUnits(
    string Layer,
    int LayerIndex,
    string LayerBelow,
    int Units,
    int Pool,
    int Top,
    int Seed,
    DirectionFamily Natural,
    DirectionFamily Random,
    ChanceLevels ChanceLevels,
    IReadOnlyList<MeasureComparison> Comparisons,
    UnitVerdict Verdict,
    double Seconds)
{
    /// <summary>The name of the label-purity comparison.</summary>
    public const string PurityMeasure = "purity";
    /// <summary>The name of the layer-below cosine comparison.</summary>
    public const string LayerBelowCosineMeasure = "layerBelowCosine";
    /// <summary>The name of the pixel-space cosine comparison.</summary>
    public const string PixelCosineMeasure = "pixelCosine";

    /// <summary>Chance label purity (the <c>chance</c> field of docs/json-output.md).</summary>
    public double Chance => ChanceLevels.Purity;

    /// <summary>The purity comparison, the headline one.</summary>
    public MeasureComparison PurityComparison => Comparison(PurityMeasure);

    /// <summary>The two-sided Mann-Whitney p-value of purity, natural against random (uncorrected).</summary>
    public double PValue => PurityComparison.PValue;

    /// <summary>The same after Holm's correction over the tests reported together: the one the verdict reads.</summary>
    public double AdjustedPValue => PurityComparison.AdjustedPValue;

    /// <summary>Cliff's delta of purity, natural against random.</summary>
    public double EffectSize => PurityComparison.CliffsDelta;

    /// <summary>The comparison named <paramref name="measure"/> (<see cref="PurityMeasure"/>, ...).</summary>
    /// <exception cref="ArgumentException">No comparison of that name.</exception>
    public MeasureComparison Comparison(string measure) =>
        Comparisons.FirstOrDefault(comparison => comparison.Measure == measure)
        ?? throw new ArgumentException($"no comparison of '{measure}'", nameof(measure));
}

/// <summary>Every analysed layer of one model.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Pool">Images in the pool.</param>
/// <param name="Top">K.</param>
/// <param name="RandomDirections">N.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Layers">One result per layer, input side first.</param>
/// <param name="ActivationSeconds">Wall time of computing the activations over the pool.</param>
/// <param name="Seconds">Wall time of the whole analysis.</param>
public sealed record ModelUnits(string Model, int Pool, int Top, int RandomDirections, int Seed, IReadOnlyList<LayerUnits> Layers, double ActivationSeconds, double Seconds);
