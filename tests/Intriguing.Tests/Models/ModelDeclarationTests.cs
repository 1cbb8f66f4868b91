using Intriguing.Models;

namespace Intriguing.Tests.Models;

/// <summary>Declarations of a foreign model's input: the file beside it, the options, which wins, and every bad value named.</summary>
public sealed class ModelDeclarationTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "intriguing-declaration-tests-" + Guid.NewGuid().ToString("N"));

    public ModelDeclarationTests()
    {
        Directory.CreateDirectory(folder);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Model(string name = "net.pt") => Path.Combine(folder, name);

    private string Write(string name, string json)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void The_stem_file_comes_before_the_folder_file_and_options_win_field_by_field()
    {
        Write("model.json", """{"inputShape":[1,28,28],"classes":10}""");
        string own = Write("net.json", """{"inputShape":[3,32,32],"classes":10,"mean":[0.5],"std":[0.2,0.3,0.4]}""");

        var fromFile = ModelDeclaration.Resolve(Model(), null);
        var shared = ModelDeclaration.Resolve(Model("other.pt"), null);
        var overridden = ModelDeclaration.Resolve(Model(), new DeclarationOptions(Classes: 100, Mean: [0.1f, 0.2f, 0.3f]));

        Assert.Equal(own, fromFile.Source);
        Assert.Equal(new long[] { 3, 32, 32 }, fromFile.InputShape);
        Assert.Equal(new[] { 0.5f }, fromFile.Mean);
        Assert.Equal(new long[] { 1, 28, 28 }, shared.InputShape);
        Assert.Null(shared.Mean);
        Assert.False(shared.Normalises);
        Assert.Equal(100, overridden.Classes);
        Assert.Equal(new[] { 0.1f, 0.2f, 0.3f }, overridden.Mean);
        Assert.Equal(new[] { 0.2f, 0.3f, 0.4f }, overridden.Std);
        Assert.Equal(new ModelDeclaration([3, 32, 32], 100, [0.1f, 0.2f, 0.3f], [0.2f, 0.3f, 0.4f]), overridden);
    }

    [Theory]
    [InlineData("""{"inputShape":[3,32,32],"classes":10,"mean":[0.5,0.5]}""", "mean has 2 values; expected 1 (for all channels) or 3")]
    [InlineData("""{"inputShape":[3,32,32],"classes":10,"std":[0.5,0,0.5]}""", "std holds 0; expected finite numbers > 0")]
    [InlineData("""{"inputShape":[3,32,32],"classes":10,"std":[-1]}""", "std holds -1")]
    [InlineData("""{"inputShape":[3,0,32],"classes":10}""", "inputShape must list at least one size, each >= 1")]
    [InlineData("""{"inputShape":[],"classes":10}""", "inputShape must list at least one size")]
    [InlineData("""{"inputShape":[1,28,28],"classes":1}""", "classes must be at least 2")]
    [InlineData("""{"inputShape":[1,28,28]}""", "missing \"inputShape\" or \"classes\"")]
    [InlineData("""{"inputShape":"1,28,28","classes":10}""", "\"inputShape\" must be a list of numbers")]
    [InlineData("""{"inputShape":[1,28,28],"classes":10.5}""", "\"classes\" must be a whole number")]
    [InlineData("""[1,28,28]""", "got a JSON array")]
    [InlineData("""{"inputShape":[1,28,28],""", "not valid JSON")]
    public void A_bad_declaration_file_is_refused_naming_the_file_and_what_was_expected(string json, string says)
    {
        string path = Write("model.json", json);

        var error = Assert.Throws<BadInputException>(() => ModelDeclaration.Resolve(Model(), null));

        Assert.Contains(path, error.Message);
        Assert.Contains(says, error.Message);
    }

    [Fact]
    public void Bad_option_values_are_refused_naming_the_option()
    {
        var shape = Assert.Throws<BadInputException>(() => ModelDeclaration.ParseShape("3,x,32", "--input-shape"));
        var negative = Assert.Throws<BadInputException>(() => ModelDeclaration.ParseShape("3,-1,32", "--input-shape"));
        var mean = Assert.Throws<BadInputException>(() => ModelDeclaration.ParseValues("0.5,abc", "--mean"));
        var nan = Assert.Throws<BadInputException>(() => ModelDeclaration.Resolve(Model(), new DeclarationOptions([3, 8, 8], 4, Std: [float.NaN])));
        var missing = Assert.Throws<BadInputException>(() => ModelDeclaration.Resolve(Model(), new DeclarationOptions(InputShape: [3, 8, 8])));

        Assert.Contains("--input-shape '3,x,32'", shape.Message);
        Assert.Contains("--input-shape '3,-1,32'", negative.Message);
        Assert.Contains("--mean '0.5,abc'", mean.Message);
        Assert.Contains("--std", nan.Message);
        Assert.Contains("NaN", nan.Message);
        Assert.Contains("--classes K", missing.Message);
        Assert.Equal(new[] { 0.5f, 0.25f }, ModelDeclaration.ParseValues("0.5, 0.25", "--mean"));
        Assert.Equal(new long[] { 3, 32, 32 }, ModelDeclaration.ParseShape("3,32,32", "--input-shape"));
    }
}
