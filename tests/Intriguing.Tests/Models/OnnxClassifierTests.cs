using System.Text.Json;
using Intriguing.Attacks;
using Intriguing.Evaluation;
using Intriguing.Models;
using Intriguing.Tests.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

/// <summary>
/// ONNX models exported from PyTorch (tests/fixtures/make_onnx_fixtures.py): the logits match PyTorch's, a batch
/// equals its rows one by one, and files or declarations that do not fit are bad input naming what is wrong.
/// </summary>
public class OnnxClassifierTests
{
    public OnnxClassifierTests() => Intriguing.Tests.Attacks.TorchThreads.UseOne();

    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", name);

    private static JsonElement Expected(string model)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Fixture("expected.json")));
        return document.RootElement.GetProperty(model).Clone();
    }

    private static float[,] Matrix(JsonElement rows)
    {
        var values = rows.EnumerateArray().Select(row => row.EnumerateArray().Select(value => value.GetSingle()).ToArray()).ToArray();
        var matrix = new float[values.Length, values[0].Length];
        for (int i = 0; i < values.Length; i++)
        {
            for (int j = 0; j < values[i].Length; j++)
            {
                matrix[i, j] = values[i][j];
            }
        }
        return matrix;
    }

    private static void AssertClose(float[,] expected, Tensor actual, double tolerance)
    {
        Assert.Equal(new long[] { expected.GetLength(0), expected.GetLength(1) }, actual.shape);
        var values = actual.contiguous().data<float>().ToArray();
        for (int i = 0; i < expected.GetLength(0); i++)
        {
            for (int j = 0; j < expected.GetLength(1); j++)
            {
                Assert.Equal(expected[i, j], values[i * expected.GetLength(1) + j], tolerance);
            }
        }
    }

    [Theory]
    [InlineData("mnist-mlp", "mnist-mlp.onnx")]
    [InlineData("mnist-mlp", "mnist-mlp-batch1.onnx")]
    [InlineData("conv-3x8x8", "conv-3x8x8.onnx")]
    public void Logits_match_pytorch(string model, string file)
    {
        var expected = Expected(model);
        var shape = expected.GetProperty("shape").EnumerateArray().Select(size => size.GetInt64()).ToArray();
        int classes = expected.GetProperty("classes").GetInt32();
        var input = new InputSpace(shape, classes, InputBox.Uniform(0f, 1f, (int)shape.Aggregate(1L, (a, b) => a * b)));
        using var classifier = new OnnxClassifier(Fixture(file), input);
        using var scope = NewDisposeScope();
        var inputs = tensor(Matrix(expected.GetProperty("inputs")));

        var logits = classifier.forward(inputs.reshape(input.BatchShape(inputs.shape[0])));

        AssertClose(Matrix(expected.GetProperty("logits")), logits, 1e-5);
        Assert.False(logits.requires_grad);
        Assert.False(classifier.ProvidesInputGradients);
        Assert.Equal(file.Contains("batch1"), classifier.FixedBatchOfOne);
    }

    [Fact]
    public void Mean_and_std_are_applied_inside()
    {
        var expected = Expected("mnist-mlp-normalised");
        using var classifier = new OnnxClassifier(Fixture("mnist-mlp.onnx"), InputSpace.Mnist, [0.1307f], [0.3081f]);
        using var scope = NewDisposeScope();
        var inputs = tensor(Matrix(Expected("mnist-mlp").GetProperty("inputs")));

        AssertClose(Matrix(expected.GetProperty("logits")), classifier.forward(inputs), 1e-4);
    }

    [Fact]
    public void A_batch_gives_what_its_rows_give_one_by_one()
    {
        using var classifier = new OnnxClassifier(Fixture("mnist-mlp.onnx"), InputSpace.Mnist);
        using var rowByRow = new OnnxClassifier(Fixture("mnist-mlp-batch1.onnx"), InputSpace.Mnist);
        using var scope = NewDisposeScope();
        var inputs = rand(9, 784, generator: new Generator(5, CPU));

        var batched = classifier.forward(inputs);
        var single = cat(Enumerable.Range(0, 9).Select(row => classifier.forward(inputs.narrow(0, row, 1))).ToList(), 0);

        Assert.True(batched.allclose(single, rtol: 0, atol: 1e-5));
        Assert.True(batched.allclose(rowByRow.forward(inputs), rtol: 0, atol: 1e-5));
        Assert.Equal(new long[] { 0, 10 }, classifier.forward(zeros(0, 784)).shape);
    }

    [Fact]
    public void Bad_files_and_declarations_are_named()
    {
        string folder = Path.Combine(Path.GetTempPath(), "intriguing-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string missing = Path.Combine(folder, "missing.onnx");
            Assert.Contains("does not exist", Assert.Throws<BadInputException>(() => new OnnxClassifier(missing, InputSpace.Mnist)).Message);

            string corrupt = Path.Combine(folder, "corrupt.onnx");
            File.WriteAllText(corrupt, "this is not a protobuf");
            var notOnnx = Assert.Throws<BadInputException>(() => new OnnxClassifier(corrupt, InputSpace.Mnist));
            Assert.Contains("corrupt.onnx", notOnnx.Message);
            Assert.Contains("not a readable ONNX model", notOnnx.Message);

            var twoOutputs = Assert.Throws<BadInputException>(() => new OnnxClassifier(Fixture("two-outputs.onnx"), InputSpace.Mnist));
            Assert.Contains("2 outputs (logits, features)", twoOutputs.Message);

            var wrongShape = Assert.Throws<BadInputException>(() => new OnnxClassifier(Fixture("mnist-mlp.onnx"), InputSpace.Images(3, 8, 8, 10)));
            Assert.Contains("input 'input' has shape [?, 1, 28, 28]", wrongShape.Message);
            Assert.Contains("[N, 3, 8, 8]", wrongShape.Message);

            var wrongClasses = Assert.Throws<BadInputException>(() => new OnnxClassifier(Fixture("conv-3x8x8.onnx"), InputSpace.Images(3, 8, 8, 10)));
            Assert.Contains("output 'logits' has shape [?, 4]", wrongClasses.Message);
            Assert.Contains("10 classes", wrongClasses.Message);

            var badStd = Assert.Throws<BadInputException>(() => new OnnxClassifier(Fixture("conv-3x8x8.onnx"), InputSpace.Images(3, 8, 8, 4), [0.5f, 0.5f], [0.2f, 0.2f]));
            Assert.Contains("3 channels", badStd.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void NaN_logits_are_bad_input()
    {
        using var classifier = new OnnxClassifier(Fixture("mnist-mlp.onnx"), InputSpace.Mnist);
        using var scope = NewDisposeScope();
        var inputs = zeros(2, 784);
        inputs[1, 3] = tensor(float.NaN);

        var error = Assert.Throws<BadInputException>(() => classifier.forward(inputs));
        Assert.Contains("NaN logits (row 1", error.Message);
    }

    [Fact]
    public void Gradient_attacks_refuse_a_score_only_model_and_square_runs_on_it()
    {
        using var classifier = new OnnxClassifier(Fixture("mnist-mlp.onnx"), InputSpace.Mnist);
        using var scope = NewDisposeScope();
        var images = rand(6, 784, generator: new Generator(9, CPU));
        var labels = classifier.Predict(images);

        var error = Assert.Throws<BadInputException>(() => new Fgsm().Run(classifier, images, labels));
        Assert.Contains("model 'mnist-mlp' gives scores only", error.Message);
        Assert.Contains("'fgsm'", error.Message);
        Assert.Contains("noise, square", error.Message);
        Assert.Contains("transfer", error.Message);
        Assert.Throws<BadInputException>(() => new PgdLinf().Perturb(classifier, images, labels));

        var result = new SquareLinf { Epsilon = 0.3, Queries = 200 }.Run(classifier, images, labels);
        Assert.True(result.Summary.Verified);
        Assert.True(result.Summary.SuccessRate > 0.5, $"square fooled {result.Summary.SuccessRate} of the ONNX model's inputs");
        Assert.All(result.Examples.Where(example => example.Success), example => Assert.True(example.Linf <= 0.3 + 1e-6));
        Assert.True(new GaussianNoise { StandardDeviation = 0.1 }.Run(classifier, images, labels).Summary.Verified);
    }
}
