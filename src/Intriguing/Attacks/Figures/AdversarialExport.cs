using System.Globalization;
using Intriguing.IO;
using Intriguing.Models;

namespace Intriguing.Attacks.Figures;

/// <summary>The files <c>attack --out DIR</c> writes, each atomically.</summary>
/// <param name="TensorFile">The adversarial and original examples, labels and predictions as safetensors.</param>
/// <param name="PngFolder">The folder of one PNG per image (empty of files when the input is not an image).</param>
/// <param name="PngCount">How many PNGs were written.</param>
/// <param name="Figure">The Figure 5 style grid, or an empty string when none was drawn.</param>
/// <param name="NpyFile">The adversarial examples as a NumPy array, float32 [N, ...input shape].</param>
public sealed record AdversarialFiles(string TensorFile, string PngFolder, int PngCount, string Figure, string NpyFile);

/// <summary>
/// Writes an attack's adversarial examples: <c>adversarials.safetensors</c> (float32 "adversarials" [N, D] and
/// "originals" [N, D], labels and predictions as float vectors, metadata with the method and input shape),
/// <c>adversarials.npy</c> (the adversarial examples for NumPy, float32 [N, C, H, W], or [N, D] for a flat input:
/// <c>numpy.load</c> reads it) and, for images in [0,1] (grey [1, H, W] as MNIST's [1, 28, 28], or colour
/// [3, H, W]), one PNG per image under <c>png/</c> named by index, true label and new prediction, grey or RGB as the
/// image is, and <c>figure5.png</c> (<see cref="AdversarialFigure"/>). Other inputs get the tensors only
/// (<see cref="AdversarialFiles.PngCount"/> 0, no figure).
/// </summary>
public static class AdversarialExport
{
    /// <summary>
    /// Writes <paramref name="result"/>'s examples into <paramref name="folder"/> (created if missing) beside
    /// <paramref name="originals"/> (the clean inputs, one flat float array of D values per attacked image, in order),
    /// with <paramref name="modelName"/> and <paramref name="input"/>'s shape in the metadata.
    /// </summary>
    /// <returns>The paths written and how many PNGs.</returns>
    public static AdversarialFiles Write(string folder, AttackResult result, float[][] originals, string modelName, InputSpace input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Directory.CreateDirectory(folder);
        int count = result.Examples.Count;
        int features = input.Features;
        float[] adversarialPixels = result.Adversarials.cpu().contiguous().data<float>().ToArray();
        float[] originalPixels = originals.SelectMany(image => image).ToArray();
        var tensors = new List<StoredTensor>
        {
            new("adversarials", [count, features], adversarialPixels),
            new("originals", [count, features], originalPixels),
            new("labels", [count], result.Examples.Select(example => (float)example.Label).ToArray()),
            new("predictions", [count], result.Examples.Select(example => (float)example.FinalPrediction).ToArray()),
            new("success", [count], result.Examples.Select(example => example.Success ? 1f : 0f).ToArray()),
        };
        var metadata = new Dictionary<string, string>
        {
            ["model"] = modelName,
            ["method"] = result.Summary.Method,
            ["targeted"] = result.Summary.Targeted ? "true" : "false",
            ["inputShape"] = string.Join(",", input.Shape),
        };
        string tensorFile = Path.Combine(folder, "adversarials.safetensors");
        SafeTensors.Write(tensorFile, tensors, metadata);
        string npyFile = Path.Combine(folder, "adversarials.npy");
        NpyFile.Write(npyFile, adversarialPixels, [count, .. input.Shape]);

        string pngFolder = Path.Combine(folder, "png");
        if (!input.IsImage)
        {
            return new AdversarialFiles(tensorFile, pngFolder, 0, "", npyFile);
        }
        int channels = (int)input.Shape[0], height = (int)input.Shape[1], width = (int)input.Shape[2];
        Directory.CreateDirectory(pngFolder);
        foreach (var example in result.Examples)
        {
            string name = string.Create(CultureInfo.InvariantCulture,
                $"{example.Index:00000}-true{example.Label}-pred{example.FinalPrediction}.png");
            var pixels = new ReadOnlySpan<float>(adversarialPixels, example.Index * features, features);
            byte[] png = channels == 3 ? ColourPng.Encode(pixels, width, height) : DigitPng.Encode(pixels, width, height);
            AtomicFile.WriteAllBytes(Path.Combine(pngFolder, name), png);
        }
        string figure = Path.Combine(folder, "figure5.png");
        AtomicFile.WriteAllBytes(figure, AdversarialFigure.Render(result, originals, width: width, height: height, channels: channels));
        return new AdversarialFiles(tensorFile, pngFolder, count, figure, npyFile);
    }
}
