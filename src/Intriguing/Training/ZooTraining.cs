using System.Globalization;
using Intriguing.Data;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training;

/// <summary>
/// Training a zoo model: a fresh model of the spec, seeded, trained by <see cref="TrainingLoop"/> with its recipe
/// (checkpointed after every epoch when given a checkpoint path, and resumed from it), then evaluated
/// (<see cref="Evaluation"/>) on its own split, the test set and both halves. Nothing is saved here
/// (<see cref="ModelFiles"/> stores, <see cref="ModelStore"/> decides when).
/// </summary>
public static class ZooTraining
{
    /// <summary>
    /// Trains a fresh, seeded model of <paramref name="spec"/> on <paramref name="splits"/>(<paramref name="split"/>) and
    /// evaluates it, without saving (<see cref="TrainedModel.Path"/> is empty). <paramref name="splits"/> gives the
    /// images of each split, so tests can pass small synthetic sets; <paramref name="hook"/> joins the training loop.
    /// With <paramref name="checkpointPath"/>, a run killed during training continues there from its last finished
    /// epoch (<see cref="TrainingReport.ResumedFromEpoch"/>); the checkpoint's fingerprint holds the model, split,
    /// seed, recipe, dataset and the hook's settings (<paramref name="hookDescription"/>).
    /// </summary>
    public static TrainedModel Train(
        ModelSpec spec,
        Func<Split, LabeledImages> splits,
        Split split,
        int seed,
        bool quick,
        int? epochs,
        IProgress<ProgressUpdate>? progress,
        Device? device,
        string dataset = "mnist",
        TrainingHook? hook = null,
        string? checkpointPath = null,
        string hookDescription = "")
    {
        if (split == Split.Test)
        {
            throw new BadInputException("--split test: models are never trained on the test set; expected train, p1 or p2");
        }
        var recipe = spec.RecipeFor(split, quick, epochs);
        torch.random.manual_seed(seed);
        var model = ModelFiles.CreateDetached(spec);
        try
        {
            // Inside the try: a model whose move to the device fails is disposed too.
            ModelStore.MoveTo(model, device);
            string task = string.Create(CultureInfo.InvariantCulture, $"train {spec.Name} ({split.Name()}, seed {seed}{(quick ? ", quick" : "")})");
            var checkpoint = checkpointPath is null
                ? null
                : new TrainingCheckpoint(checkpointPath, string.Create(CultureInfo.InvariantCulture,
                    $"zoo {spec.Name}|{split.Name()}|seed {seed}|{recipe.Describe()}|{dataset}|{hookDescription}"));
            var run = TrainingLoop.Train(model, splits(split), recipe, seed, task, hook, checkpoint, progress);
            var report = new TrainingReport(
                TrainError: Models.Evaluation.ErrorRate(model, splits(split)),
                TestError: Models.Evaluation.ErrorRate(model, splits(Split.Test)),
                P1Error: Models.Evaluation.ErrorRate(model, splits(Split.P1)),
                P2Error: Models.Evaluation.ErrorRate(model, splits(Split.P2)),
                Epochs: run.Epochs,
                Seconds: run.Seconds,
                Recipe: recipe.Describe(),
                Quick: quick,
                Dataset: dataset)
            {
                ResumedFromEpoch = run.ResumedFromEpoch,
            };
            ModelFiles.Freeze(model);
            return new TrainedModel(spec.Name, split, seed, model, report, "");
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

}
