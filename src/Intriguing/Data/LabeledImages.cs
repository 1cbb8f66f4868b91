using static TorchSharp.torch;

namespace Intriguing.Data;

/// <summary>
/// Images with their labels: <see cref="Images"/> is float32 [N, C*H*W] with pixels in [0,1] (channel by channel,
/// each row by row; [N, 784] for MNIST's 28x28 grey digits), <see cref="Labels"/> is int64 [N] with classes
/// 0..K-1. <see cref="ImageShape"/> is one image's [C, H, W]. The tensors live outside any dispose scope; the owner
/// (usually an <see cref="ImageDataset"/>) disposes them.
/// </summary>
public sealed class LabeledImages : IDisposable
{
    private static readonly long[] MnistShape = [1, 28, 28];

    /// <param name="imageShape">One image's [C, H, W]; default [1, 28, 28] when rows hold 784 values, else [D].</param>
    /// <param name="images">Float32 [N, D], pixels in [0,1]; this set owns it.</param>
    /// <param name="labels">Int64 [N], classes 0..K-1; this set owns it.</param>
    /// <exception cref="BadInputException">Tensors that are not [N, D] and [N], or a shape that does not hold D values.</exception>
    public LabeledImages(Tensor images, Tensor labels, IReadOnlyList<long>? imageShape = null)
    {
        if (images.dim() != 2 || labels.dim() != 1 || images.shape[0] != labels.shape[0])
        {
            throw new BadInputException(
                $"images must be [N, pixels] and labels [N]; got images [{string.Join(", ", images.shape)}] and labels [{string.Join(", ", labels.shape)}]");
        }
        long features = images.shape[1];
        long[] shape = imageShape is null ? (features == 784 ? MnistShape : [features]) : [.. imageShape];
        if (shape.Length == 0 || shape.Any(size => size < 1) || shape.Aggregate(1L, (product, size) => product * size) != features)
        {
            throw new BadInputException($"image shape [{string.Join(", ", shape)}] does not hold the {features} values of each image row");
        }
        Images = images;
        Labels = labels;
        ImageShape = shape;
    }

    /// <summary>Float32 [N, C*H*W], pixels in [0,1].</summary>
    public Tensor Images { get; }

    /// <summary>Int64 [N], classes 0..K-1.</summary>
    public Tensor Labels { get; }

    /// <summary>One image's shape, [C, H, W] (its values are the rows of <see cref="Images"/>).</summary>
    public IReadOnlyList<long> ImageShape { get; }

    /// <summary>The number of images, N.</summary>
    public int Count => (int)Images.shape[0];

    /// <summary>Images start..start+count as views that share memory with this set (no copy).</summary>
    public LabeledImages Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
        {
            throw new BadInputException($"cannot take images {start}..{start + count} of a set of {Count}");
        }
        var images = Images.narrow(0, start, count).DetachFromDisposeScope();
        var labels = Labels.narrow(0, start, count).DetachFromDisposeScope();
        return new LabeledImages(images, labels, ImageShape);
    }

    /// <summary>Frees both tensors (a slice's handles only: the parent's memory stays).</summary>
    public void Dispose()
    {
        // A slice is a view: disposing its handles frees nothing the parent still uses.
        Images.Dispose();
        Labels.Dispose();
    }
}
