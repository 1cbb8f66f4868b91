using System.Text.Json;
using System.Text.Json.Nodes;
using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

public class ModelExportTests
{
    /// <summary>tests/fixtures/&lt;name&gt;, found from the test binary's folder upwards (fixtures are not copied).</summary>
    internal static string Fixture(string name)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, "tests", "fixtures", name);
            if (Directory.Exists(candidate) || File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException($"tests/fixtures/{name} not found above {AppContext.BaseDirectory}");
    }

    [Theory]
    [InlineData("fc10-1e-2", "softmax")]
    [InlineData("fc100-100-10", "sigmoid-mlp")]
    [InlineData("ae400-10", "sparse-autoencoder")]
    [InlineData("conv", "convnet")]
    public void An_exported_model_imports_back_with_identical_logits_and_pytorch_names(string name, string kind)
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        using var trained = ModelStore.Train(name, data, Split.Train, seed: 0, epochs: 1);
        string folder = Path.Combine(home.Folder, "export", name);

        var exported = ModelExport.Export(trained, folder);
        using var imported = ModelExport.Import(exported.WeightsPath);
        using var scope = NewDisposeScope();

        var declaration = JsonNode.Parse(File.ReadAllText(exported.DeclarationPath))!.AsObject();
        Assert.Equal(name, declaration["architecture"]!.GetValue<string>());
        Assert.Equal(kind, declaration["kind"]!.GetValue<string>());
        Assert.Equal([1L, 28, 28], declaration["inputShape"]!.AsArray().Select(size => size!.GetValue<long>()));
        Assert.Equal(trained.Report.TestError, declaration["trainedOn"]!["testError"]!.GetValue<double>());
        var stored = SafeTensors.Read(exported.WeightsPath);
        Assert.Equal(trained.Model.state_dict().Keys.Order(), stored.Tensors.Keys.Order());
        Assert.Equal(exported.Sha256, stored.Sha256);
        Assert.True(imported.Model.forward(data.Test.Images).allclose(trained.Model.forward(data.Test.Images), rtol: 0, atol: 0));
        Assert.True(ModelExport.IsExport(exported.WeightsPath));
        Assert.False(ModelExport.IsExport(trained.Path));
    }

    [Fact]
    public void A_state_dict_saved_by_pytorch_loads_with_pytorchs_logits()
    {
        string folder = Fixture("pytorch-state-dict");
        using var imported = ModelExport.Import(Path.Combine(folder, "model.safetensors"));
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "expected.json")));
        using var scope = NewDisposeScope();
        float[][] inputs = expected.RootElement.GetProperty("inputs").Deserialize<float[][]>()!;
        float[][] logits = expected.RootElement.GetProperty("logits").Deserialize<float[][]>()!;

        var ours = imported.Model.forward(tensor(inputs.SelectMany(row => row).ToArray(), [inputs.Length, 784]));
        var theirs = tensor(logits.SelectMany(row => row).ToArray(), [logits.Length, 10]);

        Assert.Equal("fc10-1e-4", imported.Name);
        Assert.True(ours.allclose(theirs, rtol: 0, atol: 1e-5), $"largest difference {(ours - theirs).abs().max().item<float>()}");
    }

    [Fact]
    public void Import_names_the_file_and_what_is_wrong()
    {
        using var home = new TemporaryHome();
        string folder = Path.Combine(home.Folder, "user");
        Directory.CreateDirectory(folder);
        string weights = Path.Combine(folder, "model.safetensors");
        File.Copy(Path.Combine(Fixture("pytorch-state-dict"), "model.safetensors"), weights);
        string declaration = Path.Combine(folder, "model.json");

        var missing = Assert.Throws<BadInputException>(() => ModelExport.Import(weights));
        Assert.Contains("model.json", missing.Message);

        File.WriteAllText(declaration, """{"architecture": "resnet50"}""");
        Assert.Contains("unknown architecture 'resnet50'", Assert.Throws<BadInputException>(() => ModelExport.Import(weights)).Message);

        File.WriteAllText(declaration, """{"architecture": "fc100-100-10"}""");
        Assert.Contains("missing", Assert.Throws<BadInputException>(() => ModelExport.Import(weights)).Message);

        File.WriteAllText(declaration, """{"architecture": "fc10-1", "inputShape": [3, 32, 32]}""");
        Assert.Contains("[3, 32, 32]", Assert.Throws<BadInputException>(() => ModelExport.Import(weights)).Message);

        File.WriteAllText(declaration, """{"architecture": "fc10-1", "classes": "ten"}""");
        Assert.Contains("\"classes\"", Assert.Throws<BadInputException>(() => ModelExport.Import(weights)).Message);

        File.WriteAllText(declaration, "{not json");
        Assert.Contains("not valid JSON", Assert.Throws<BadInputException>(() => ModelExport.Import(weights)).Message);

        File.WriteAllText(declaration, """{"architecture": "fc10-1"}""");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..5000]);
        var truncated = Assert.Throws<BadInputException>(() => ModelExport.Import(weights));
        Assert.Contains(weights, truncated.Message);
    }
}
