using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>
/// logits = x W^T + b with fixed weights: the decision boundaries are hyperplanes, so the smallest L2 change that
/// moves x from class i to class j is (Z_i - Z_j) / |w_i - w_j| (when the box does not get in the way).
/// </summary>
internal sealed class LinearClassifier : Classifier
{
    private readonly Tensor weights;
    private readonly Tensor biases;

    public LinearClassifier(Tensor weights, Tensor biases, InputSpace? input = null) : base("linear", input)
    {
        this.weights = weights.detach().clone().DetachFromDisposeScope();
        this.biases = biases.detach().clone().DetachFromDisposeScope();
    }

    public Tensor Weights => weights;

    public Tensor Biases => biases;

    public override Tensor forward(Tensor input) => Flatten(input).matmul(weights.t()) + biases;

    public override Tensor WeightPenalty() => zeros(1);

    /// <summary>
    /// Only classes 0 and 1 can win (the others carry a bias of -1000): a two-class problem in a ten-class model,
    /// with w_0 - w_1 along a fixed random direction.
    /// </summary>
    public static LinearClassifier TwoClass(int seed)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed, CPU);
        var weights = randn(10, 784, generator: generator) * 0.05;
        var biases = full(10, -1000f);
        biases[0] = tensor(0f);
        biases[1] = tensor(0f);
        return new LinearClassifier(weights, biases);
    }

    /// <summary>A random linear model (every class can win) on <paramref name="input"/> (MNIST's by default).</summary>
    public static LinearClassifier Random(int seed, InputSpace? input = null)
    {
        using var scope = NewDisposeScope();
        input ??= InputSpace.Mnist;
        var generator = new Generator((ulong)seed, CPU);
        return new LinearClassifier(randn(input.ClassCount, input.Features, generator: generator) * 0.05, zeros(input.ClassCount), input);
    }
}

/// <summary>A tiny sigmoid MLP (784-16-10), trained in-test on separable synthetic data.</summary>
internal sealed class TinyMlp : Classifier
{
    private readonly nn.Module<Tensor, Tensor> hidden = nn.Linear(784, 16);
    private readonly nn.Module<Tensor, Tensor> output = nn.Linear(16, 10);

    public TinyMlp() : base("tiny-mlp")
    {
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => output.forward(torch.sigmoid(hidden.forward(Flatten(input))));

    public override Tensor WeightPenalty() => zeros(1);
}

/// <summary>Synthetic ten-class images in [0,1] and small models trained on them, built once per test run.</summary>
internal static class SyntheticData
{
    private static readonly Lazy<TinyMlp> TrainedMlp = new(TrainMlp);

    public static TinyMlp Mlp => TrainedMlp.Value;

    /// <summary>Images around ten random prototypes, float32 [count, 784] in [0,1], with their classes int64 [count].</summary>
    public static (Tensor Images, Tensor Labels) Images(int count, int seed)
    {
        var generator = new Generator(12345, CPU);
        var prototypes = rand(10, 784, generator: generator) * 0.6 + 0.2;
        var sampleGenerator = new Generator((ulong)seed, CPU);
        var labels = arange(count, dtype: ScalarType.Int64).remainder(10);
        var noise = randn(count, 784, generator: sampleGenerator) * 0.1;
        var images = (prototypes.index_select(0, labels) + noise).clamp(0.0, 1.0);
        return (images, labels);
    }

    private static TinyMlp TrainMlp()
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(7);
        var model = new TinyMlp();
        var (images, labels) = Images(200, seed: 1);
        var optimizer = optim.Adam(model.parameters(), 0.01);
        for (int step = 0; step < 60; step++)
        {
            using var stepScope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(model.forward(images), labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        model.eval();
        return model;
    }
}

/// <summary>
/// The attack tests run tiny tensors, where libtorch's second intra-op thread only adds synchronisation (on a
/// busy 2-core machine, ten times the run time). Every attack test class calls this first.
/// </summary>
internal static class TorchThreads
{
    public static void UseOne() => torch.set_num_threads(1);
}
