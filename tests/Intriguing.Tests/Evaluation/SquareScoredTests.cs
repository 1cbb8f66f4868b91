using Intriguing.Attacks;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Tests.Models;
using static TorchSharp.torch;
using TorchThreads = Intriguing.Tests.Attacks.TorchThreads;

namespace Intriguing.Tests.Evaluation;

/// <summary>
/// Square-L-inf's managed search on a model that scores plain memory (ONNX files) against the tensor engine on the same
/// model behind a plain classifier: the same adversarial points, successes and query counts, untargeted and targeted,
/// for several seeds, budgets, batch sizes and first indices, with rows finishing at different times; and a row's result
/// does not depend on its batch.
/// </summary>
public class SquareScoredTests
{
    public SquareScoredTests() => TorchThreads.UseOne();

    /// <summary>The model through <c>forward</c> only: Square takes its tensor engine.</summary>
    private sealed class TensorsOnly(Classifier inner) : Classifier(inner.GetName(), inner.Input)
    {
        public int Calls { get; private set; }

        public override bool ProvidesInputGradients => false;

        public override Device Device => inner.Device;

        public override Tensor forward(Tensor input)
        {
            Calls++;
            return inner.forward(input);
        }

        public override Tensor WeightPenalty() => inner.WeightPenalty();
    }

    /// <summary>The model through <see cref="IBatchScorer"/>, counting the calls that take the managed path.</summary>
    private sealed class Counting(OnnxClassifier inner) : Classifier(inner.GetName(), inner.Input), IBatchScorer
    {
        public int Scores { get; private set; }

        public override bool ProvidesInputGradients => false;

        public override Device Device => inner.Device;

        public override Tensor forward(Tensor input) => inner.forward(input);

        public void Score(ReadOnlyMemory<float> inputs, int rows, Span<float> logits)
        {
            Scores++;
            inner.Score(inputs, rows, logits);
        }

        public override Tensor WeightPenalty() => inner.WeightPenalty();
    }

    private static OnnxClassifier Load(string file) => file switch
    {
        "mnist-mlp.onnx" or "mnist-mlp-batch1.onnx" => new OnnxClassifier(OnnxClassifierTests.Fixture(file), InputSpace.Mnist),
        _ => new OnnxClassifier(OnnxClassifierTests.Fixture(file), InputSpace.Images(3, 8, 8, 4)),
    };

    /// <summary>Random images labelled by the model itself, so every row starts correctly classified.</summary>
    private static (Tensor Images, Tensor Labels) Data(Classifier model, int count, int seed)
    {
        var images = rand(count, model.Features, generator: new Generator((ulong)seed, CPU));
        return (images, model.Predict(images));
    }

    private static void AssertSame(PerturbedBatch tensors, PerturbedBatch scored)
    {
        double largest = (tensors.Adversarials - scored.Adversarials).abs().max().item<float>();
        Assert.True(largest <= 1e-6, $"the two paths' points differ by {largest}");
        // The same float32 operations in the same order, and the same Run calls: equal to the bit, in fact.
        Assert.True(tensors.Adversarials.eq(scored.Adversarials).all().item<bool>(), $"the two paths' points differ by {largest}");
        Assert.Equal(tensors.GradientEvaluations.data<long>().ToArray(), scored.GradientEvaluations.data<long>().ToArray());
        Assert.Equal(tensors.ClaimedSuccess!.data<bool>().ToArray(), scored.ClaimedSuccess!.data<bool>().ToArray());
    }

    [Theory]
    [InlineData("mnist-mlp.onnx", 0.05, 150, 0, 0, false)]
    [InlineData("mnist-mlp.onnx", 0.03, 250, 7, 5, false)]
    [InlineData("mnist-mlp.onnx", 0.15, 300, 3, 0, true)]
    [InlineData("mnist-mlp-batch1.onnx", 0.05, 60, 2, 11, false)]
    [InlineData("conv-3x8x8.onnx", 0.05, 200, 0, 0, false)]
    [InlineData("conv-3x8x8.onnx", 0.25, 300, 5, 3, true)]
    public void The_managed_search_gives_the_tensor_engines_points_successes_and_queries(
        string file, double epsilon, int queries, int seed, long firstIndex, bool targeted)
    {
        using var onnx = Load(file);
        using var scope = NewDisposeScope();
        var model = new Counting(onnx);
        var plain = new TensorsOnly(onnx);
        var (images, labels) = Data(onnx, 12, seed: 20 + seed);
        var targets = targeted ? (labels + 1).remainder(onnx.ClassCount) : null;
        var attack = new SquareLinf { Epsilon = epsilon, Queries = queries, Seed = seed };
        var shaped = images.reshape(onnx.Input.BatchShape(12));

        var scored = attack.Perturb(model, shaped, labels, targets, firstIndex);
        var tensors = (attack with { TensorEngineOnly = true }).Perturb(plain, shaped, labels, targets, firstIndex);

        Assert.True(model.Scores > 1, "the scoring model took the managed path");
        Assert.Equal(tensors.Adversarials.shape, scored.Adversarials.shape);
        AssertSame(tensors, scored);
        // Rows finish at different times: some at once or early, some late, some never within the budget.
        long[] spent = scored.GradientEvaluations.data<long>().ToArray();
        Assert.True(spent.Distinct().Count() >= 3, $"queries per row: {string.Join(", ", spent)}");
        Assert.Contains(spent, count => count == queries);
        Assert.Contains(spent, count => count > 1 && count < queries);
        var linf = (scored.Adversarials.reshape(12, -1) - images).abs().amax(1);
        Assert.True(linf.max().item<float>() <= epsilon + 1e-6);
    }

    [Fact]
    public void A_rows_result_does_not_depend_on_its_batch_and_runs_match_the_tensor_engine()
    {
        using var onnx = Load("mnist-mlp.onnx");
        using var scope = NewDisposeScope();
        var (images, labels) = Data(onnx, 10, seed: 31);
        var attack = new SquareLinf { Epsilon = 0.04, Queries = 200, Seed = 9 };

        var whole = attack.Run(onnx, images, labels, batchSize: 10);
        var inThrees = attack.Run(onnx, images, labels, batchSize: 3);
        var tensors = (attack with { TensorEngineOnly = true }).Run(new TensorsOnly(onnx), images, labels, batchSize: 4);

        Assert.True(whole.Adversarials.allclose(inThrees.Adversarials, rtol: 0, atol: 1e-6));
        Assert.True(whole.Adversarials.allclose(tensors.Adversarials, rtol: 0, atol: 1e-6));
        Assert.Equal(whole.Examples.Select(example => example.GradientEvaluations), inThrees.Examples.Select(example => example.GradientEvaluations));
        Assert.Equal(whole.Examples.Select(example => example.GradientEvaluations), tensors.Examples.Select(example => example.GradientEvaluations));
        Assert.Equal(whole.Examples.Select(example => example.Success), tensors.Examples.Select(example => example.Success));
        Assert.True(whole.Summary.Verified);
        Assert.Equal(0, whole.Summary.RejectedClaims);
    }

    [Theory]
    [InlineData(0.1, 300, 0, false)]
    [InlineData(0.2, 250, 4, true)]
    public void A_TorchSharp_model_on_the_CPU_takes_the_managed_search_with_the_tensor_engines_results(double epsilon, int queries, int seed, bool targeted)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(11);
        using var model = new ConvNet("conv");
        model.eval();
        var counted = new TensorsOnly(model);
        var (images, labels) = Data(model, 10, seed: 40 + seed);
        var targets = targeted ? (labels + 3).remainder(model.ClassCount) : null;
        var attack = new SquareLinf { Epsilon = epsilon, Queries = queries, Seed = seed };
        var shaped = images.reshape(model.Input.BatchShape(10));

        var countedTensors = new TensorsOnly(model);
        var managed = attack.Perturb(counted, shaped, labels, targets, firstIndex: 2);
        var tensors = (attack with { TensorEngineOnly = true }).Perturb(countedTensors, shaped, labels, targets, firstIndex: 2);

        AssertSame(tensors, managed);
        // One forward per step either way: the managed search scores the same batches, each through forward.
        Assert.True(counted.Calls > 1);
        Assert.Equal(countedTensors.Calls, counted.Calls);
        Assert.Contains(managed.GradientEvaluations.data<long>().ToArray(), count => count > 1);
    }

    [Fact]
    public void Score_gives_forwards_logits_with_normalisation_and_checks_its_spans()
    {
        using var plain = Load("mnist-mlp.onnx");
        using var normalised = new OnnxClassifier(OnnxClassifierTests.Fixture("mnist-mlp.onnx"), InputSpace.Mnist, [0.1307f], [0.3081f]);
        using var rowByRow = Load("mnist-mlp-batch1.onnx");
        using var scope = NewDisposeScope();
        var images = rand(7, 784, generator: new Generator(3, CPU));
        float[] values = images.data<float>().ToArray();
        var logits = new float[7 * 10];

        foreach (var model in new[] { plain, normalised, rowByRow })
        {
            model.Score(values, 7, logits);
            Assert.Equal(model.forward(images).data<float>().ToArray(), logits);
        }
        Assert.Equal(images.data<float>().ToArray(), values);
        Assert.Throws<ArgumentException>(() => plain.Score(values, 8, logits));
        Assert.Throws<ArgumentException>(() => plain.Score(values, 7, new float[69]));
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.Score(values, -1, logits));
        values[3 * 784 + 5] = float.NaN;
        Assert.Contains("NaN logits (row 3", Assert.Throws<BadInputException>(() => plain.Score(values, 7, logits)).Message);
    }
}
