using System.Text.Json;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

/// <summary>
/// The TorchScript models of tests/fixtures/torchscript (made by tests/fixtures/make_fixtures.py with PyTorch, copied
/// beside the tests), and what PyTorch computed on them: inputs in [0,1], the logits and the gradient of
/// sum_i logits[i, label_i] with respect to the input, in pixel space (through the declared normalisation).
/// </summary>
internal static class TorchScriptFixtures
{
    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "fixtures", "torchscript");

    /// <summary>A traced 784-16-10 ReLU net trained one epoch on MNIST, declared [1, 28, 28], 10 classes.</summary>
    public static string MnistMlp => Path.Combine(Folder, "mnist-mlp", "model.pt");

    /// <summary>A scripted [3, 8, 8] convnet with 4 classes, declared with a per-channel mean and std.</summary>
    public static string ColorConv => Path.Combine(Folder, "color-conv", "model.pt");

    public static string File(string name) => Path.Combine(Folder, name);

    /// <summary>What PyTorch computed on the model of <paramref name="modelPath"/> (its folder's expected.json).</summary>
    public static Expected ExpectedFor(string modelPath)
    {
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Path.GetDirectoryName(modelPath)!, "expected.json")));
        var root = document.RootElement;
        long[] shape = [.. root.GetProperty("inputShape").EnumerateArray().Select(size => size.GetInt64())];
        return new Expected(shape, Rows(root.GetProperty("inputs")), Rows(root.GetProperty("logits")),
            [.. root.GetProperty("labels").EnumerateArray().Select(label => label.GetInt64())], Rows(root.GetProperty("gradients")));
    }

    private static float[][] Rows(JsonElement element) =>
        [.. element.EnumerateArray().Select(row => row.EnumerateArray().Select(value => value.GetSingle()).ToArray())];

    public sealed record Expected(long[] InputShape, float[][] Inputs, float[][] Logits, long[] Labels, float[][] Gradients)
    {
        /// <summary>The inputs as float32 [N, ...shape].</summary>
        public Tensor InputTensor() => tensor(Inputs.SelectMany(row => row).ToArray(), [Inputs.Length, .. InputShape]);

        public static Tensor Matrix(float[][] rows) => tensor(rows.SelectMany(row => row).ToArray(), [rows.Length, rows[0].Length]);
    }
}
