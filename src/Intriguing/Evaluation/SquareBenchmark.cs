using System.Diagnostics;
using Intriguing.Attacks;
using Intriguing.Models;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Intriguing.Evaluation;

/// <summary>
/// Square's query throughput on an ONNX model against the floor it cannot beat, measured in one run: the same forward
/// calls (the same number of calls with the same batch sizes Square made, recorded as it ran) replayed straight into
/// ONNX Runtime, one <c>InferenceSession.Run</c> per call on preallocated buffers, with no tensor work around them.
/// The ratio is Square's forward rows per second over the replay's: 1 means Square's bookkeeping (windows, signs,
/// acceptance, verification) costs nothing beside the model's own forward passes. Shared machines drift, so the parts
/// are interleaved, replay, Square, replay, repeated <c>repetitions</c> times; each Square run is compared with the mean of
/// the replays just before and after it, and the repetition with the median ratio is reported.
/// </summary>
public static class SquareBenchmark
{
    /// <summary>
    /// One measured repetition: the images attacked, the query budget, the queries Square spent in all, its seconds
    /// and queries per second, the rows it sent to the model in all (queries plus the verifying pass), ONNX Runtime's
    /// raw rows per second on the same calls, their ratio, Square's success rate (of correctly classified images) and
    /// the median queries over the images it fooled.
    /// </summary>
    public sealed record Result(
        int Images,
        int QueryBudget,
        long Queries,
        double SquareSeconds,
        double QueriesPerSecond,
        long ForwardRows,
        int ForwardCalls,
        double RawRowsPerSecond,
        double Ratio,
        double SuccessRate,
        double? MedianQueries,
        int Repetitions);

    /// <summary>Measures <paramref name="attack"/> on <paramref name="model"/> over <paramref name="images"/> [N, D] with <paramref name="labels"/>.</summary>
    /// <exception cref="BadInputException">The attack's settings are out of range.</exception>
    public static Result Run(OnnxClassifier model, Square attack, Tensor images, Tensor labels, int repetitions = 3, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(attack);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        attack.Validate();
        using var scope = NewDisposeScope();
        int count = (int)images.shape[0];
        using var recorder = new CallRecorder(model);
        using var replay = new Replay(model.Path, model.Input, count);
        int parts = 2 + 2 * repetitions, done = 0;
        void Report(string what) => progress?.Report(new ProgressUpdate("bench square", ++done, parts, what));

        // Warm-up, which also records the calls to replay (the same seed makes the same calls every time).
        var warm = attack.Run(recorder, images, labels, batchSize: count);
        int[] calls = [.. recorder.Rows];
        Report("warm-up square");
        double replayBefore = replay.Seconds(calls);
        Report("replay");
        var measured = new List<Result>();
        for (int repetition = 0; repetition < repetitions; repetition++)
        {
            recorder.Rows.Clear();
            var stopwatch = Stopwatch.StartNew();
            var result = attack.Run(recorder, images, labels, batchSize: count);
            double squareSeconds = stopwatch.Elapsed.TotalSeconds;
            Report("square");
            double replayAfter = replay.Seconds(calls);
            Report("replay");
            long rows = calls.Sum(size => (long)size);
            long queries = result.Examples.Sum(example => (long)example.GradientEvaluations);
            double rawRate = rows / ((replayBefore + replayAfter) / 2);
            double squareRate = rows / squareSeconds;
            var fooled = result.Examples.Where(example => example.OriginallyCorrect && example.Success)
                .Select(example => (double)example.GradientEvaluations).Order().ToList();
            double? median = fooled.Count == 0 ? null
                : fooled.Count % 2 == 1 ? fooled[fooled.Count / 2] : (fooled[fooled.Count / 2 - 1] + fooled[fooled.Count / 2]) / 2;
            measured.Add(new Result(count, attack.Queries, queries, squareSeconds, queries / squareSeconds, rows, calls.Length,
                rawRate, squareRate / rawRate, result.Summary.SuccessRate, median, repetitions));
            result.Adversarials.Dispose();
            replayBefore = replayAfter;
        }
        warm.Adversarials.Dispose();
        return measured.OrderBy(result => result.Ratio).ElementAt(measured.Count / 2);
    }

    /// <summary>The model, recording the rows of every forward call, through tensors or plain memory as Square asks.</summary>
    private sealed class CallRecorder(OnnxClassifier inner) : Classifier(inner.GetName(), inner.Input), IBatchScorer
    {
        public List<int> Rows { get; } = [];

        public override bool ProvidesInputGradients => false;

        public override Device Device => inner.Device;

        public override Tensor forward(Tensor input)
        {
            Rows.Add((int)input.shape[0]);
            return inner.forward(input);
        }

        public void Score(ReadOnlyMemory<float> inputs, int rows, Span<float> logits)
        {
            Rows.Add(rows);
            inner.Score(inputs, rows, logits);
        }

        public override Tensor WeightPenalty() => inner.WeightPenalty();
    }

    /// <summary>A session of its own on the same file, run on preallocated inputs of each recorded batch size.</summary>
    private sealed class Replay : IDisposable
    {
        private readonly InferenceSession session;
        private readonly string inputName;
        private readonly string outputName;
        private readonly InputSpace input;
        private readonly float[] values;

        public Replay(string path, InputSpace input, int rows)
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            session = new InferenceSession(path, options);
            inputName = session.InputMetadata.Keys.Single();
            outputName = session.OutputMetadata.Keys.Single();
            this.input = input;
            values = new float[(long)rows * input.Features];
            var random = new Random(0);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)random.NextDouble();
            }
        }

        /// <summary>Seconds to run the calls of <paramref name="calls"/> rows each.</summary>
        public double Seconds(int[] calls)
        {
            var stopwatch = Stopwatch.StartNew();
            using var runOptions = new RunOptions();
            foreach (int rows in calls)
            {
                using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                    values.AsMemory(0, rows * input.Features), input.BatchShape(rows));
                using var outputs = session.Run(runOptions, [inputName], [inputValue], [outputName]);
            }
            return stopwatch.Elapsed.TotalSeconds;
        }

        public void Dispose() => session.Dispose();
    }
}
