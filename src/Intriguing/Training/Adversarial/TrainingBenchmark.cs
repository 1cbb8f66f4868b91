using System.Diagnostics;
using Intriguing.Data;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training.Adversarial;

/// <summary>
/// What an adversarial-training epoch costs beyond the passes it cannot avoid, measured in one run on one model:
/// <list type="bullet">
/// <item>ours: <see cref="TrainingLoop"/> with the method's hook (<see cref="PgdTraining"/> with k steps, or
/// <see cref="FgsmTraining"/>) over <c>batches</c> batches of the zoo recipe's size, everything the loop does
/// included (shuffling, the hook, the weight penalty, our optimiser) except the once-per-epoch checkpoint, which is
/// timed on its own and added in proportion to a whole epoch;</item>
/// <item>plain: a bare TorchSharp loop over the same batches doing only the passes the method needs: k input-gradient
/// passes (forward, cross-entropy, torch.autograd.grad with respect to the images) and one training step (forward,
/// cross-entropy + the model's weight penalty, backward, TorchSharp's own SGD or Adam step). For FGSM training the
/// training step sees the clean and the adversarial batch.</item>
/// </list>
/// Parts are interleaved (plain, ours, plain, ... ) and each "ours" is divided by the mean of the plain loops around it;
/// the median over the repetitions is reported. The whole measurement is repeated for each thread count asked.
/// </summary>
public static class TrainingBenchmark
{
    /// <summary>One thread count's measurement: seconds per batch of ours and plain, and the overhead ours - plain over plain.</summary>
    public sealed record ThreadsResult(int Threads, double SecondsPerBatch, double PlainSecondsPerBatch, double CheckpointSeconds, double EpochSeconds, double Overhead);

    /// <summary>
    /// The method measured (e.g. "pgd-10", "fgsm"), the model, its batches, and one <see cref="ThreadsResult"/> per
    /// thread count; <see cref="FastestThreads"/> is the count with the shortest epoch.
    /// </summary>
    public sealed record Result(string Model, string Method, int InputGradientPasses, int BatchSize, int Batches, int BatchesPerEpoch,
        int Repetitions, IReadOnlyList<ThreadsResult> ByThreads)
    {
        /// <summary>The thread count with the shortest epoch.</summary>
        public int FastestThreads => ByThreads.MinBy(result => result.EpochSeconds)!.Threads;
    }

    /// <summary>
    /// Measures <paramref name="method"/> (<see cref="AdversarialMethod.Pgd"/> with <paramref name="steps"/> steps, or
    /// <see cref="AdversarialMethod.Fgsm"/>) on a fresh <paramref name="spec"/> model over the first
    /// <paramref name="batches"/> batches of <paramref name="train"/>, at each of <paramref name="threadCounts"/>.
    /// </summary>
    public static Result Run(ModelSpec spec, LabeledImages train, AdversarialMethod method, int steps = 10, double epsilon = 0.3,
        int batches = 50, int repetitions = 3, IReadOnlyList<int>? threadCounts = null, int seed = 0, IProgress<ProgressUpdate>? progress = null)
    {
        if (method is not (AdversarialMethod.Pgd or AdversarialMethod.Fgsm))
        {
            throw new BadInputException($"the training bench measures pgd or fgsm training; got {AdversarialTrainingSettings.Name(method)}");
        }
        if (batches < 1 || repetitions < 1 || steps < 1)
        {
            throw new BadInputException($"the training bench needs at least one batch, repetition and step; got {batches}, {repetitions}, {steps}");
        }
        threadCounts ??= [1, 2];
        var recipe = spec.RecipeFor(Split.Train, quick: false, epochs: 1) with { WarmupEpochs = 0 };
        int batchesPerEpoch = (train.Count + recipe.BatchSize - 1) / recipe.BatchSize;
        batches = Math.Min(batches, batchesPerEpoch);
        using var subset = train.Slice(0, Math.Min(train.Count, batches * recipe.BatchSize));
        int passes = method == AdversarialMethod.Pgd ? steps : 1;
        string name = method == AdversarialMethod.Pgd ? $"pgd-{steps}" : "fgsm";
        int parts = threadCounts.Count * (2 * repetitions + 1), done = 0;
        void Report(string what) => progress?.Report(new ProgressUpdate($"bench {name} training on {spec.Name}", ++done, parts, what));

        torch.random.manual_seed(seed);
        using var model = ModelFiles.CreateDetached(spec);
        string checkpoint = Path.Combine(Path.GetTempPath(), $"intriguing-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.checkpoint");
        var results = new List<ThreadsResult>();
        try
        {
            foreach (int threads in threadCounts)
            {
                using var limit = TorchThreads.Limit(threads);
                var ratios = new List<(double Ours, double Plain)>();
                // Warm-up of both, then plain / ours / plain / ... with ratios against the plain loops around each.
                Ours(model, subset, recipe, method, steps, epsilon, seed, threads, null);
                double plainBefore = Plain(model, subset, recipe, method, passes);
                Report($"{threads} thread(s): warm-up");
                for (int repetition = 0; repetition < repetitions; repetition++)
                {
                    double ours = Ours(model, subset, recipe, method, steps, epsilon, seed, threads, null);
                    Report($"{threads} thread(s): ours");
                    double plainAfter = Plain(model, subset, recipe, method, passes);
                    Report($"{threads} thread(s): plain");
                    ratios.Add((ours, (plainBefore + plainAfter) / 2));
                    plainBefore = plainAfter;
                }
                var median = ratios.OrderBy(pair => pair.Ours / pair.Plain).ElementAt(ratios.Count / 2);
                var clock = Stopwatch.StartNew();
                Ours(model, subset.Slice(0, Math.Min(recipe.BatchSize, subset.Count)), recipe, method, steps, epsilon, seed, threads, checkpoint);
                double withCheckpoint = clock.Elapsed.TotalSeconds;
                double checkpointSeconds = Math.Max(0, withCheckpoint - median.Ours / batches);
                double epochSeconds = median.Ours / batches * batchesPerEpoch + checkpointSeconds;
                double plainEpoch = median.Plain / batches * batchesPerEpoch;
                results.Add(new ThreadsResult(threads, median.Ours / batches, median.Plain / batches, checkpointSeconds, epochSeconds,
                    epochSeconds / plainEpoch - 1));
                Report($"{threads} thread(s): checkpoint");
            }
        }
        finally
        {
            File.Delete(checkpoint);
        }
        return new Result(spec.Name, name, passes, recipe.BatchSize, batches, batchesPerEpoch, repetitions, results);
    }

    /// <summary>Seconds of one epoch of our loop over <paramref name="subset"/> (a checkpoint written when a path is given).</summary>
    private static double Ours(Classifier model, LabeledImages subset, TrainingRecipe recipe, AdversarialMethod method, int steps, double epsilon,
        int seed, int threads, string? checkpoint)
    {
        TrainingHook hook = method == AdversarialMethod.Pgd
            ? new PgdTraining(epsilon, steps, seed)
            : new FgsmTraining(epsilon, randomStart: false, seed);
        if (checkpoint is not null)
        {
            File.Delete(checkpoint);
        }
        var clock = Stopwatch.StartNew();
        TrainingLoop.Train(model, subset, recipe, seed, "bench", hook, checkpoint is null ? null : new TrainingCheckpoint(checkpoint, "bench"), threads: threads);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds of the bare passes over <paramref name="subset"/>: input-gradient passes and one training step per batch.</summary>
    private static double Plain(Classifier model, LabeledImages subset, TrainingRecipe recipe, AdversarialMethod method, int passes)
    {
        var trainable = model.parameters().Where(parameter => parameter.requires_grad).ToList();
        using var optimizer = recipe.Optimizer == OptimizerKind.Sgd
            ? (optim.Optimizer)optim.SGD(trainable, recipe.LearningRate, recipe.Momentum, nesterov: true)
            : optim.Adam(trainable, recipe.LearningRate);
        model.train();
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < subset.Count; start += recipe.BatchSize)
        {
            using var scope = NewDisposeScope();
            int length = Math.Min(recipe.BatchSize, subset.Count - start);
            var images = subset.Images.narrow(0, start, length);
            var labels = subset.Labels.narrow(0, start, length);
            Tensor gradient = images;
            for (int pass = 0; pass < passes; pass++)
            {
                var input = images.detach().requires_grad_(true);
                var inputLoss = nn.functional.cross_entropy(model.forward(input), labels);
                gradient = torch.autograd.grad([inputLoss], [input])[0];
            }
            var adversarial = (images + gradient.sign() * 0.1).clamp_(0, 1);
            optimizer.zero_grad();
            var loss = model.WeightPenalty() + (method == AdversarialMethod.Pgd
                ? nn.functional.cross_entropy(model.forward(adversarial), labels)
                : 0.5 * nn.functional.cross_entropy(model.forward(images), labels) + 0.5 * nn.functional.cross_entropy(model.forward(adversarial), labels));
            loss.backward();
            optimizer.step();
        }
        double seconds = clock.Elapsed.TotalSeconds;
        model.eval();
        return seconds;
    }
}
