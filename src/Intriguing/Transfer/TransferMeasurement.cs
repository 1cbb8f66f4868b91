using System.Diagnostics;
using static TorchSharp.torch;

namespace Intriguing.Transfer;

/// <summary>
/// Szegedy et al. 2013, Tables 2 and 4: the error of every target model on the adversarial examples made for every
/// source model, beside Gaussian noise. Given the examples (<see cref="SourceExamples"/>, verified on their source) and
/// the clean images they came from, it measures the plain matrix, the matrix with every perturbation magnified to one
/// RMS, the paper's noise rows, noise of each row's own distortion on the same images, and the error-against-distortion
/// curves. Every rate counts misclassified points against the true label and carries its 95% Wilson interval; every
/// adversarial cell is compared with the noise it is set against on the same images, pair by pair (McNemar's exact test).
/// </summary>
public static class TransferMeasurement
{
    private const int EvaluationBatch = 1000;

    /// <param name="sources">The examples per source model (rows, in order).</param>
    /// <param name="targets">The models measured on them (columns, in order); a target named like a source is its diagonal.</param>
    /// <param name="images">The attacked images float [N, D] (or [N, ...shape]), in the sources' order of indices.</param>
    /// <param name="labels">Their true labels, int64 [N].</param>
    /// <param name="options">Magnification, noise rows, curves and the noise's seed.</param>
    /// <param name="progress">Progress per target, or null.</param>
    /// <exception cref="BadInputException">No source or target, a repeated name, or sizes that do not fit.</exception>
    public static TransferMatrix Measure(
        IReadOnlyList<SourceExamples> sources,
        IReadOnlyList<TransferModel> targets,
        Tensor images,
        Tensor labels,
        TransferOptions options,
        IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (sources.Count == 0)
        {
            throw new BadInputException("--sources: no source model (expected at least one)");
        }
        if (targets.Count == 0)
        {
            throw new BadInputException("--targets: no target model (expected at least one)");
        }
        CheckDistinct(sources.Select(source => source.Source), "--sources");
        CheckDistinct(targets.Select(target => target.Name), "--targets");
        var stopwatch = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var box = targets[0].Model.Input.Box;
        int count = (int)images.shape[0];
        var originals = images.reshape(count, -1).to_type(ScalarType.Float32);
        var labelsCpu = labels.to_type(ScalarType.Int64).cpu();
        var noiseDirections = RmsScaling.GaussianDirections(count, originals.shape[1], options.Seed).to(originals.device);

        // Each target's clean mistakes once, on every image; a row reads its own images' share.
        var cleanWrong = targets.ToDictionary(target => target.Name, target => Wrong(target, originals, labelsCpu));
        var cleanErrors = targets.ToDictionary(target => target.Name, target => (double)cleanWrong[target.Name].Count(wrong => wrong) / Math.Max(1, count));

        // The paper's noise rows first: every magnified cell is paired with the row of its RMS on its own images.
        var noise = new List<NoiseRow>();
        foreach (double stddev in options.NoiseStddevs)
        {
            var noisy = RmsScaling.AddNoise(originals, noiseDirections, stddev, box);
            double reached = count == 0 ? 0 : RmsScaling.Rms(originals, noisy).mean().item<float>();
            noise.Add(NoiseRowOf("stddev", stddev, reached, null, count, Cells(targets, noisy, labelsCpu)));
        }
        var paperNoise = noise.FirstOrDefault(row => Math.Abs(row.Stddev - options.MagnifyRms) < 1e-12);

        var rows = new List<TransferRow>();
        var magnified = new List<MagnifiedRow>();
        var curves = new List<TransferCurve>();
        for (int index = 0; index < sources.Count; index++)
        {
            var source = sources[index];
            progress?.Report(new ProgressUpdate("transfer", index, sources.Count, source.Source));
            using var rowScope = NewDisposeScope();
            if (source.Indices.Any(row => row < 0 || row >= count) || source.Adversarials.shape[0] != source.Count)
            {
                throw new BadInputException($"examples of {source.Source}: indices or points do not fit the {count} images given");
            }
            var indexTensor = tensor(source.Indices, device: originals.device);
            var rowOriginals = originals.index_select(0, indexTensor);
            var rowLabels = labelsCpu.index_select(0, tensor(source.Indices));
            var adversarials = source.Adversarials.reshape(source.Count, originals.shape[1]).to(originals.device);
            var perturbations = adversarials - rowOriginals;
            var rowNoise = noiseDirections.index_select(0, indexTensor);

            var plain = Cells(targets, adversarials, rowLabels);
            var clean = TransferCells.From(targets.Select(target =>
                (target.Name, source.Indices.Count(row => cleanWrong[target.Name][row]), source.Count)));
            var matched = source.Count == 0
                ? NoiseRowOf("matched", source.MeanDistortion, 0, source.Source, 0, Cells(targets, rowOriginals, rowLabels))
                : ScaledNoiseRow("matched", targets, rowOriginals, rowNoise, rowLabels, source.MeanDistortion, box, source.Source);
            var againstMatched = plain.PairedWith(matched.Cells);
            rows.Add(new TransferRow(source.Source, source.MeanDistortion, source.MeanL2, source.Count, source.Attempted, source.SourceSuccessRate,
                source.Attack, source.Targeted, plain.Errors, plain.Intervals, plain.Counts, plain.Fooled, clean.Errors, clean.Intervals, matched, source.Seconds,
                TransferCells.PValuesOf(againstMatched), TransferCells.DiscordantOf(againstMatched), source.Indices, plain.Outcomes));

            if (source.Count == 0)
            {
                var none = Cells(targets, adversarials, rowLabels);
                var nothing = none.PairedWith(none);
                magnified.Add(new MagnifiedRow(source.Source, options.MagnifyRms, 0, 0, 0, 0, none.Errors, none.Intervals, none.Counts, none.Fooled,
                    NoiseRowOf("rms", options.MagnifyRms, 0, source.Source, 0, none), TransferCells.PValuesOf(nothing), TransferCells.DiscordantOf(nothing),
                    paperNoise?.Stddev, paperNoise is null ? Empty<double>() : TransferCells.PValuesOf(nothing), paperNoise is null ? Empty<int[]>() : TransferCells.DiscordantOf(nothing),
                    source.Indices, none.Outcomes));
                if (options.CurveRms.Count > 0)
                {
                    curves.Add(new TransferCurve(source.Source, 0, [.. options.CurveRms], new double[options.CurveRms.Count], new double[options.CurveRms.Count],
                        targets.ToDictionary(target => target.Name, _ => new double[options.CurveRms.Count]),
                        targets.ToDictionary(target => target.Name, _ => new double[options.CurveRms.Count])));
                }
                continue;
            }

            var scaled = RmsScaling.ToRms(rowOriginals, perturbations, options.MagnifyRms, box);
            var magnifiedCells = Cells(targets, scaled.Points, rowLabels);
            var sameRmsNoise = ScaledNoiseRow("rms", targets, rowOriginals, rowNoise, rowLabels, options.MagnifyRms, box, source.Source);
            var againstSameRms = magnifiedCells.PairedWith(sameRmsNoise.Cells);
            var againstPaperNoise = paperNoise is null ? null : magnifiedCells.PairedWith(paperNoise.Cells, source.Indices);
            magnified.Add(new MagnifiedRow(source.Source, options.MagnifyRms, scaled.MeanReachedRms, scaled.ClippedFraction, scaled.Unreachable, source.Count,
                magnifiedCells.Errors, magnifiedCells.Intervals, magnifiedCells.Counts, magnifiedCells.Fooled, sameRmsNoise,
                TransferCells.PValuesOf(againstSameRms), TransferCells.DiscordantOf(againstSameRms), paperNoise?.Stddev,
                againstPaperNoise is null ? Empty<double>() : TransferCells.PValuesOf(againstPaperNoise), againstPaperNoise is null ? Empty<int[]>() : TransferCells.DiscordantOf(againstPaperNoise),
                source.Indices, magnifiedCells.Outcomes));

            if (options.CurveRms.Count > 0)
            {
                curves.Add(Curve(source, targets, rowOriginals, perturbations, rowNoise, rowLabels, options.CurveRms, box));
            }
        }

        noise.Add(ScaledNoiseRow("rms", targets, originals, noiseDirections, labelsCpu, options.MagnifyRms, box, null));
        progress?.Report(new ProgressUpdate("transfer", sources.Count, sources.Count));

        return new TransferMatrix(count, [.. sources.Select(source => source.Source)], [.. targets.Select(target => target.Name)], rows, magnified, noise, curves,
            cleanErrors, TransferVerdicts.EqualDistortion(rows, magnified, options.MagnifyRms), stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>Per point: does <paramref name="target"/> misclassify it (argmax differs from the label)? Eval mode, no gradients.</summary>
    public static bool[] Wrong(TransferModel target, Tensor points, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var model = target.Model;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            int count = (int)points.shape[0];
            var wrong = new bool[count];
            long[] truth = labels.to_type(ScalarType.Int64).cpu().data<long>().ToArray();
            for (int start = 0; start < count; start += EvaluationBatch)
            {
                using var batchScope = NewDisposeScope();
                int size = Math.Min(EvaluationBatch, count - start);
                var predictions = model.forward(points.narrow(0, start, size).to(model.Device)).argmax(1).cpu().data<long>().ToArray();
                for (int i = 0; i < size; i++)
                {
                    wrong[start + i] = predictions[i] != truth[start + i];
                }
            }
            return wrong;
        }
        finally
        {
            if (wasTraining)
            {
                model.train();
            }
        }
    }

    private static TransferCells Cells(IReadOnlyList<TransferModel> targets, Tensor points, Tensor labels) =>
        TransferCells.FromOutcomes(targets.Select(target => (target.Name, Wrong(target, points, labels))));

    private static NoiseRow NoiseRowOf(string kind, double stddev, double rms, string? source, int examples, TransferCells cells) =>
        new(kind, stddev, rms, source, examples, cells.Errors, cells.Intervals, cells.Counts, cells.Fooled, cells.Outcomes);

    private static Dictionary<string, T> Empty<T>() => [];

    private static NoiseRow ScaledNoiseRow(string kind, IReadOnlyList<TransferModel> targets, Tensor originals, Tensor directions, Tensor labels,
        double rms, Models.InputBox box, string? source)
    {
        using var scope = NewDisposeScope();
        if (originals.shape[0] == 0 || rms <= 0)
        {
            return NoiseRowOf(kind, rms, 0, source, (int)originals.shape[0], Cells(targets, originals, labels));
        }
        var scaled = RmsScaling.ToRms(originals, directions, rms, box);
        return NoiseRowOf(kind, rms, scaled.MeanReachedRms, source, (int)originals.shape[0], Cells(targets, scaled.Points, labels));
    }

    private static TransferCurve Curve(SourceExamples source, IReadOnlyList<TransferModel> targets, Tensor originals, Tensor perturbations,
        Tensor noiseDirections, Tensor labels, IReadOnlyList<double> levels, Models.InputBox box)
    {
        var adversarial = targets.ToDictionary(target => target.Name, _ => new double[levels.Count]);
        var noise = targets.ToDictionary(target => target.Name, _ => new double[levels.Count]);
        var adversarialRms = new double[levels.Count];
        var noiseRms = new double[levels.Count];
        for (int level = 0; level < levels.Count; level++)
        {
            using var scope = NewDisposeScope();
            var scaledAdversarial = RmsScaling.ToRms(originals, perturbations, levels[level], box);
            var scaledNoise = RmsScaling.ToRms(originals, noiseDirections, levels[level], box);
            adversarialRms[level] = scaledAdversarial.MeanReachedRms;
            noiseRms[level] = scaledNoise.MeanReachedRms;
            foreach (var target in targets)
            {
                adversarial[target.Name][level] = Rate(Wrong(target, scaledAdversarial.Points, labels));
                noise[target.Name][level] = Rate(Wrong(target, scaledNoise.Points, labels));
            }
        }
        return new TransferCurve(source.Source, source.Count, [.. levels], adversarialRms, noiseRms, adversarial, noise);
    }

    private static double Rate(bool[] wrong) => wrong.Length == 0 ? 0 : (double)wrong.Count(value => value) / wrong.Length;

    private static void CheckDistinct(IEnumerable<string> names, string option)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            if (!seen.Add(name))
            {
                throw new BadInputException($"{option}: '{name}' is listed twice");
            }
        }
    }
}
