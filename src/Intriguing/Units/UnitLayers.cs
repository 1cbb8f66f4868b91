using System.Globalization;
using Intriguing.Models;

namespace Intriguing.Units;

/// <summary>Which hidden layers of a model the unit analysis looks at, from a name or an index given by the user.</summary>
public static class UnitLayers
{
    /// <summary>
    /// Every hidden layer when <paramref name="layer"/> is null; otherwise the one named (case-insensitive) or numbered
    /// (0 = the first hidden layer, as <see cref="Classifier.HiddenLayerNames"/> orders them).
    /// </summary>
    /// <exception cref="BadInputException">The model has no hidden layer, or no such layer; the message lists the model's layers.</exception>
    public static IReadOnlyList<int> Resolve(Classifier model, string modelName, string? layer)
    {
        var names = model.HiddenLayerNames;
        if (names.Count == 0)
        {
            throw new BadInputException($"model '{modelName}' has no hidden layer (it maps pixels straight to classes); the unit analysis needs one: try conv or fc100-100-10");
        }
        if (layer is null)
        {
            return [.. Enumerable.Range(0, names.Count)];
        }
        string wanted = layer.Trim();
        for (int index = 0; index < names.Count; index++)
        {
            if (string.Equals(names[index], wanted, StringComparison.OrdinalIgnoreCase))
            {
                return [index];
            }
        }
        if (int.TryParse(wanted, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number) && number >= 0 && number < names.Count)
        {
            return [number];
        }
        throw new BadInputException($"--layer '{layer}': model '{modelName}' has no such layer; its layers are {Describe(names)}");
    }

    /// <summary>"0 = conv1, 1 = conv2, 2 = fc1 (the classifier's input)".</summary>
    public static string Describe(IReadOnlyList<string> names) =>
        string.Join(", ", names.Select((name, index) => index == names.Count - 1 ? $"{index} = {name} (the classifier's input)" : $"{index} = {name}"));
}
