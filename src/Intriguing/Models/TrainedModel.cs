using Intriguing.Data;

namespace Intriguing.Models;

/// <summary>
/// How a stored model was trained and how well it does: error rates (fractions) on its own training split,
/// on the test set and on the halves P1 and P2; epochs; wall-clock seconds of training; the recipe in words;
/// whether it was the quick recipe of <c>reproduce --quick</c>; the dataset it was trained on.
/// </summary>
public sealed record TrainingReport(
    double TrainError,
    double TestError,
    double P1Error,
    double P2Error,
    int Epochs,
    double Seconds,
    string Recipe,
    bool Quick = false,
    string Dataset = "mnist")
{
    /// <summary>The epoch this process's training continued from (0: trained from the start or loaded); not stored.</summary>
    public int ResumedFromEpoch { get; init; }
}

/// <summary>
/// A zoo model ready for the studies: in eval mode, parameters detached from every dispose scope and with
/// requires_grad false (attacks take gradients with respect to the input only). <see cref="Path"/> is the
/// safetensors file it lives in. Disposing it frees the weights.
/// </summary>
public sealed record TrainedModel(string Name, Split Split, int Seed, Classifier Model, TrainingReport Report, string Path) : IDisposable
{
    /// <summary>Disposes the model (frees the weights).</summary>
    public void Dispose() => Model.Dispose();
}
