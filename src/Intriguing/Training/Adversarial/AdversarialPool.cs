using static TorchSharp.torch;

namespace Intriguing.Training.Adversarial;

/// <summary>
/// The pool of one layer (Szegedy et al., Section 4.3): at most <see cref="Capacity"/> perturbed activations
/// phi_k(x) + r of layer <see cref="Layer"/> (0 = the input, k >= 1 = hidden layer k - 1) with the original labels.
/// The storage is allocated once, so the pool never grows past its capacity; <see cref="Insert"/> fills free slots
/// first and then overwrites a random subset of the occupied ones, which is how the pool is "continuously replaced".
/// The tensors live outside every dispose scope; disposing the pool frees them.
/// </summary>
public sealed class AdversarialPool : IDisposable
{
    private readonly Tensor values;
    private readonly Tensor labels;

    /// <summary>
    /// An empty pool for <paramref name="layer"/> (0 = the input) of at most <paramref name="capacity"/> examples of
    /// <paramref name="units"/> values each, stored on <paramref name="device"/> (the CPU when null).
    /// </summary>
    /// <exception cref="BadInputException">A capacity or width below 1.</exception>
    public AdversarialPool(int layer, int capacity, int units, Device? device = null)
    {
        if (capacity < 1 || units < 1)
        {
            throw new BadInputException($"a pool needs a capacity and a width of at least 1; got {capacity} and {units}");
        }
        Layer = layer;
        Capacity = capacity;
        Units = units;
        values = zeros([capacity, units], device: device).DetachFromDisposeScope();
        labels = zeros([capacity], dtype: ScalarType.Int64, device: device).DetachFromDisposeScope();
    }

    /// <summary>0 for the input, k >= 1 for hidden layer k - 1.</summary>
    public int Layer { get; }

    /// <summary>The most examples the pool holds.</summary>
    public int Capacity { get; }

    /// <summary>Values per example: the layer's width (784 for the input).</summary>
    public int Units { get; }

    /// <summary>How many slots hold an example (never more than <see cref="Capacity"/>).</summary>
    public int Count { get; private set; }

    /// <summary>Examples that entered the pool since it was made (added or replacing an older one).</summary>
    public long Entered { get; private set; }

    /// <summary>Of those, how many overwrote an older example.</summary>
    public long Replaced { get; private set; }

    /// <summary>The stored activations, float [Count, Units] (a view; do not keep it past the next insert).</summary>
    public Tensor Values => values.narrow(0, 0, Count);

    /// <summary>The stored labels, int64 [Count] (a view).</summary>
    public Tensor Labels => labels.narrow(0, 0, Count);

    /// <summary>
    /// Puts <paramref name="examples"/> (float [n, Units]) with <paramref name="exampleLabels"/> into the pool: free slots
    /// first, then a random subset of the occupied slots (drawn without repetition from <paramref name="random"/>).
    /// At most <see cref="Capacity"/> of them enter; returns how many did.
    /// </summary>
    public int Insert(Tensor examples, Tensor exampleLabels, Random random)
    {
        int count = (int)Math.Min(examples.shape[0], Capacity);
        if (count == 0)
        {
            return 0;
        }
        int free = Capacity - Count;
        var slots = new long[count];
        int added = Math.Min(free, count);
        for (int i = 0; i < added; i++)
        {
            slots[i] = Count + i;
        }
        int replacing = count - added;
        if (replacing > 0)
        {
            // A partial Fisher-Yates over the occupied slots: a uniform random subset of the old examples.
            var occupied = Enumerable.Range(0, Count + added).Select(slot => (long)slot).ToArray();
            for (int i = 0; i < replacing; i++)
            {
                int j = i + random.Next(Count - i);
                (occupied[i], occupied[j]) = (occupied[j], occupied[i]);
                slots[added + i] = occupied[i];
            }
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var index = tensor(slots).to(values.device);
        values.index_copy_(0, index, examples.narrow(0, 0, count).detach().to(values.device).to_type(ScalarType.Float32));
        labels.index_copy_(0, index, exampleLabels.narrow(0, 0, count).to(labels.device).to_type(ScalarType.Int64));
        Count += added;
        Entered += count;
        Replaced += replacing;
        return count;
    }

    /// <summary><paramref name="count"/> examples drawn uniformly (with repetition) from the pool, in the caller's scope.</summary>
    public (Tensor Values, Tensor Labels) Sample(int count, Random random)
    {
        if (Count == 0 || count < 1)
        {
            throw new InvalidOperationException($"cannot draw {count} examples from a pool holding {Count}");
        }
        var picks = new long[count];
        for (int i = 0; i < count; i++)
        {
            picks[i] = random.Next(Count);
        }
        var index = tensor(picks).to(values.device);
        return (values.index_select(0, index), labels.index_select(0, index));
    }

    /// <summary>The pool's content for a checkpoint: count, counters, then the occupied values and labels.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(Layer);
        writer.Write(Capacity);
        writer.Write(Units);
        writer.Write(Count);
        writer.Write(Entered);
        writer.Write(Replaced);
        using var scope = NewDisposeScope();
        foreach (float value in Values.cpu().contiguous().data<float>())
        {
            writer.Write(value);
        }
        foreach (long label in Labels.cpu().contiguous().data<long>())
        {
            writer.Write(label);
        }
    }

    /// <summary>Restores what <see cref="Save"/> wrote; the pool must have the same layer, capacity and width.</summary>
    public void Load(BinaryReader reader)
    {
        int layer = reader.ReadInt32(), capacity = reader.ReadInt32(), units = reader.ReadInt32();
        if (layer != Layer || capacity != Capacity || units != Units)
        {
            throw new BadInputException($"checkpoint holds a pool for layer {layer} ({capacity} x {units}); expected layer {Layer} ({Capacity} x {Units})");
        }
        int count = reader.ReadInt32();
        long entered = reader.ReadInt64(), replaced = reader.ReadInt64();
        var stored = new float[(long)count * Units];
        for (long i = 0; i < stored.LongLength; i++)
        {
            stored[i] = reader.ReadSingle();
        }
        var storedLabels = new long[count];
        for (int i = 0; i < count; i++)
        {
            storedLabels[i] = reader.ReadInt64();
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (count > 0)
        {
            values.narrow(0, 0, count).copy_(tensor(stored, [count, Units]));
            labels.narrow(0, 0, count).copy_(tensor(storedLabels));
        }
        Count = count;
        Entered = entered;
        Replaced = replaced;
    }

    /// <summary>Frees the pool's storage.</summary>
    public void Dispose()
    {
        values.Dispose();
        labels.Dispose();
    }
}
