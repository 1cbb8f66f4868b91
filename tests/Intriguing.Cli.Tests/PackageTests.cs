using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using Intriguing.Attacks.Figures;
using Xunit.Abstractions;

namespace Intriguing.Cli.Tests;

/// <summary>
/// The products as packages: the command line installed as a .NET tool runs from where it was installed, explains
/// itself, and loads its native libraries there (libtorch through a TorchScript model, ONNX Runtime, SkiaSharp; on
/// Debian 12 only with the GLIBCXX patch in the packed copy); the library's package carries its README, its XML
/// documentation, the build step that patches the native library for applications, and no licence. Packing and
/// installing take about a minute and a half on a 2-core machine (<see cref="PackedProducts"/>).
/// </summary>
public sealed class PackageTests : IClassFixture<PackedProducts>
{
    private readonly PackedProducts packed;
    private readonly ITestOutputHelper output;

    public PackageTests(PackedProducts packed, ITestOutputHelper output)
    {
        this.packed = packed;
        this.output = output;
        output.WriteLine($"pack Intriguing.Cli ({PackedProducts.Platform}) {packed.ToolPackSeconds:0.0} s, pack Intriguing {packed.LibraryPackSeconds:0.0} s, " +
            $"tool install {packed.InstallSeconds:0.0} s");
    }

    private ProcessRun Intriguing(params string[] arguments) =>
        Dotnet.RunProgram(packed.Command, packed.Root, TimeSpan.FromMinutes(2),
            new Dictionary<string, string> { [IntriguingHome.EnvironmentVariable] = Path.Combine(packed.Root, "home") }, arguments);

    [Fact]
    public void The_installed_tool_explains_itself()
    {
        var help = Intriguing("--help");
        Assert.True(help.ExitCode == 0, help.StandardError);
        Assert.Contains("Usage:", help.StandardOutput);
        Assert.Contains("intriguing [command] [options]", help.StandardOutput);
        foreach (string command in new[] { "attack", "evaluate", "transfer", "reproduce" })
        {
            Assert.Contains(command, help.StandardOutput);
        }

        var attackHelp = Intriguing("attack", "--help");
        Assert.True(attackHelp.ExitCode == 0, attackHelp.StandardError);
        Assert.Contains("intriguing attack [options]", attackHelp.StandardOutput);
        Assert.Contains("--method", attackHelp.StandardOutput);
        Assert.Contains("--eps", attackHelp.StandardOutput);
    }

    [Fact]
    public void The_installed_tool_attacks_a_torchscript_and_an_onnx_model_with_its_own_native_libraries()
    {
        string images = DigitFolder();
        string torchScript = Path.Combine(AppContext.BaseDirectory, "fixtures", "torchscript", "mnist-mlp", "model.pt");
        string onnx = Path.Combine(PackedProducts.Repository(), "tests", "fixtures", "onnx", "mnist-mlp.onnx");

        var fgsm = Intriguing("attack", "--model", torchScript, "--dataset", "folder:" + images, "--method", "fgsm", "--count", "10", "--json");
        Assert.True(fgsm.ExitCode == 0, fgsm.StandardError);
        var fgsmJson = JsonDocument.Parse(fgsm.StandardOutput).RootElement;
        Assert.Equal("fgsm", fgsmJson.GetProperty("method").GetString());
        Assert.Equal(10, fgsmJson.GetProperty("count").GetInt32());
        Assert.True(fgsmJson.GetProperty("verified").GetBoolean());

        var square = Intriguing("attack", "--model", onnx, "--input-shape", "1,28,28", "--classes", "10", "--dataset", "folder:" + images,
            "--method", "square", "--queries", "20", "--count", "10", "--json");
        Assert.True(square.ExitCode == 0, square.StandardError);
        var squareJson = JsonDocument.Parse(square.StandardOutput).RootElement;
        Assert.Equal("square", squareJson.GetProperty("method").GetString());
        Assert.True(squareJson.GetProperty("verified").GetBoolean());
    }

    [Fact]
    public void The_tool_is_a_small_package_naming_its_platform_and_one_package_with_that_platform_s_files()
    {
        string outer = packed.Package("Intriguing.Cli");
        string platform = packed.Package("Intriguing.Cli." + PackedProducts.Platform);
        using (var package = ZipFile.OpenRead(outer))
        {
            var nuspec = Nuspec(package);
            Assert.Equal("Intriguing.Cli", Metadata(nuspec, "id"));
            Assert.Contains(nuspec.Descendants().Where(element => element.Name.LocalName == "packageType"),
                type => (string?)type.Attribute("name") == "DotnetTool");
            Assert.NotNull(package.GetEntry("PACKAGE.md"));
            var settings = package.Entries.Single(entry => entry.Name == "DotnetToolSettings.xml");
            using var reader = new StreamReader(settings.Open());
            string text = reader.ReadToEnd();
            Assert.Contains("Name=\"intriguing\"", text);
            Assert.Contains(PackedProducts.Platform, text);
        }
        using (var package = ZipFile.OpenRead(platform))
        {
            string folder = $"tools/net10.0/{PackedProducts.Platform}/";
            Assert.NotNull(package.GetEntry(folder + "Intriguing.Cli.dll"));
            Assert.NotNull(package.GetEntry(folder + "Intriguing.dll"));
            Assert.Contains(package.Entries, entry => entry.FullName.StartsWith(folder, StringComparison.Ordinal) && entry.Name.Contains("LibTorchSharp", StringComparison.Ordinal));
            // Only this platform's native libraries: no runtimes/ folder of every other platform.
            Assert.DoesNotContain(package.Entries, entry => entry.FullName.Contains("/runtimes/win-", StringComparison.Ordinal)
                || entry.FullName.Contains("/runtimes/osx-", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_library_package_has_its_readme_xml_docs_dependencies_and_the_native_patch_but_no_licence()
    {
        using var package = ZipFile.OpenRead(packed.Package("Intriguing"));
        var nuspec = Nuspec(package);

        Assert.Equal("Intriguing", Metadata(nuspec, "id"));
        Assert.Equal("PACKAGE.md", Metadata(nuspec, "readme"));
        Assert.Contains("Intriguing properties of neural networks", Metadata(nuspec, "description"));
        Assert.Null(nuspec.Descendants().FirstOrDefault(element => element.Name.LocalName == "license"));
        Assert.Contains(nuspec.Descendants().Where(element => element.Name.LocalName == "dependency"),
            dependency => (string?)dependency.Attribute("id") == "TorchSharp-cpu");

        Assert.NotNull(package.GetEntry("PACKAGE.md"));
        Assert.NotNull(package.GetEntry("lib/net10.0/Intriguing.dll"));
        Assert.NotNull(package.GetEntry("buildTransitive/Intriguing.targets"));
        var docs = package.GetEntry("lib/net10.0/Intriguing.xml");
        Assert.NotNull(docs);
        using var stream = docs.Open();
        var members = XDocument.Load(stream).Descendants("member").Select(member => (string?)member.Attribute("name")).ToHashSet();
        Assert.Contains("T:Intriguing.Attacks.Attack", members);
        Assert.Contains("P:Intriguing.Attacks.Fgsm.Epsilon", members);
    }

    private static XDocument Nuspec(ZipArchive package)
    {
        var entry = package.Entries.Single(entry => entry.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = entry.Open();
        return XDocument.Load(stream);
    }

    private static string? Metadata(XDocument nuspec, string name) =>
        nuspec.Descendants().FirstOrDefault(element => element.Name.LocalName == name)?.Value;

    /// <summary>Ten classes of one random 28x28 grey PNG each: a folder dataset the MNIST-shaped fixture models take.</summary>
    private string DigitFolder()
    {
        string images = Path.Combine(packed.Root, "digits");
        var random = new Random(0);
        for (int digit = 0; digit < 10; digit++)
        {
            var pixels = new float[DigitPng.Side * DigitPng.Side];
            for (int i = 0; i < pixels.Length; i++)
            {
                pixels[i] = random.NextSingle();
            }
            string folder = Path.Combine(images, digit.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "image.png"), DigitPng.Encode(pixels));
        }
        return images;
    }
}
