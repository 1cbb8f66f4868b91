using static TorchSharp.torch;

namespace Intriguing.Tests;

/// <summary>
/// Proves the native TorchSharp library loads (on Debian 12 only after the build's GLIBCXX patch) and that
/// autograd computes a known gradient.
/// </summary>
public class NativeLoadTests
{
    [Fact]
    public void Autograd_gives_the_gradient_of_a_known_function()
    {
        using var scope = NewDisposeScope();
        // f(x) = sum(x^3 + 2x), df/dx = 3x^2 + 2.
        var x = tensor(new[] { -1.5, 0.0, 2.0 }, requires_grad: true);
        var f = (x.pow(3) + 2 * x).sum();
        f.backward();
        Assert.Equal(new[] { 8.75, 2.0, 14.0 }, x.grad!.data<double>().ToArray());
    }
}
