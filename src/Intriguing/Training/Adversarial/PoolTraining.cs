using System.Globalization;
using Intriguing.Attacks;
using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training.Adversarial;

/// <summary>
/// Settings of the paper's pool training (Section 4.3). <see cref="Layers"/>: 0 is the input, k >= 1 hidden layer
/// k - 1. Every <see cref="RefreshInterval"/> batches each pool gets fresh examples made from the batch's clean
/// images against the current weights, <see cref="ReplaceFraction"/> of its capacity at a time (a full batch at most
/// while it is filling). Every batch then trains on its clean images plus <see cref="MixRatio"/> times as many pool
/// samples, spread evenly over the pools. <see cref="Attack"/> makes the examples on the sub-network above the layer,
/// towards a random wrong class when <see cref="Targeted"/> (the paper's setting).
/// </summary>
public sealed record PoolTrainingOptions
{
    /// <summary>The layers with a pool: 0 is the input, k &gt;= 1 hidden layer k - 1 (default 0, 1, 2).</summary>
    public IReadOnlyList<int> Layers { get; init; } = [0, 1, 2];

    /// <summary>The most examples per pool (default 1000).</summary>
    public int Capacity { get; init; } = 1000;

    /// <summary>The share of a full pool replaced at each refresh, in (0, 1] (default 0.05).</summary>
    public double ReplaceFraction { get; init; } = 0.05;

    /// <summary>Batches between refreshes (default 10).</summary>
    public int RefreshInterval { get; init; } = 10;

    /// <summary>Pool samples per batch as a multiple of the batch size (default 0.1).</summary>
    public double MixRatio { get; init; } = 0.1;

    /// <summary>The attack that makes the pools' examples (default L-BFGS with 5 values of c, 20 iterations each).</summary>
    public Attack Attack { get; init; } = new BoxConstrainedLbfgs { SearchSteps = 5, MaxIterations = 20 };

    /// <summary>Make the examples towards a random wrong class (default true, the paper's setting).</summary>
    public bool Targeted { get; init; } = true;

    /// <summary>Refuses settings out of range, naming the option.</summary>
    /// <exception cref="BadInputException">Repeated or negative layers, or a number out of range.</exception>
    public void Validate()
    {
        if (Layers.Count == 0 || Layers.Distinct().Count() != Layers.Count || Layers.Any(layer => layer < 0))
        {
            throw new BadInputException($"--layers must list distinct layer indices >= 0 (0 = the input); got {string.Join(",", Layers)}");
        }
        if (Capacity < 1 || !(ReplaceFraction > 0 && ReplaceFraction <= 1) || RefreshInterval < 1 || !(MixRatio > 0) || !double.IsFinite(MixRatio))
        {
            throw new BadInputException(
                $"pool settings: need capacity >= 1, replace fraction in (0, 1], refresh interval >= 1 and a finite mix ratio > 0; got {Capacity}, {ReplaceFraction}, {RefreshInterval}, {MixRatio}");
        }
        Attack.Validate();
    }

    /// <summary>How many examples replace old ones at each refresh of a full pool.</summary>
    public int Quota => Math.Max(1, (int)Math.Round(ReplaceFraction * Capacity));

    /// <summary>The settings in one line, for cache keys.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"pool(layers={string.Join(",", Layers)}, capacity={Capacity}, replaceFraction={ReplaceFraction}, refreshInterval={RefreshInterval}, mixRatio={MixRatio}, targeted={Targeted}, attack={Attack.Describe()})");
}

/// <summary>What one refresh of one pool did: examples attacked, verified adversarial (they entered), rejected.</summary>
public sealed record PoolRefresh(int Layer, long Step, int Attacked, int Entered, int Rejected, int PoolCount);

/// <summary>
/// The paper's adversarial training with a pool per layer, as a <see cref="TrainingHook"/>. How a pool enters training:
/// <list type="number">
/// <item>Refresh (in <see cref="Prepare"/>, every <see cref="PoolTrainingOptions.RefreshInterval"/> batches): phi_k(x)
/// of the batch's clean images (the image itself for k = 0) is attacked on the sub-network above layer k
/// (<see cref="Classifier.AboveHidden"/>), inside the layer's box; each point is classified again by that
/// sub-network and enters the pool only if it is misclassified (verified adversarial), with its original label.</item>
/// <item>Mix (in <see cref="ExtraLoss"/>): each batch draws samples from every pool and adds their cross-entropy
/// through the sub-network above the pool's layer, so a hidden-layer pool trains only the layers above it. The clean
/// term's weight is lowered so the loss is the mean over the mixed batch.</item>
/// </list>
/// Random choices (which slots are replaced, which samples are drawn, the target classes) come from streams keyed on
/// (seed, step), and the pools are saved in checkpoints (<see cref="IStatefulHook"/>).
/// </summary>
public sealed class PoolTraining : TrainingHook, IStatefulHook, IDisposable
{
    private readonly PoolTrainingOptions options;
    private readonly int seed;
    private readonly List<AdversarialPool> pools = [];
    private readonly List<PoolRefresh> refreshes = [];
    private readonly Dictionary<int, Classifier> above = [];

    /// <summary>Pool training with <paramref name="options"/> (validated here) and <paramref name="seed"/> for every random choice.</summary>
    /// <exception cref="BadInputException">Settings out of range.</exception>
    public PoolTraining(PoolTrainingOptions options, int seed)
    {
        options.Validate();
        this.options = options;
        this.seed = seed;
    }

    /// <summary>One pool per layer, in the order of <see cref="PoolTrainingOptions.Layers"/> (empty until training starts).</summary>
    public IReadOnlyList<AdversarialPool> Pools => pools;

    /// <summary>Every refresh so far, in order (for tests and the report's counts).</summary>
    public IReadOnlyList<PoolRefresh> Refreshes => refreshes;

    /// <summary>Makes the pools once the model's layer widths are known; refuses a layer the model lacks.</summary>
    public override void Starting(Classifier model)
    {
        if (pools.Count > 0)
        {
            return;
        }
        foreach (int layer in options.Layers)
        {
            if (layer > model.HiddenLayerNames.Count)
            {
                throw new BadInputException(
                    $"--layers {layer}: model '{model.GetName()}' has layers 0 (input) to {model.HiddenLayerNames.Count} ({string.Join(", ", model.HiddenLayerNames.Select((name, index) => $"{index + 1} = {name}"))})");
            }
            if (layer > 0)
            {
                above[layer] = model.AboveHidden(layer - 1);
            }
            int units = layer == 0 ? model.Features : above[layer].Features;
            pools.Add(new AdversarialPool(layer, options.Capacity, units, model.Device));
        }
    }

    /// <summary>Refreshes the pools when it is time, and weights the clean loss by its share of the batch.</summary>
    public override TrainingBatch Prepare(Classifier model, TrainingBatch batch)
    {
        if (pools.Count == 0)
        {
            Starting(model);
        }
        if (batch.Step % options.RefreshInterval == 0)
        {
            for (int i = 0; i < pools.Count; i++)
            {
                Refresh(model, pools[i], batch, i);
            }
        }
        int batchSize = (int)batch.Inputs.shape[0];
        int poolSamples = PoolSamplesPerBatch(batchSize);
        return poolSamples == 0 ? batch : batch with { CleanWeight = (double)batchSize / (batchSize + poolSamples) };
    }

    /// <summary>The cross-entropy of the pool samples, through the sub-network above each pool's layer, weighted by their share.</summary>
    public override Tensor? ExtraLoss(Classifier model, TrainingBatch batch)
    {
        int batchSize = (int)batch.Inputs.shape[0];
        int total = batchSize + PoolSamplesPerBatch(batchSize);
        var filled = pools.Where(pool => pool.Count > 0).ToList();
        if (filled.Count == 0)
        {
            return null;
        }
        int perPool = Math.Max(1, (int)Math.Round(options.MixRatio * batchSize / filled.Count));
        Tensor? loss = null;
        foreach (var pool in filled)
        {
            var random = SeededStreams.For(seed, batch.Step, 1000 + pool.Layer);
            var (values, labels) = pool.Sample(perPool, random);
            var logits = pool.Layer == 0 ? model.forward(values) : model.ForwardFromHidden(pool.Layer - 1, values);
            // Summed cross-entropy over the pool's samples / the mixed batch's size: the mean over clean + pool examples.
            var term = nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum) / total;
            loss = loss is null ? term : loss + term;
        }
        return loss;
    }

    private int PoolSamplesPerBatch(int batchSize)
    {
        int filled = pools.Count(pool => pool.Count > 0);
        return filled == 0 ? 0 : filled * Math.Max(1, (int)Math.Round(options.MixRatio * batchSize / filled));
    }

    /// <summary>
    /// Attacks the batch's first n images at the pool's layer and lets the verified adversarial ones in: n fills the
    /// pool (a batch at most) while it is filling, then the replacement quota.
    /// </summary>
    private void Refresh(Classifier model, AdversarialPool pool, TrainingBatch batch, int poolIndex)
    {
        using var scope = NewDisposeScope();
        int batchSize = (int)batch.Inputs.shape[0];
        int wanted = pool.Count < pool.Capacity ? Math.Min(pool.Capacity - pool.Count, batchSize) : options.Quota;
        wanted = Math.Min(wanted, batchSize);
        if (wanted == 0)
        {
            return;
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var images = batch.Inputs.narrow(0, 0, wanted).reshape(wanted, model.Features);
            var labels = batch.Labels.narrow(0, 0, wanted);
            var random = SeededStreams.For(seed, batch.Step, poolIndex);
            Classifier target = pool.Layer == 0 ? model : above[pool.Layer];
            Tensor inputs;
            using (no_grad())
            {
                inputs = pool.Layer == 0 ? images.detach() : model.Activations(images)[pool.Layer - 1].detach();
            }
            var targets = options.Targeted ? Attacks.AttackTargets.RandomWrong(labels, random.Next(), model.ClassCount) : null;
            var attack = options.Attack.WithSeed(SeededStreams.Mix(seed, batch.Step, poolIndex));
            var adversarials = attack.Perturb(target, inputs, labels, targets, batch.FirstIndex).Adversarials.detach().reshape(wanted, pool.Units);
            Tensor misclassified;
            using (no_grad())
            {
                misclassified = target.forward(adversarials).argmax(1).ne(labels);
            }
            var entering = misclassified.nonzero().reshape(-1);
            int verified = (int)entering.shape[0];
            if (verified > 0)
            {
                pool.Insert(adversarials.index_select(0, entering), labels.index_select(0, entering), random);
            }
            refreshes.Add(new PoolRefresh(pool.Layer, batch.Step, wanted, verified, wanted - verified, pool.Count));
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(pools.Count);
        foreach (var pool in pools)
        {
            pool.Save(writer);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="BadInputException">A checkpoint with another number of pools.</exception>
    public void LoadState(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count != pools.Count)
        {
            throw new BadInputException($"checkpoint holds {count} pools; this run has {pools.Count}");
        }
        foreach (var pool in pools)
        {
            pool.Load(reader);
        }
    }

    /// <summary>Frees the pools.</summary>
    public void Dispose()
    {
        foreach (var pool in pools)
        {
            pool.Dispose();
        }
        pools.Clear();
        // The sub-networks share the model's parameters (the model owns them): dropped, not disposed.
        above.Clear();
    }
}
