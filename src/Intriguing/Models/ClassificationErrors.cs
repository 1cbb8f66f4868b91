using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>Error rates of a classifier on a labelled set, in batches (at most <see cref="Classifier.RowsPerPass"/> rows), without building a graph.</summary>
public static class ClassificationErrors
{
    /// <summary>The fraction of <paramref name="set"/> that <paramref name="model"/> misclassifies (0 for an empty set).</summary>
    public static double ErrorRate(Classifier model, Data.LabeledImages set, int batchSize = 2000) =>
        set.Count == 0 ? 0 : (double)Wrong(model, set, batchSize).Count(wrong => wrong) / set.Count;

    /// <summary>Which images of <paramref name="set"/> <paramref name="model"/> misclassifies, in order (paired comparisons need them).</summary>
    public static bool[] Wrong(Classifier model, Data.LabeledImages set, int batchSize = 2000)
    {
        var wrongImages = new bool[set.Count];
        if (set.Count == 0)
        {
            return wrongImages;
        }
        using var threads = TorchThreads.Limit(1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var device = model.Device;
            int rows = Math.Min(batchSize, model.RowsPerPass);
            for (int start = 0; start < set.Count; start += rows)
            {
                using var batchScope = NewDisposeScope();
                int count = Math.Min(rows, set.Count - start);
                var predicted = model.forward(set.Images.narrow(0, start, count).to(device)).argmax(1);
                var batchWrong = predicted.ne(set.Labels.narrow(0, start, count).to(device)).cpu().data<bool>().ToArray();
                Array.Copy(batchWrong, 0, wrongImages, start, count);
            }
            return wrongImages;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
