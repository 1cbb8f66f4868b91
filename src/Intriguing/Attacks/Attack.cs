using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Intriguing.Attacks.Criteria;
using Intriguing.Attacks.Distances;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// The workflow every attack shares (Foolbox 3's pattern), over any model's declared input: inputs flattened to
/// [N, D], kept in the model's box, success judged by a <see cref="Criterion"/>.
/// <list type="bullet">
/// <item><see cref="Perturb"/>, the batch API for inner loops (adversarial training): one batch in, its adversarial
/// points out (projected onto the box), with what the attack claims; no host checks, records or re-verification.</item>
/// <item><see cref="Run"/>, the verified, reported workflow on top of it: checks the inputs on the host, attacks batch
/// by batch, re-verifies every success with a fresh forward pass of exactly the point handed out, and returns
/// per-example records. The two give the same adversarial points for the same settings.</item>
/// </list>
/// A subclass overrides only <see cref="PerturbCore(Classifier, Tensor, Criterion, RowKeys)"/>, its core step, which must treat every row on its own
/// (per-row state, per-row random streams), so a row's result depends only on the attack's settings, the row and its
/// index in the run, never on the batch it shares. Attacks are values (records): their settings print, compare and
/// hash, so a run can be keyed on them; running one changes nothing in it.
/// </summary>
public abstract record Attack
{
    /// <summary>The short name used on the command line ("lbfgs", "fgsm", ...).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// True for minimal-perturbation attacks (L-BFGS, C&amp;W, DeepFool): an input the model already gets wrong
    /// needs no perturbation, so the clean input is returned for it with distortion 0 (untargeted only).
    /// </summary>
    protected virtual bool SeeksMinimalPerturbation => false;

    /// <summary>
    /// True when every candidate <see cref="PerturbCore(Classifier, Tensor, Criterion, RowKeys)"/> returns is already finite and inside the model's box (the
    /// attack clips each iterate itself), so the batch API can hand it out without another pass over it.
    /// </summary>
    protected virtual bool CandidatesInBox => false;

    /// <summary>
    /// True for attacks that take gradients with respect to the input (FGSM, PGD, L-BFGS, C&amp;W, DeepFool); false for
    /// those that only query the model's scores (Gaussian noise, Square), which also run on score-only models
    /// (<see cref="Classifier.ProvidesInputGradients"/> false, e.g. an ONNX file).
    /// </summary>
    public virtual bool NeedsGradients => true;

    /// <summary>The same attack drawing its random numbers from <paramref name="seed"/>; itself for attacks without randomness.</summary>
    public virtual Attack WithSeed(int seed) => this;

    /// <summary>Throws a <see cref="BadInputException"/> naming the setting that is out of range.</summary>
    public virtual void Validate() { }

    /// <summary>
    /// The batch API: adversarial points for <paramref name="inputs"/> (float32 [N, D] or [N, ...shape] as the model
    /// declares) with true <paramref name="labels"/> (int64 [N]), targeted when <paramref name="targets"/> is given.
    /// <paramref name="firstIndex"/> is the position of the batch's first row in the caller's run: random attacks
    /// draw each row's numbers from a stream keyed on (seed, index), so a row gets the same result in any batch.
    /// Only shapes are checked (nothing is read back from the device): values must be finite and inside the
    /// model's box, and targets must differ from labels. The model is used as it is (train or eval mode).
    /// </summary>
    public PerturbedBatch Perturb(Classifier model, Tensor inputs, Tensor labels, Tensor? targets = null, long firstIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        Validate();
        CheckGradients(model);
        using var scope = NewDisposeScope();
        var shaped = AttackInputs.CheckShapes(model.Input, inputs, labels, targets);
        var perturbed = PerturbFlat(model, shaped.Inputs, CriterionFor(shaped), RowKeys.From(firstIndex), cleanLogits: null);
        return new PerturbedBatch(
            perturbed.Adversarials.reshape(inputs.shape).MoveToOuterDisposeScope(),
            perturbed.ClaimedSuccess?.MoveToOuterDisposeScope(),
            perturbed.GradientEvaluations.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Attacks <paramref name="inputs"/> (float32 [N, D] or [N, ...shape], finite, inside the model's box) with true
    /// <paramref name="labels"/> (int64 [N], 0..classes-1). With <paramref name="targets"/> (int64 [N], each different
    /// from its label) the attack is targeted. Runs in eval mode, <paramref name="batchSize"/> inputs at a time, and
    /// reports progress once per batch. The adversarial points come back flattened, [N, D]. Each row's random streams
    /// are keyed on its position, or on <paramref name="keys"/>[i] when given (the image's own index when the rows are
    /// a subset of a larger run: the cascade's images still robust, a shard's images), so a row's result does not
    /// depend on which other rows are attacked with it. Records (<see cref="AdversarialExample.Index"/>) always number
    /// the rows by position.
    /// </summary>
    /// <exception cref="BadInputException">A tensor of the wrong shape or type, a NaN, a value outside the model's box,
    /// a label or target out of range, a target equal to its label, or a setting out of range.</exception>
    public AttackResult Run(
        Classifier model,
        Tensor inputs,
        Tensor labels,
        Tensor? targets = null,
        int batchSize = 500,
        IProgress<ProgressUpdate>? progress = null,
        long[]? keys = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (batchSize < 1)
        {
            throw new BadInputException($"batch size must be at least 1; got {batchSize}");
        }
        if (keys is not null && keys.LongLength != inputs.shape[0])
        {
            throw new BadInputException($"{Name}: {keys.LongLength} row keys for {inputs.shape[0]} inputs");
        }
        var rowKeys = keys is null ? RowKeys.From(0) : RowKeys.Of(keys);
        Validate();
        CheckGradients(model);
        using var scope = NewDisposeScope();
        var checkedInputs = AttackInputs.Check(model.Input, inputs, labels, targets);
        var stopwatch = Stopwatch.StartNew();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            int count = (int)checkedInputs.Inputs.shape[0];
            var criterion = CriterionFor(checkedInputs);
            var adversarialBatches = new List<Tensor>();
            var examples = new List<AdversarialExample>(count);
            int rejectedClaims = 0;
            bool verified = true;
            // Never more rows per pass than the model takes well (a convnet's unfolded buffers): every row's result is
            // its own, so the split changes no number.
            int rowsPerBatch = Math.Min(batchSize, model.RowsPerPass);
            for (int start = 0; start < count; start += rowsPerBatch)
            {
                int size = Math.Min(rowsPerBatch, count - start);
                using var batchScope = NewDisposeScope();
                var batch = RunBatch(model, checkedInputs.Inputs.narrow(0, start, size), criterion.Narrow(start, size), start, rowKeys.Skip(start));
                examples.AddRange(batch.Examples);
                rejectedClaims += batch.RejectedClaims;
                verified &= batch.Verified;
                adversarialBatches.Add(batch.Adversarials.MoveToOuterDisposeScope());
                progress?.Report(new ProgressUpdate($"attack {Name}", start + size, count,
                    $"{examples.Count(example => example.Success)}/{examples.Count} fooled"));
            }
            var adversarials = adversarialBatches.Count == 1 ? adversarialBatches[0] : cat(adversarialBatches, 0);
            var summary = AttackSummary.From(Name, criterion.IsTargeted, examples, rejectedClaims, verified, stopwatch.Elapsed.TotalSeconds);
            return new AttackResult(adversarials.MoveToOuterDisposeScope(), examples, summary);
        }
        finally
        {
            if (wasTraining)
            {
                model.train();
            }
        }
    }

    /// <summary>
    /// The attack's core step on one batch of flat inputs float [N, D]: candidate adversarial points [N, D] (the
    /// caller projects them onto the box) and the gradient evaluations each row used, int64 [N].
    /// </summary>
    /// <param name="model">The model under attack, its input as it declares.</param>
    /// <param name="inputs">The clean inputs, float [N, D], inside the model's box.</param>
    /// <param name="criterion">What counts as success for these rows.</param>
    /// <param name="keys">Each row's key for its random streams (<see cref="DrawPerRow"/>).</param>
    protected abstract PerturbOutput PerturbCore(Classifier model, Tensor inputs, Criterion criterion, RowKeys keys);

    /// <summary>
    /// <see cref="PerturbCore(Classifier, Tensor, Criterion, RowKeys)"/> given the clean inputs' logits, which
    /// <see cref="Run"/> has already computed: an attack that starts from them (APGD, FAB) overrides this to save a
    /// forward pass per batch. By default the logits are not used.
    /// </summary>
    /// <param name="model">The model under attack.</param>
    /// <param name="inputs">The clean inputs, float [N, D].</param>
    /// <param name="criterion">What counts as success for these rows.</param>
    /// <param name="keys">Each row's key for its random streams.</param>
    /// <param name="cleanLogits">The model's logits on <paramref name="inputs"/>, [N, classes].</param>
    protected virtual PerturbOutput PerturbCore(Classifier model, Tensor inputs, Criterion criterion, RowKeys keys, Tensor cleanLogits) =>
        PerturbCore(model, inputs, criterion, keys);

    /// <param name="Adversarials">Candidates, float [N, D].</param>
    /// <param name="GradientEvaluations">Forward+backward passes per row, int64 [N].</param>
    /// <param name="ClaimedSuccess">Rows the attack believes it fooled, bool [N], or null if it does not say.</param>
    protected sealed record PerturbOutput(Tensor Adversarials, Tensor GradientEvaluations, Tensor? ClaimedSuccess = null);

    /// <summary>
    /// Random numbers for N rows, float [N, D] on the CPU: uniform in [-1, 1) or standard normal, from each row's own
    /// stream (seed, the row's key in <paramref name="keys"/>, <paramref name="stream"/>).
    /// </summary>
    protected static Tensor DrawPerRow(long rows, long features, int seed, RowKeys keys, int stream, bool normal)
    {
        // Drawn straight into a libtorch tensor: a managed array of a batch's size would be a fresh large-object
        // allocation (page faults) and a copy on every call.
        var result = empty(rows, features, dtype: ScalarType.Float32);
        var values = MemoryMarshal.Cast<byte, float>(result.bytes);
        for (long row = 0; row < rows; row++)
        {
            var destination = values.Slice((int)(row * features), (int)features);
            if (normal)
            {
                RowRandom.FillNormal(destination, seed, keys[row], stream);
            }
            else
            {
                RowRandom.FillSymmetricUniform(destination, seed, keys[row], stream);
            }
        }
        return result;
    }

    /// <summary>
    /// The attack's settings in one invariant line, "pgd(epsilon=0.3, randomStart=True, restarts=1, seed=0, ...)":
    /// every public settable property, sorted by name. What a cached run is keyed on, on disk as in memory.
    /// </summary>
    public string Describe()
    {
        var settings = GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.CanWrite && property.GetIndexParameters().Length == 0)
            .OrderBy(property => property.Name, StringComparer.Ordinal)
            .Select(property => $"{char.ToLowerInvariant(property.Name[0])}{property.Name[1..]}={Format(property.GetValue(this))}");
        return $"{Name}({string.Join(", ", settings)})";
    }

    /// <summary>The same as <see cref="Describe"/>.</summary>
    public sealed override string ToString() => Describe();

    private static string Format(object? value) => value switch
    {
        null => "null",
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        float number => number.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A gradient attack on a score-only model is bad input: say which model, and what does apply to it.</summary>
    private void CheckGradients(Classifier model)
    {
        if (NeedsGradients && !model.ProvidesInputGradients)
        {
            throw new BadInputException(
                $"model '{model.GetName()}' gives scores only (no input gradients), so the gradient attack '{Name}' cannot run on it; " +
                $"methods that apply: {string.Join(", ", AttackCatalog.ScoreBasedMethods)} (they query scores only), or transfer " +
                "adversarial examples from a white-box surrogate model (intriguing transfer --targets)");
        }
    }

    private static Criterion CriterionFor(AttackInputs.Checked inputs) => inputs.Targets is null
        ? new Misclassification(inputs.Labels)
        : new TargetedMisclassification(inputs.Labels, inputs.Targets);

    /// <summary>
    /// The core step, then the box: non-finite candidate values fall back to the clean input, every point is projected
    /// onto the model's box, and (minimal-perturbation attacks, untargeted) inputs already misclassified stay clean.
    /// </summary>
    private PerturbedBatch PerturbFlat(Classifier model, Tensor inputs, Criterion criterion, RowKeys keys, Tensor? cleanLogits)
    {
        var output = cleanLogits is null ? PerturbCore(model, inputs, criterion, keys) : PerturbCore(model, inputs, criterion, keys, cleanLogits);
        var candidates = output.Adversarials.detach().to_type(inputs.dtype);
        var adversarials = CandidatesInBox ? candidates : model.Input.Box.Clamp(where(candidates.isfinite(), candidates, inputs));
        var claimed = output.ClaimedSuccess;
        if (SeeksMinimalPerturbation && !criterion.IsTargeted)
        {
            var alreadyWrong = criterion.IsAdversarial(cleanLogits ?? GradientOracle.Logits(model, inputs));
            adversarials = where(alreadyWrong.unsqueeze(1), inputs, adversarials);
            claimed = claimed?.logical_or(alreadyWrong);
        }
        return new PerturbedBatch(adversarials, claimed, output.GradientEvaluations);
    }

    private sealed record BatchOutcome(Tensor Adversarials, IReadOnlyList<AdversarialExample> Examples, int RejectedClaims, bool Verified);

    private BatchOutcome RunBatch(Classifier model, Tensor inputs, Criterion criterion, int firstIndex, RowKeys keys)
    {
        var cleanLogits = GradientOracle.Logits(model, inputs);
        var perturbed = PerturbFlat(model, inputs, criterion, keys, cleanLogits);
        var adversarials = perturbed.Adversarials;

        // The re-check: a fresh forward pass of exactly the points we hand out decides success, and only points inside
        // the model's box count as verified.
        var finalLogits = GradientOracle.Logits(model, adversarials);
        var success = criterion.IsAdversarial(finalLogits).logical_and(finalLogits.isfinite().all(1));
        var (lower, upper) = model.Input.Box.Tensors(adversarials.device);
        bool inBox = adversarials.ge(lower).logical_and(adversarials.le(upper)).all().item<bool>();
        int rejected = perturbed.ClaimedSuccess is null
            ? 0
            : (int)perturbed.ClaimedSuccess.logical_and(success.logical_not()).sum().item<long>();
        var probabilities = nn.functional.softmax(finalLogits, 1);
        var (confidence, finalPrediction) = probabilities.max(1);

        long[] labels = criterion.Labels.cpu().data<long>().ToArray();
        long[]? targets = criterion.Targets?.cpu().data<long>().ToArray();
        long[] cleanPredictions = cleanLogits.argmax(1).cpu().data<long>().ToArray();
        bool[] successes = success.cpu().data<bool>().ToArray();
        var distances = Distance.MeasureAll(inputs, adversarials);
        float[] rms = distances.Rms.cpu().data<float>().ToArray();
        float[] l2 = distances.L2.cpu().data<float>().ToArray();
        float[] linf = distances.Linf.cpu().data<float>().ToArray();
        long[] predictions = finalPrediction.cpu().data<long>().ToArray();
        float[] confidences = confidence.cpu().data<float>().ToArray();
        long[] gradients = perturbed.GradientEvaluations.to_type(ScalarType.Int64).cpu().data<long>().ToArray();

        var examples = new AdversarialExample[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            examples[i] = new AdversarialExample(
                firstIndex + i,
                (int)labels[i],
                targets is null ? null : (int)targets[i],
                (int)cleanPredictions[i],
                cleanPredictions[i] == labels[i],
                successes[i],
                rms[i],
                l2[i],
                linf[i],
                (int)predictions[i],
                confidences[i],
                gradients[i]);
        }
        return new BatchOutcome(adversarials, examples, rejected, inBox && examples.Length == inputs.shape[0]);
    }
}

/// <summary>
/// What <see cref="Attack.Perturb"/> returns for one batch: the adversarial points (the inputs' shape, inside the
/// model's box; not re-verified), the rows the attack claims to have fooled (bool [N], null if it does not say) and
/// the forward+backward passes each row used (int64 [N]). The tensors belong to the caller's dispose scope.
/// </summary>
public sealed record PerturbedBatch(Tensor Adversarials, Tensor? ClaimedSuccess, Tensor GradientEvaluations);
