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
    public static string SoftmaxOnRealMnist(RealMnist mnist, string folder)
    {
        random.manual_seed(3);
        var spec = ModelZoo.Get("fc10-1e-4");
        var classifier = spec.Create();
        using (var data = ImageDataset.Load("mnist", mnist.Folder))
        using (var scope = NewDisposeScope())
        {
            var images = data.Train.Images.narrow(0, 0, 2000);
            var labels = data.Train.Labels.narrow(0, 0, 2000);
            var optimizer = optim.Adam(classifier.parameters(), 0.01);
            for (int step = 0; step < 30; step++)
            {
                using var stepScope = NewDisposeScope();
                var loss = nn.functional.cross_entropy(classifier.forward(images), labels);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        }
        classifier.eval();
        string path = Path.Combine(folder, "tiny-fc10.safetensors");
        var report = new TrainingReport(0.2, 0.2, 0.2, 0.2, Epochs: 1, Seconds: 0, Recipe: "30 Adam steps on 2,000 images (test fixture)");
        using var model = new TrainedModel(spec.Name, Split.Train, 0, classifier, report, path);
        ModelStore.Save(model);
        return path;
    }
}
