using System.Text.Json;
using Intriguing.Attacks;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Transfer;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

/// <summary>
/// One model in the three forms <c>--model</c> takes (tests/fixtures/pytorch-state-dict, made by
/// make_state_dict_fixture.py): the fc10 state dict as safetensors with model.json (imported into the zoo's own
/// architecture), the same module traced to TorchScript, and exported to ONNX. Loaded as the commands load them
/// (<see cref="ModelStore.LoadFile"/>), the three give PyTorch's logits and one another's, the white-box forms give the
/// same adversarial examples for the same seed, and examples made on one form transfer identically to all three.
/// </summary>
public sealed class ThreeFormsTests : IDisposable
{
    private const double Tolerance = 1e-5;
    private static readonly string Folder = ModelExportTests.Fixture("pytorch-state-dict");
    private readonly TrainedModel safeTensors = ModelStore.LoadFile(Path.Combine(Folder, "model.safetensors"));
    private readonly TrainedModel torchScript = ModelStore.LoadFile(Path.Combine(Folder, "model.pt"));
    private readonly TrainedModel onnx = ModelStore.LoadFile(Path.Combine(Folder, "model.onnx"));

    public ThreeFormsTests() => Intriguing.Tests.Attacks.TorchThreads.UseOne();

    public void Dispose()
    {
        safeTensors.Dispose();
        torchScript.Dispose();
        onnx.Dispose();
    }

    private IEnumerable<(string Name, TrainedModel Model)> Forms =>
        [("safetensors", safeTensors), ("torchscript", torchScript), ("onnx", onnx)];

    /// <summary>32 digit-like images in [0,1], float [32, 784], and the labels the model gives them (so each is attacked).</summary>
    private (Tensor Images, Tensor Labels) Images()
    {
        using var digits = SyntheticDigits.Make(32, seed: 5);
        var images = digits.Images.clone();
        using var noGrad = no_grad();
        return (images, safeTensors.Model.forward(images).argmax(1));
    }

    private static Tensor Logits(TrainedModel model, Tensor inputs)
    {
        using var noGrad = no_grad();
        return model.Model.forward(inputs);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double largest = (expected - actual).abs().max().item<float>();
        Assert.True(largest <= Tolerance, $"{what}: largest difference {largest}");
    }

    [Fact]
    public void The_three_forms_load_as_what_they_are_and_give_pytorchs_logits_and_one_anothers()
    {
        using var scope = NewDisposeScope();
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json")));
        float[][] inputs = expected.RootElement.GetProperty("inputs").Deserialize<float[][]>()!;
        float[][] logits = expected.RootElement.GetProperty("logits").Deserialize<float[][]>()!;
        var pytorchInputs = tensor(inputs.SelectMany(row => row).ToArray(), [inputs.Length, 1, 28, 28]);
        var pytorchLogits = tensor(logits.SelectMany(row => row).ToArray(), [logits.Length, 10]);
        var (images, _) = Images();

        // The state dict goes into the zoo's own architecture; the other two run as they were saved.
        Assert.IsType<SoftmaxRegression>(safeTensors.Model);
        Assert.Equal("fc10-1e-4", safeTensors.Name);
        Assert.IsType<TorchScriptClassifier>(torchScript.Model);
        Assert.IsType<OnnxClassifier>(onnx.Model);
        Assert.False(onnx.Model.ProvidesInputGradients);
        var reference = Logits(safeTensors, images);
        foreach (var (name, model) in Forms)
        {
            Assert.Equal([1L, 28, 28], model.Model.Input.Shape);
            Assert.Equal(10, model.Model.ClassCount);
            AssertClose(pytorchLogits, Logits(model, pytorchInputs), $"{name} against PyTorch");
            AssertClose(reference, Logits(model, images), $"{name} against safetensors");
            // Flat rows and image-shaped batches are the same input.
            AssertClose(reference, Logits(model, images.reshape(-1, 1, 28, 28)), $"{name}, [N, 1, 28, 28]");
        }
    }

    public static TheoryData<string> WhiteBoxAttacks() => new() { "fgsm", "pgd", "pgd-l2", "apgd-ce", "deepfool" };

    /// <summary>Small budgets, so that some images hold out and successes are a real comparison.</summary>
    private static Attack Seeded(string method, int seed) => method switch
    {
        "fgsm" => new Fgsm { Epsilon = 0.005 },
        "pgd" => new PgdLinf { Epsilon = 0.005, StepSize = 0.001, Steps = 10, Seed = seed },
        "pgd-l2" => new PgdL2 { Epsilon = 0.4, StepSize = 0.05, Steps = 10, Seed = seed },
        "apgd-ce" => new ApgdLinf { Epsilon = 0.005, Iterations = 10, Seed = seed },
        _ => AttackCatalog.Create(method, seed: seed),
    };

    private static void AssertSameResults(AttackResult expected, AttackResult actual, string what)
    {
        Assert.True(expected.Summary.Verified && actual.Summary.Verified, $"{what}: not verified");
        Assert.Equal(expected.Examples.Select(example => (example.Success, example.FinalPrediction)),
            actual.Examples.Select(example => (example.Success, example.FinalPrediction)));
        Assert.Equal(expected.Summary.Successes, actual.Summary.Successes);
        AssertClose(expected.Adversarials, actual.Adversarials, $"{what}: adversarial examples");
    }

    [Theory]
    [MemberData(nameof(WhiteBoxAttacks))]
    public void One_seed_gives_the_same_adversarial_examples_on_the_torchscript_and_safetensors_forms(string method)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Images();
        var attack = Seeded(method, seed: 7);

        var onSafeTensors = attack.Run(safeTensors.Model, images, labels);
        var onTorchScript = attack.Run(torchScript.Model, images, labels);

        AssertSameResults(onSafeTensors, onTorchScript, method);
        Assert.InRange(onSafeTensors.Summary.Successes, 1, method == "deepfool" ? 32 : 31);
    }

    [Fact]
    public void Square_with_one_seed_gives_the_same_examples_on_all_three_forms()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Images();
        var square = new SquareLinf { Epsilon = 0.02, Queries = 60, Seed = 7 };

        var onSafeTensors = square.Run(safeTensors.Model, images, labels);

        Assert.InRange(onSafeTensors.Summary.Successes, 1, 31);
        AssertSameResults(onSafeTensors, square.Run(torchScript.Model, images, labels), "square on TorchScript");
        AssertSameResults(onSafeTensors, square.Run(onnx.Model, images, labels), "square on ONNX");
    }

    [Fact]
    public void Examples_made_on_one_form_transfer_identically_to_all_three()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Images();
        var pgd = new PgdLinf { Epsilon = 0.02, StepSize = 0.005, Steps = 10, Seed = 7 };
        var run = TransferAttacks.Direct(images, labels, seed: 7);
        // Both white-box forms as sources (the same examples, so the same rows); all three forms as targets.
        var sources = new[] { ("safetensors", safeTensors), ("torchscript", torchScript) }
            .Select(source => SourceExamples.From(source.Item1, pgd, run(new TransferModel(source.Item1, source.Item2.Model), pgd, false)))
            .ToList();
        var targets = Forms.Select(form => new TransferModel(form.Name, form.Model.Model)).ToList();

        var matrix = TransferMeasurement.Measure(sources, targets, images, labels, TransferOptions.Table2(seed: 7) with { CurveRms = [0.02, 0.05] });

        Assert.Equal(sources[0].Indices, sources[1].Indices);
        Assert.True(sources[0].Count > 0, "PGD should fool some of the images");
        var outcomes = new List<IReadOnlyDictionary<string, bool[]>>();
        outcomes.AddRange(matrix.Rows.Select(row => row.Outcomes));
        outcomes.AddRange(matrix.Magnified.Select(row => row.Outcomes));
        outcomes.AddRange(matrix.Noise.Select(row => row.Outcomes));
        outcomes.AddRange(matrix.Rows.Select(row => row.MatchedNoise.Outcomes));
        foreach (var cells in outcomes)
        {
            Assert.Equal(cells["safetensors"], cells["torchscript"]);
            Assert.Equal(cells["safetensors"], cells["onnx"]);
        }
        Assert.Equal(matrix.Rows[0].Outcomes["onnx"], matrix.Rows[1].Outcomes["onnx"]);
        // Not trivially equal: some of the measured points fool the model and some do not.
        var all = outcomes.SelectMany(cells => cells["onnx"]).ToList();
        Assert.Contains(true, all);
        Assert.Contains(false, all);
        foreach (var curve in matrix.Curves)
        {
            Assert.Equal(curve.Adversarial["safetensors"], curve.Adversarial["onnx"]);
            Assert.Equal(curve.Adversarial["torchscript"], curve.Adversarial["onnx"]);
            Assert.Equal(curve.Noise["safetensors"], curve.Noise["onnx"]);
        }
        Assert.Equal(matrix.CleanErrors["safetensors"], matrix.CleanErrors["onnx"]);
        Assert.Equal(matrix.CleanErrors["torchscript"], matrix.CleanErrors["onnx"]);
    }
}
