using Intriguing.Data;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

/// <summary>
/// A tiny, learnable stand-in for MNIST: class c lights up row band c of a 28x28 image, plus seeded noise.
/// Fast enough for every test and needs no network.
/// </summary>
internal static class SyntheticDigits
{
    public static LabeledImages Make(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[count * 784];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            int label = i % 10;
            labels[i] = label;
            for (int p = 0; p < 784; p++)
            {
                int row = p / 28;
                float signal = row / 2 == label + 2 ? 0.8f : 0f;
                pixels[i * 784 + p] = Math.Clamp(signal + (float)random.NextDouble() * 0.3f, 0f, 1f);
            }
        }
        using var scope = NewDisposeScope();
        return new LabeledImages(
            tensor(pixels, [count, 784]).DetachFromDisposeScope(),
            tensor(labels).DetachFromDisposeScope());
    }

    /// <summary>A dataset of 200 training images (P1, P2: 100 each) and 60 test images.</summary>
    public static ImageDataset Dataset(int seed = 1) => new("synthetic", Make(200, seed), Make(60, seed + 1000));
}

/// <summary>Points <c>$INTRIGUING_HOME</c> at a fresh temporary folder for one test and restores it afterwards.</summary>
internal sealed class TemporaryHome : IDisposable
{
    private readonly string? previous = Environment.GetEnvironmentVariable(IntriguingHome.EnvironmentVariable);

    public TemporaryHome()
    {
        Folder = Path.Combine(Path.GetTempPath(), "intriguing-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        Environment.SetEnvironmentVariable(IntriguingHome.EnvironmentVariable, Folder);
    }

    public string Folder { get; }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(IntriguingHome.EnvironmentVariable, previous);
        Directory.Delete(Folder, recursive: true);
    }
}
