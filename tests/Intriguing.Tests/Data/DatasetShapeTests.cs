using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Data;

/// <summary>A dataset knows its image shape, class count and names, and says clearly when a model does not fit it.</summary>
public sealed class DatasetShapeTests
{
    private static ImageDataset Made(long[] shape, int classes, int trainCount = 4, int testCount = 2)
    {
        long features = shape.Aggregate(1L, (product, size) => product * size);
        LabeledImages Set(int count) => new(zeros(count, features).DetachFromDisposeScope(), zeros(count, dtype: ScalarType.Int64).DetachFromDisposeScope(), shape);
        var names = Enumerable.Range(0, classes).Select(index => $"class{index}").ToList();
        return new ImageDataset("made", Set(trainCount), Set(testCount), names, "folder:/data/made");
    }

    [Fact]
    public void Rows_of_784_values_are_28x28_grey_by_default_and_other_shapes_must_hold_the_row()
    {
        using var mnistLike = new LabeledImages(zeros(3, 784), zeros(3, dtype: ScalarType.Int64));
        Assert.Equal([1L, 28, 28], mnistLike.ImageShape);
        using var slice = mnistLike.Slice(1, 2);
        Assert.Equal([1L, 28, 28], slice.ImageShape);

        var error = Assert.Throws<BadInputException>(() => new LabeledImages(zeros(3, 12), zeros(3, dtype: ScalarType.Int64), [3, 2, 3]));
        Assert.Equal("image shape [3, 2, 3] does not hold the 12 values of each image row", error.Message);
    }

    [Fact]
    public void A_dataset_reports_its_shape_and_classes()
    {
        using var data = Made([3, 8, 8], classes: 5);

        Assert.Equal([3L, 8, 8], data.ImageShape);
        Assert.Equal(5, data.ClassCount);
        Assert.Equal("class4", data.ClassNames[4]);
        Assert.Equal("[3, 8, 8], 5 classes", data.Describe());
    }

    [Fact]
    public void A_fitting_model_passes_the_check_in_either_shape()
    {
        using var data = Made([1, 28, 28], classes: 10);

        data.CheckFits(InputSpace.Mnist, "fc10-1e-4");
        data.CheckFits(new InputSpace([784], 10, InputBox.Uniform(0, 1, 784)), "flat");
    }

    [Fact]
    public void A_model_of_another_shape_or_class_count_is_bad_input_naming_both()
    {
        using var colour = Made([3, 8, 8], classes: 10);
        var shape = Assert.Throws<BadInputException>(() => colour.CheckFits(InputSpace.Mnist, "fc10-1e-4"));
        Assert.Equal("model fc10-1e-4 takes [1, 28, 28] with 10 classes, but dataset folder:/data/made has images [3, 8, 8] with 10 classes " +
            "(--resize H,W resizes a dataset's images)", shape.Message);

        using var five = Made([1, 28, 28], classes: 5);
        var classes = Assert.Throws<BadInputException>(() => five.CheckFits(InputSpace.Mnist, "m.safetensors"));
        Assert.Equal("model m.safetensors takes [1, 28, 28] with 10 classes, but dataset folder:/data/made has images [1, 28, 28] with 5 classes", classes.Message);

        // Same number of values, different layout: [3, 16, 16] is not [1, 28, 28]... nor is [1, 48, 16] (768 values) but [12, 8, 8] is 768 too.
        using var sameCount = Made([12, 8, 8], classes: 10);
        Assert.Throws<BadInputException>(() => sameCount.CheckFits(InputSpace.Images(3, 16, 16, 10), "colour16"));
    }

    [Fact]
    public void A_test_only_dataset_says_training_needs_a_train_folder()
    {
        using var data = Made([1, 28, 28], classes: 10, trainCount: 0);

        Assert.False(data.HasTraining);
        var error = Assert.Throws<BadInputException>(() => data.RequireTraining("training zoo model fc10-1e-4"));
        Assert.StartsWith("training zoo model fc10-1e-4 needs training images, but folder:/data/made has none", error.Message);
        Assert.Equal(0, data.Get(Split.P2).Count);
    }

    [Fact]
    public void Train_and_test_of_different_shapes_are_refused()
    {
        using var scope = NewDisposeScope();
        var train = new LabeledImages(zeros(2, 12).DetachFromDisposeScope(), zeros(2, dtype: ScalarType.Int64).DetachFromDisposeScope(), [3, 2, 2]);
        var test = new LabeledImages(zeros(2, 12).DetachFromDisposeScope(), zeros(2, dtype: ScalarType.Int64).DetachFromDisposeScope(), [1, 3, 4]);

        var error = Assert.Throws<BadInputException>(() => new ImageDataset("x", train, test));

        Assert.Equal("x: training images are [3, 2, 2] but test images are [1, 3, 4]", error.Message);
    }

    [Fact]
    public void An_idx_dataset_can_be_resized_bilinearly()
    {
        string folder = IdxFiles.TemporaryFolder();
        try
        {
            var bytes = new Dictionary<string, byte[]>
            {
                ["train-images-idx3-ubyte"] = IdxFiles.Images(4, pixel: _ => 255),
                ["train-labels-idx1-ubyte"] = IdxFiles.Labels(4),
                ["t10k-images-idx3-ubyte"] = IdxFiles.Images(2, pixel: _ => 255),
                ["t10k-labels-idx1-ubyte"] = IdxFiles.Labels(2),
            };
            foreach (var (name, body) in bytes)
            {
                File.WriteAllBytes(Path.Combine(folder, name), body);
            }
            DatasetFile Describe(string name, DatasetFileKind kind, int count)
            {
                var (md5, sha256) = DatasetFetcher.Checksums(bytes[name]);
                return new DatasetFile(name, kind, count, md5, sha256);
            }
            var spec = new DatasetSpec("tiny", Describe("train-images-idx3-ubyte", DatasetFileKind.Images, 4), Describe("train-labels-idx1-ubyte", DatasetFileKind.Labels, 4),
                Describe("t10k-images-idx3-ubyte", DatasetFileKind.Images, 2), Describe("t10k-labels-idx1-ubyte", DatasetFileKind.Labels, 2), null, null, [], []);

            using var data = ImageDataset.Load(new DatasetChoice(spec, null, new ImageSize(14, 7)), options: new FetchOptions(AllowDownload: false, Cache: folder));

            Assert.Equal([1L, 14, 7], data.ImageShape);
            Assert.Equal([4L, 98], data.Train.Images.shape);
            Assert.Equal(1f, data.Test.Images.min().item<float>(), 5);
            Assert.Equal("tiny-r14x7", data.Name);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
