namespace Intriguing.Sharding;

/// <summary>
/// What one shard's part says about itself, so parts can be checked against each other before they are merged: the
/// command and its full settings (every option that changes a number, shard excluded), which shard of how many, the
/// range of images it covered out of the run's total (and the batch its range is made of), the data, and the fingerprint of every model it used (the
/// SHA-256 of the model's file: parts computed on different weights are never merged).
/// </summary>
/// <param name="Command">The command that wrote the part ("evaluate", "attack").</param>
/// <param name="Settings">The command's settings, name to invariant value; equal across the parts of one run.</param>
/// <param name="Shard">"i/n".</param>
/// <param name="Total">Images in the whole run.</param>
/// <param name="Start">The first image this part covers, in the whole run.</param>
/// <param name="Length">How many images this part covers.</param>
/// <param name="Dataset">The data the images came from.</param>
/// <param name="Models">Model name to the SHA-256 of its file (hex).</param>
/// <param name="Product">The product's version that wrote the part.</param>
/// <param name="Units">
/// For a run split by named units of work rather than by images (<c>reproduce</c>: its studies and training jobs), the
/// units this part covered; null for a split by images. <see cref="Total"/> is then the run's number of units.
/// </param>
/// <param name="Block">
/// The batch the run's images are computed in, when shards own whole batches (<see cref="Sharding.Shard.Range(int, int)"/>);
/// 1 when they own single images (<see cref="Sharding.Shard.Range(int)"/>).
/// </param>
public sealed record ShardManifest(
    string Command,
    IReadOnlyDictionary<string, string> Settings,
    string Shard,
    int Total,
    int Start,
    int Length,
    string Dataset,
    IReadOnlyDictionary<string, string> Models,
    string Product,
    int Block = 1,
    IReadOnlyList<string>? Units = null)
{
    /// <summary>The shard, parsed.</summary>
    public Shard Part => Sharding.Shard.Parse(Shard, "manifest shard");
}
