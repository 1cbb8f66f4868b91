using Intriguing;
using Intriguing.Attacks;
using Intriguing.Data;
using Intriguing.Evaluation;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests;

/// <summary>
/// The examples of docs/library.md, run: each block of that page appears here line for line (a test checks it), with
/// the lines that give it its inputs around it: the TorchScript and ONNX models of tests/fixtures and synthetic images
/// (uniform noise, labelled with the model's own predictions so that every image starts correctly classified). What
/// the examples print goes to a buffer the tests read.
/// </summary>
public sealed class LibraryExamplesTests : IDisposable
{
    private readonly TextWriter console = Console.Out;
    private readonly StringWriter printed = new();

    public LibraryExamplesTests()
    {
        Console.SetOut(printed);
        set_num_threads(1);
    }

    public void Dispose() => Console.SetOut(console);

    private static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    [Fact]
    public void Load_a_torchscript_model_attack_it_with_pgd_and_read_the_result()
    {
        string modelPath = Fixture("torchscript", "mnist-mlp", "model.pt");

        // modelPath: a TorchScript file with its model.json beside it.
        using TrainedModel loaded = ModelStore.LoadFile(modelPath);
        Classifier model = loaded.Model;
        Console.WriteLine($"{loaded.Name}: {model.Input.Describe()}");   // mnist-mlp/model.pt: [1, 28, 28] in [0, 1], 10 classes

        // The same model with its input declared here instead of in model.json.
        using TorchScriptClassifier declared = TorchScriptClassifier.Load(modelPath, new ModelDeclaration([1, 28, 28], classes: 10));

        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(0);
        var images = rand([16, 784], generator: generator);
        var labels = model.Predict(images);

        // images: float32 [N, 784] (or [N, 1, 28, 28]) in [0,1]; labels: int64 [N], the true classes.
        var pgd = new PgdLinf { Epsilon = 0.1, Steps = 40, StepSize = 0.01, Seed = 0 };
        AttackResult result = pgd.Run(model, images, labels);

        AttackSummary summary = result.Summary;
        Console.WriteLine($"{pgd.Describe()}: {summary.Successes} of {summary.Attempted} fooled ({summary.SuccessRate:P1}), " +
            $"error {summary.ErrorRate:P1}, mean L-inf {summary.MeanLinf:0.000}, verified {summary.Verified}");
        foreach (AdversarialExample example in result.Examples.Where(example => example.Success))
        {
            Console.WriteLine($"image {example.Index}: {example.Label} -> {example.FinalPrediction} " +
                $"(distortion {example.Distortion:0.000}, L2 {example.L2:0.00}, L-inf {example.Linf:0.000})");
        }
        Tensor adversarials = result.Adversarials;   // float32 [N, 784] in the model's box; the clean image where nothing was found

        string text = printed.ToString();
        Assert.Contains("mnist-mlp/model.pt: [1, 28, 28] in [0, 1], 10 classes", text);
        Assert.Equal(declared.forward(images).argmax(1).data<long>().ToArray(), labels.data<long>().ToArray());
        Assert.True(summary.Verified);
        Assert.Equal(16, summary.Attempted);
        Assert.True(summary.Successes > 0, text);
        Assert.Contains($"{summary.Successes} of 16 fooled", text);
        Assert.Equal(new long[] { 16, 784 }, adversarials.shape);
        Assert.True((adversarials - images).abs().max().item<float>() <= 0.1f + 1e-6f);
    }

    [Fact]
    public void Score_an_onnx_model_with_square()
    {
        string onnxPath = Fixture("onnx", "mnist-mlp.onnx");
        using var scope = NewDisposeScope();
        var images = rand([16, 784], generator: new TorchSharp.torch.Generator(1));
        Tensor labels;
        using (var reference = new OnnxClassifier(onnxPath, InputSpace.Images(1, 28, 28, 10)))
        {
            labels = reference.Predict(images);
        }

        // onnxPath: an ONNX model with one float32 input [batch, 1, 28, 28] and one output [batch, 10].
        using var onnx = new OnnxClassifier(onnxPath, InputSpace.Images(channels: 1, height: 28, width: 28, classCount: 10));
        var square = new SquareLinf { Epsilon = 0.3, Queries = 300, Seed = 0 };
        AttackResult scored = square.Run(onnx, images, labels);
        var queries = scored.Examples.Where(example => example.Success).Select(example => example.GradientEvaluations).Order().ToList();
        Console.WriteLine($"square: {scored.Summary.SuccessRate:P1} fooled, median queries {(queries.Count > 0 ? queries[queries.Count / 2] : 0)}");

        Assert.False(square.NeedsGradients);
        Assert.True(scored.Summary.Verified);
        Assert.Equal(16, scored.Summary.Attempted);
        Assert.True(scored.Summary.Successes > 0, printed.ToString());
        Assert.All(queries, count => Assert.InRange(count, 1, 300));
        Assert.Contains("square: ", printed.ToString());
        // A gradient attack on a score-only model is bad input that says so.
        var error = Assert.Throws<BadInputException>(() => new PgdLinf().Run(onnx, images, labels));
        Assert.Contains("score", error.Message);
    }

    [Fact]
    public void Run_the_autoattack_cascade()
    {
        string modelPath = Fixture("torchscript", "mnist-mlp", "model.pt");
        using TrainedModel loaded = ModelStore.LoadFile(modelPath);
        Classifier model = loaded.Model;
        using var scope = NewDisposeScope();
        var images = rand([8, 784], generator: new TorchSharp.torch.Generator(2));
        var labels = model.Predict(images);

        using AutoAttackResult evaluation = AutoAttack.Run(model, images, labels, epsilon: 0.1, norm: ThreatNorm.Linf,
            version: AutoAttackVersion.Fast);
        Console.WriteLine($"clean {evaluation.CleanAccuracy:P1}, robust {evaluation.RobustAccuracy:P1} " +
            $"[{evaluation.RobustInterval[0]:P1}, {evaluation.RobustInterval[1]:P1}] at eps {evaluation.Epsilon}");
        foreach (StageResult stage in evaluation.Stages)
        {
            Console.WriteLine($"{stage.Name}: broke {stage.BrokeImages} of {stage.Attacked} in {stage.Seconds:0.0} s");
        }
        foreach (string warning in evaluation.Warnings)
        {
            Console.WriteLine($"warning: {warning}");
        }

        Assert.Equal(1.0, evaluation.CleanAccuracy);
        Assert.Equal(new[] { "apgd-ce", "apgd-t" }, evaluation.Stages.Select(stage => stage.Name));
        Assert.True(evaluation.RobustAccuracy < 1.0, printed.ToString());
        Assert.Contains("apgd-ce: broke ", printed.ToString());
        Assert.Equal(evaluation.RobustAccuracy, evaluation.Images.Count(image => image.Robust) / 8.0);
    }

    /// <summary>docs/library.md's last example, compiled but not run here: it fetches MNIST and trains fc100-100-10.</summary>
    internal static void PaperModelsExample()
    {
        using ImageDataset mnist = ImageDataset.Load("mnist");
        using TrainedModel zoo = ModelStore.GetOrTrain("fc100-100-10", mnist);
        Tensor testImages = mnist.Test.Images.narrow(0, 0, 100);    // float32 [100, 784] in [0,1]
        Tensor testLabels = mnist.Test.Labels.narrow(0, 0, 100);    // int64 [100]
        AttackResult paper = new BoxConstrainedLbfgs().Run(zoo.Model, testImages, testLabels, AttackTargets.RandomWrong(testLabels, seed: 0));
        Console.WriteLine($"L-BFGS on {zoo.Name}: mean distortion {paper.Summary.MeanDistortion:0.000} (the paper: 0.058)");
    }

    [Fact]
    public void Every_example_of_the_page_is_here_line_for_line()
    {
        string repository = Repository();
        string page = File.ReadAllText(Path.Combine(repository, "docs", "library.md"));
        var here = Lines(File.ReadAllText(Path.Combine(repository, "tests", "Intriguing.Tests", "LibraryExamplesTests.cs")));
        var blocks = page.Split("```").Where((_, index) => index % 2 == 1).Where(block => block.StartsWith("csharp", StringComparison.Ordinal)).ToList();

        Assert.True(blocks.Count >= 7, $"docs/library.md has {blocks.Count} C# blocks");
        foreach (string block in blocks)
        {
            var lines = Lines(block["csharp".Length..]);
            bool found = Enumerable.Range(0, here.Count - lines.Count + 1).Any(start => lines.SequenceEqual(here.Skip(start).Take(lines.Count)));
            Assert.True(found, $"this block of docs/library.md is not in LibraryExamplesTests.cs line for line:\n{string.Join('\n', lines)}");
        }
    }

    /// <summary>Non-empty lines without their indentation.</summary>
    private static List<string> Lines(string text) =>
        [.. text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0)];

    private static string Repository() => RepositoryRoot.Path();
}
