using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

/// <summary>
/// The input gradients attacks take through a convolutional model, in float32 and in batches, against the same
/// network computed in float64 (libtorch's oneDNN kernels got these wrong; <see cref="OneDnnWorkaround"/>).
/// </summary>
public class ConvGradientTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Batched_float32_input_gradients_of_a_convnet_match_float64(int threads)
    {
        using var limit = TorchThreads.Limit(threads);
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        using var model = new ConvNet("conv");
        model.eval();
        var generator = new Generator(55, CPU);
        var images = rand(32, 784, generator: generator);
        var labels = randint(0, 10, [32], generator: generator);

        Tensor ours;
        using (var gradients = enable_grad())
        {
            var input = images.clone().requires_grad_(true);
            var loss = nn.functional.cross_entropy(model.forward(input), labels, reduction: nn.Reduction.Sum);
            ours = autograd.grad([loss], [input])[0];
        }
        var weights = model.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.detach().to_type(ScalarType.Float64));
        Tensor exact;
        using (var gradients = enable_grad())
        {
            var input = images.to_type(ScalarType.Float64).requires_grad_(true);
            var hidden = nn.functional.max_pool2d(nn.functional.relu(nn.functional.conv2d(input.reshape(32, 1, 28, 28), weights["conv1.weight"], weights["conv1.bias"], padding: [2, 2])), 2);
            hidden = nn.functional.max_pool2d(nn.functional.relu(nn.functional.conv2d(hidden, weights["conv2.weight"], weights["conv2.bias"], padding: [2, 2])), 2);
            hidden = nn.functional.relu(nn.functional.linear(hidden.flatten(1), weights["fc1.weight"], weights["fc1.bias"]));
            var loss = nn.functional.cross_entropy(nn.functional.linear(hidden, weights["output.weight"], weights["output.bias"]), labels, reduction: nn.Reduction.Sum);
            exact = autograd.grad([loss], [input])[0].to_type(ScalarType.Float32);
        }

        Assert.True(OneDnnWorkaround.Applied);
        Assert.False(OneDnnWorkaround.Enabled());
        Assert.False(OneDnnWorkaround.NnpackEnabled());
        float largest = exact.abs().max().item<float>();
        float error = (ours - exact).abs().max().item<float>();
        Assert.True(error <= 1e-4 * largest, $"float32 gradient off by {error} of a largest {largest}");
    }
}
