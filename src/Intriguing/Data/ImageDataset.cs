using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Data;

/// <summary>
/// A dataset of images in memory: <see cref="Train"/> (60,000 for MNIST) and <see cref="Test"/> (10,000), pixels
/// scaled to [0,1], each image flattened to a row of <see cref="ImageShape"/> [C, H, W] values ([1, 28, 28] for MNIST
/// and Fashion-MNIST), with <see cref="ClassCount"/> classes named by <see cref="ClassNames"/>. <see cref="Get"/> also
/// gives the paper's halves of the training set, P1 (first half) and P2 (second half), as views that share memory
/// with <see cref="Train"/>. A folder of images without a train/ subfolder has an empty training set
/// (<see cref="HasTraining"/>); <see cref="RequireTraining"/> says so clearly to a command that needs one.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    private readonly LabeledImages firstHalf;
    private readonly LabeledImages secondHalf;

    /// <param name="name">A short name that can be part of a file name (cached models carry it).</param>
    /// <param name="classNames">The name of each class, by label; default the digits "0".."9".</param>
    /// <param name="origin">Where the images came from, for outputs; default <paramref name="name"/>.</param>
    /// <param name="train">The training images (may be empty: a test set only).</param>
    /// <param name="test">The test images; their shape is the dataset's.</param>
    /// <exception cref="BadInputException">Train and test shapes differ, or fewer than 2 classes.</exception>
    public ImageDataset(string name, LabeledImages train, LabeledImages test, IReadOnlyList<string>? classNames = null, string? origin = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (train.Count > 0 && !train.ImageShape.SequenceEqual(test.ImageShape))
        {
            throw new BadInputException(
                $"{origin ?? name}: training images are {ShapeText(train.ImageShape)} but test images are {ShapeText(test.ImageShape)}");
        }
        Name = name;
        Train = train;
        Test = test;
        ClassNames = classNames ?? DatasetSpec.Digits;
        if (ClassNames.Count < 2)
        {
            throw new BadInputException($"{origin ?? name}: a dataset needs at least 2 classes; got {ClassNames.Count}");
        }
        Origin = origin ?? name;
        int half = train.Count / 2;
        firstHalf = train.Slice(0, half);
        secondHalf = train.Slice(half, train.Count - half);
    }

    /// <summary>A short name fit for a file name: "mnist", "fashion-mnist", "folder-&lt;leaf&gt;-&lt;hash&gt;" (the models cached for it carry it).</summary>
    public string Name { get; }

    /// <summary>Where the images came from: the dataset's name, or "folder:/full/path" (plus any resize).</summary>
    public string Origin { get; }

    /// <summary>One image's [C, H, W] (a copy); rows of <see cref="LabeledImages.Images"/> hold C*H*W values.</summary>
    public long[] ImageShape => [.. Test.ImageShape];

    /// <summary>The class names by label (MNIST: "0".."9"; Fashion-MNIST: "T-shirt/top" … "Ankle boot").</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The number of classes, K.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>False for a folder of images with no train/ subfolder: it is a test set only.</summary>
    public bool HasTraining => Train.Count > 0;

    /// <summary>"[1, 28, 28], 10 classes".</summary>
    public string Describe() => $"{ShapeText(ImageShape)}, {ClassCount} classes";

    /// <summary>Throws unless the dataset has training images; <paramref name="purpose"/> says what needed them.</summary>
    /// <exception cref="BadInputException">The dataset has no training split.</exception>
    public void RequireTraining(string purpose)
    {
        if (!HasTraining)
        {
            throw new BadInputException(
                $"{purpose} needs training images, but {Origin} has none (a folder dataset has a training split only when it " +
                "holds train/ and test/ subfolders, each with one folder per class); give a trained model file with --model, or add a train/ folder");
        }
    }

    /// <summary>
    /// Throws unless a model taking <paramref name="input"/> can run on these images: the same number of values per
    /// image (shapes [C, H, W] and [C*H*W] both fit) and the same class count.
    /// </summary>
    /// <exception cref="BadInputException">A mismatch, naming the model and both shapes.</exception>
    public void CheckFits(InputSpace input, string model)
    {
        ArgumentNullException.ThrowIfNull(input);
        long features = ImageShape.Aggregate(1L, (product, size) => product * size);
        bool shapeFits = input.Features == features && (input.Shape.Length == 1 || input.Shape.SequenceEqual(ImageShape));
        if (!shapeFits || input.ClassCount != ClassCount)
        {
            throw new BadInputException(
                $"model {model} takes {ShapeText(input.Shape)} with {input.ClassCount} classes, but dataset {Origin} has images " +
                $"{ShapeText(ImageShape)} with {ClassCount} classes" +
                (shapeFits ? "" : " (--resize H,W resizes a dataset's images)"));
        }
    }

    private static string ShapeText(IEnumerable<long> shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>The training images (60,000 for MNIST; empty for a test-only folder).</summary>
    public LabeledImages Train { get; }

    /// <summary>The test images (10,000 for MNIST).</summary>
    public LabeledImages Test { get; }

    /// <summary>Where the files came from and their checksums, when the set was loaded by <c>Load</c>.</summary>
    public FetchResult? Files { get; private init; }

    /// <summary>The images of <paramref name="split"/>; P1 and P2 are views of <see cref="Train"/>'s halves.</summary>
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
        Action<FileProblem>? onProblem = null) =>
        Load(DatasetChoice.Parse(dataset), dataDir, progress, options, onProblem);

    /// <summary>
    /// Loads <paramref name="choice"/>: an IDX dataset as the other overload does (then resized, bilinear, when the
    /// choice asks), or a folder of labelled images (<see cref="ImageFolder.Load"/>; <paramref name="dataDir"/> and
    /// <paramref name="options"/> do not apply to it).
    /// </summary>
    public static ImageDataset Load(
        DatasetChoice choice,
        string? dataDir = null,
        IProgress<ProgressUpdate>? progress = null,
        FetchOptions? options = null,
        Action<FileProblem>? onProblem = null)
    {
        ArgumentNullException.ThrowIfNull(choice);
        if (choice.FolderPath is not null)
        {
            return ImageFolder.Load(choice.FolderPath, choice.Resize, progress);
        }
        var loaded = LoadIdx(choice.Spec!, dataDir, progress, options, onProblem);
        if (choice.Resize is not { } size || (size.Height == 28 && size.Width == 28))
        {
            return loaded;
        }
        using (loaded)
        {
            return new ImageDataset($"{loaded.Name}-r{size}", Resized(loaded.Train, size), Resized(loaded.Test, size), loaded.ClassNames, choice.Describe())
            {
                Files = loaded.Files,
            };
        }
    }

    /// <summary>A copy of <paramref name="set"/> with every image resized to <paramref name="size"/> (bilinear).</summary>
    private static LabeledImages Resized(LabeledImages set, ImageSize size)
    {
        using var scope = NewDisposeScope();
        long channels = set.ImageShape[0];
        var images = set.Images.view([set.Count, .. set.ImageShape]);
        var resized = set.Count == 0
            ? zeros(0, channels * size.Height * size.Width)
            : nn.functional.interpolate(images, [size.Height, size.Width], mode: InterpolationMode.Bilinear, align_corners: false)
                .clamp(0f, 1f).reshape(set.Count, -1);
        return new LabeledImages(resized.contiguous().DetachFromDisposeScope(), set.Labels.clone().DetachFromDisposeScope(), [channels, size.Height, size.Width]);
    }

    private static ImageDataset LoadIdx(
        DatasetSpec spec,
        string? dataDir,
        IProgress<ProgressUpdate>? progress,
        FetchOptions? options,
        Action<FileProblem>? onProblem)
    {
        string dataset = spec.Name;
        // Without a handler of its own, the caller hears of a bad file as a warning on its progress sink.
        onProblem ??= problem => progress?.Report(ProgressUpdate.Warning($"data {dataset}", problem.ToString()));
        var fetched = DatasetFetcher.Fetch(spec, dataDir, progress, options, onProblem);
        string PathOf(DatasetFile file) => fetched.Files.Single(found => found.Name == file.Name).Path;
        var train = Read(PathOf(spec.TrainImages), PathOf(spec.TrainLabels));
        var test = Read(PathOf(spec.TestImages), PathOf(spec.TestLabels));
        return new ImageDataset(spec.Name, train, test, spec.ClassNames) { Files = fetched };
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

    /// <summary>Frees the tensors of every split.</summary>
    public void Dispose()
    {
        firstHalf.Dispose();
        secondHalf.Dispose();
        Train.Dispose();
        Test.Dispose();
    }
}
