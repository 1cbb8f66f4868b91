using static TorchSharp.torch;

namespace Intriguing.Data;

/// <summary>
/// A dataset of 28x28 grey images in memory: <see cref="Train"/> (60,000 for MNIST) and <see cref="Test"/> (10,000),
/// pixels scaled to [0,1]. <see cref="Get"/> also gives the paper's halves of the training set, P1 (first half) and
/// P2 (second half), as views that share memory with <see cref="Train"/>.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    private readonly LabeledImages firstHalf;
    private readonly LabeledImages secondHalf;

    public ImageDataset(string name, LabeledImages train, LabeledImages test)
    {
        Name = name;
        Train = train;
        Test = test;
        int half = train.Count / 2;
        firstHalf = train.Slice(0, half);
        secondHalf = train.Slice(half, train.Count - half);
    }

    public string Name { get; }

    /// <summary>The shape of one image, [channels, height, width]: [1, 28, 28] for MNIST and Fashion-MNIST.</summary>
    public long[] ImageShape { get; init; } = [1, 28, 28];

    public LabeledImages Train { get; }

    public LabeledImages Test { get; }

    /// <summary>Where the files came from and their checksums, when the set was loaded by <see cref="Load"/>.</summary>
    public FetchResult? Files { get; private init; }

    public LabeledImages Get(Split split) => split switch
    {
        Split.Train => Train,
        Split.Test => Test,
        Split.P1 => firstHalf,
        Split.P2 => secondHalf,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "unknown split"),
    };

    /// <summary>
    /// Fetches (or finds in <paramref name="dataDir"/> or the cache) and verifies the dataset's files, then reads them.
    /// A file on disk that is missing from <paramref name="dataDir"/> or fails its checks is handed to
    /// <paramref name="onProblem"/> before anything is fetched (see <see cref="DatasetFetcher"/>).
    /// </summary>
    public static ImageDataset Load(
        string dataset = "mnist",
        string? dataDir = null,
        IProgress<ProgressUpdate>? progress = null,
        FetchOptions? options = null,
        Action<FileProblem>? onProblem = null)
    {
        var spec = DatasetSpec.Named(dataset);
        // Without a handler of its own, the caller hears of a bad file as a warning on its progress sink.
        onProblem ??= problem => progress?.Report(ProgressUpdate.Warning($"data {dataset}", problem.ToString()));
        var fetched = DatasetFetcher.Fetch(spec, dataDir, progress, options, onProblem);
        string PathOf(DatasetFile file) => fetched.Files.Single(found => found.Name == file.Name).Path;
        var train = Read(PathOf(spec.TrainImages), PathOf(spec.TrainLabels));
        var test = Read(PathOf(spec.TestImages), PathOf(spec.TestLabels));
        return new ImageDataset(spec.Name, train, test) { Files = fetched };
    }

    /// <summary>Reads four IDX files (validated by <see cref="IdxReader"/>); train and test must agree in image size.</summary>
    public static ImageDataset FromFiles(string name, string trainImages, string trainLabels, string testImages, string testLabels)
    {
        var train = Read(trainImages, trainLabels);
        var test = Read(testImages, testLabels);
        return new ImageDataset(name, train, test);
    }

    private static LabeledImages Read(string imagesPath, string labelsPath)
    {
        var images = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != images.Count)
        {
            throw new BadInputException($"{labelsPath}: {labels.Length} labels for the {images.Count} images of {imagesPath}");
        }
        using var scope = NewDisposeScope();
        int pixels = images.Rows * images.Columns;
        var imageTensor = tensor(images.Pixels, [images.Count, pixels]).to(ScalarType.Float32).div_(255f);
        var labelTensor = tensor(labels, [labels.Length]).to(ScalarType.Int64);
        return new LabeledImages(imageTensor.DetachFromDisposeScope(), labelTensor.DetachFromDisposeScope());
    }

    public void Dispose()
    {
        firstHalf.Dispose();
        secondHalf.Dispose();
        Train.Dispose();
        Test.Dispose();
    }
}
