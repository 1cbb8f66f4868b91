using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>Error rates of a classifier on a labelled set, in batches, without building a graph.</summary>
public static class Evaluation
{
    /// <summary>The fraction of <paramref name="set"/> that <paramref name="model"/> misclassifies (0 for an empty set).</summary>
    public static double ErrorRate(Classifier model, Data.LabeledImages set, int batchSize = 2000)
    {
        if (set.Count == 0)
        {
            return 0;
        }
        using var threads = TorchThreads.Limit(1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            long wrong = 0;
            var device = model.Device;
            for (int start = 0; start < set.Count; start += batchSize)
            {
                using var batchScope = NewDisposeScope();
                int count = Math.Min(batchSize, set.Count - start);
                var predicted = model.forward(set.Images.narrow(0, start, count).to(device)).argmax(1);
                wrong += predicted.ne(set.Labels.narrow(0, start, count).to(device)).sum().item<long>();
            }
            return (double)wrong / set.Count;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
