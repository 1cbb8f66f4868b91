using static TorchSharp.torch;

namespace Intriguing.Data;

/// <summary>
/// Images with their labels: <see cref="Images"/> is float32 [N, 784] with pixels in [0,1] (28x28, row by row),
/// <see cref="Labels"/> is int64 [N] with classes 0..9. The tensors live outside any dispose scope; the owner
/// (usually an <see cref="ImageDataset"/>) disposes them.
/// </summary>
public sealed class LabeledImages : IDisposable
{
    public LabeledImages(Tensor images, Tensor labels)
    {
        if (images.dim() != 2 || labels.dim() != 1 || images.shape[0] != labels.shape[0])
        {
            throw new BadInputException(
                $"images must be [N, pixels] and labels [N]; got images [{string.Join(", ", images.shape)}] and labels [{string.Join(", ", labels.shape)}]");
        }
        Images = images;
        Labels = labels;
    }

    public Tensor Images { get; }

    public Tensor Labels { get; }

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
        return new LabeledImages(images, labels);
    }

    public void Dispose()
    {
        // A slice is a view: disposing its handles frees nothing the parent still uses.
        Images.Dispose();
        Labels.Dispose();
    }
}
