using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Intriguing.Data;

namespace Intriguing.Tests.Data;

public class IdxReaderTests
{
    [Fact]
    public void Reads_a_good_image_file()
    {
        var images = IdxReader.ParseImages(IdxFiles.Images(3), "good", expectedCount: 3);
        Assert.Equal(3, images.Count);
        Assert.Equal(3 * 784, images.Pixels.Length);
        Assert.Equal((byte)(16 * 7 % 256), images.Pixels[0]);
    }

    [Fact]
    public void Truncated_image_file_is_named_and_called_truncated()
    {
        byte[] file = IdxFiles.Images(3);
        var error = Assert.Throws<BadInputException>(() => IdxReader.ParseImages(file[..^5], "train-images-idx3-ubyte"));
        Assert.Contains("train-images-idx3-ubyte", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void File_shorter_than_its_header_is_refused()
    {
        var error = Assert.Throws<BadInputException>(() => IdxReader.ParseImages(new byte[10], "tiny"));
        Assert.Contains("too short", error.Message);
    }

    [Fact]
    public void Wrong_magic_number_is_refused_and_a_swapped_file_recognised()
    {
        var error = Assert.Throws<BadInputException>(() => IdxReader.ParseImages(IdxFiles.Labels(40), "t10k-images-idx3-ubyte"));
        Assert.Contains("magic number", error.Message);
        Assert.Contains("label file", error.Message);
        Assert.Throws<BadInputException>(() => IdxReader.ParseLabels(IdxFiles.Images(2), "labels"));
    }

    [Fact]
    public void Wrong_count_against_the_expected_one_is_refused()
    {
        var error = Assert.Throws<BadInputException>(() => IdxReader.ParseImages(IdxFiles.Images(3), "images", expectedCount: 60_000));
        Assert.Contains("expected 60000", error.Message);
    }

    [Fact]
    public void Header_count_that_disagrees_with_the_length_is_refused()
    {
        Assert.Throws<BadInputException>(() => IdxReader.ParseImages(IdxFiles.Images(3, headerCount: 4), "images"));
        var trailing = Assert.Throws<BadInputException>(() => IdxReader.ParseLabels(IdxFiles.Labels(new byte[] { 1, 2, 3 }, headerCount: 2), "labels"));
        Assert.Contains("trailing", trailing.Message);
    }

    [Fact]
    public void Wrong_image_size_is_refused()
    {
        var error = Assert.Throws<BadInputException>(() => IdxReader.ParseImages(IdxFiles.Images(2, rows: 32, columns: 32), "cifar"));
        Assert.Contains("32x32", error.Message);
    }

    [Fact]
    public void Label_outside_the_classes_is_refused_with_its_index()
    {
        var error = Assert.Throws<BadInputException>(() => IdxReader.ParseLabels(IdxFiles.Labels(new byte[] { 1, 2, 10, 3 }), "labels"));
        Assert.Contains("label 10 at index 2", error.Message);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var error = Assert.Throws<BadInputException>(() => IdxReader.ReadLabels("/nonexistent/labels-idx1-ubyte"));
        Assert.Contains("/nonexistent/labels-idx1-ubyte", error.Message);
    }

    [Property(MaxTest = 100)]
    public Property Labels_round_trip(byte[] raw)
    {
        byte[] labels = raw.Select(value => (byte)(value % 10)).ToArray();
        return (IdxReader.ParseLabels(IdxFiles.Labels(labels), "generated").SequenceEqual(labels)).ToProperty();
    }

    [Property(MaxTest = 50)]
    public Property Images_round_trip(PositiveInt count, int seed)
    {
        int n = count.Get % 20;
        var random = new Random(seed);
        var pixels = new byte[n * 784];
        random.NextBytes(pixels);
        var parsed = IdxReader.ParseImages(IdxFiles.Images(n, pixel: i => pixels[i]), "generated", expectedCount: n);
        return parsed.Pixels.SequenceEqual(pixels).ToProperty();
    }

    [Property(MaxTest = 100)]
    public Property Any_truncation_of_a_good_file_is_refused_never_misread(PositiveInt cut)
    {
        byte[] file = IdxFiles.Images(2);
        int keep = file.Length - 1 - cut.Get % (file.Length - 1);
        bool refused;
        try
        {
            IdxReader.ParseImages(file[..keep], "cut");
            refused = false;
        }
        catch (BadInputException)
        {
            refused = true;
        }
        return refused.ToProperty();
    }
}
