using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Cli.Tests;

/// <summary>Small real models as files the commands accept by path, made in a second instead of trained by the zoo.</summary>
internal static class TinyModelFiles
{
    /// <summary>
    /// An fc10-1e-4 model fitted with 30 Adam steps to the first 2,000 real training images (most test digits come out
    /// right, so there is something to attack), saved through the model store as <c>tiny-fc10.safetensors</c> in
    /// <paramref name="folder"/>.
    /// </summary>
    public static string SoftmaxOnRealMnist(RealMnist mnist, string folder) =>
        FittedOnRealMnist(mnist, folder, "fc10-1e-4", seed: 3, steps: 30, "tiny-fc10.safetensors");

    /// <summary>
    /// An fc100-100-10 (two sigmoid layers) fitted with 40 Adam steps to the first 2,000 real training images, saved as
    /// <c>tiny-mlp.safetensors</c>: most test digits come out right, and its matrix products are ones whose float results
    /// depend on the batch.
    /// </summary>
    public static string MlpOnRealMnist(RealMnist mnist, string folder) =>
        FittedOnRealMnist(mnist, folder, "fc100-100-10", seed: 4, steps: 40, "tiny-mlp.safetensors");

    /// <summary>An untrained fc100-100-10 (seeded) saved as <c>untrained-fc100.safetensors</c>: two sigmoid layers of 100 units to look into.</summary>
    public static string UntrainedFc100(string folder)
    {
        random.manual_seed(5);
        var spec = ModelZoo.Get("fc100-100-10");
        var classifier = spec.Create();
        var report = new TrainingReport(0.9, 0.9, 0.9, 0.9, Epochs: 0, Seconds: 0, Recipe: "untrained (test fixture)");
        return Save(spec, classifier, report, Path.Combine(folder, "untrained-fc100.safetensors"));
    }

    /// <summary>The zoo model <paramref name="zooName"/> fitted with <paramref name="steps"/> full-batch Adam steps to the first 2,000 training images.</summary>
    private static string FittedOnRealMnist(RealMnist mnist, string folder, string zooName, int seed, int steps, string fileName)
    {
        random.manual_seed(seed);
        var spec = ModelZoo.Get(zooName);
        var classifier = spec.Create();
        using (var data = ImageDataset.Load("mnist", mnist.Folder))
        using (var scope = NewDisposeScope())
        {
            var images = data.Train.Images.narrow(0, 0, 2000);
            var labels = data.Train.Labels.narrow(0, 0, 2000);
            var optimizer = optim.Adam(classifier.parameters(), 0.01);
            for (int step = 0; step < steps; step++)
            {
                using var stepScope = NewDisposeScope();
                var loss = nn.functional.cross_entropy(classifier.forward(images), labels);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        }
        var report = new TrainingReport(0.2, 0.2, 0.2, 0.2, Epochs: 1, Seconds: 0, Recipe: $"{steps} Adam steps on 2,000 images (test fixture)");
        return Save(spec, classifier, report, Path.Combine(folder, fileName));
    }

    private static string Save(ModelSpec spec, Classifier classifier, TrainingReport report, string path)
    {
        classifier.eval();
        using var model = new TrainedModel(spec.Name, Split.Train, 0, classifier, report, path);
        ModelStore.Save(model);
        return path;
    }
}
