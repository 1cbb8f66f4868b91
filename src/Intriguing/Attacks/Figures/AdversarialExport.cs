using System.Globalization;
using Intriguing.IO;
using Intriguing.Models;

namespace Intriguing.Attacks.Figures;

/// <summary>The files <c>attack --out DIR</c> writes, each atomically.</summary>
public sealed record AdversarialFiles(string TensorFile, string PngFolder, int PngCount, string Figure);

/// <summary>
/// Writes an attack's adversarial examples: <c>adversarials.safetensors</c> (float32 "adversarials" [N, D] and
/// "originals" [N, D], labels and predictions as float vectors, metadata with the method and input shape) and, for
/// grey images ([1, H, W] in [0,1], MNIST's [1, 28, 28]), one PNG per image under <c>png/</c> named by index, true
/// label and new prediction, and <c>figure5.png</c> (<see cref="AdversarialFigure"/>). Other inputs get the tensors
/// only (<see cref="AdversarialFiles.PngCount"/> 0, no figure).
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

        string pngFolder = Path.Combine(folder, "png");
        bool greyImages = input.IsImage && input.Shape[0] == 1;
        if (!greyImages)
        {
            return new AdversarialFiles(tensorFile, pngFolder, 0, "");
        }
        int height = (int)input.Shape[1], width = (int)input.Shape[2];
        Directory.CreateDirectory(pngFolder);
        foreach (var example in result.Examples)
        {
            string name = string.Create(CultureInfo.InvariantCulture,
                $"{example.Index:00000}-true{example.Label}-pred{example.FinalPrediction}.png");
            var pixels = new ReadOnlySpan<float>(adversarialPixels, example.Index * features, features);
            AtomicFile.WriteAllBytes(Path.Combine(pngFolder, name), DigitPng.Encode(pixels, width, height));
        }
        string figure = Path.Combine(folder, "figure5.png");
        AtomicFile.WriteAllBytes(figure, AdversarialFigure.Render(result, originals, width: width, height: height));
        return new AdversarialFiles(tensorFile, pngFolder, count, figure);
    }
}
