using FsCheck;
using FsCheck.Fluent;
using Intriguing.Sharding;

namespace Intriguing.Tests.Sharding;

public class ShardRangeTests
{
    [Fact]
    public void Every_image_belongs_to_exactly_one_shard_and_blocks_are_never_cut()
    {
        Prop.ForAll(Gen.Choose(0, 3000).ToArbitrary(), Gen.Choose(1, 12).ToArbitrary(), Gen.Choose(1, 600).ToArbitrary(), (total, count, block) =>
        {
            int next = 0;
            for (int index = 0; index < count; index++)
            {
                var (start, length) = new Shard(index, count).Range(total, block);
                if (start != next || length < 0 || (length > 0 && start % block != 0))
                {
                    return false;
                }
                next = start + length;
            }
            return next == total;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Blocks_are_shared_as_evenly_as_whole_blocks_allow()
    {
        // 31 images in batches of 8: blocks of 8, 8, 8 and 7; three shards take 1, 1 and 2 blocks.
        Assert.Equal((0, 8), new Shard(0, 3).Range(31, 8));
        Assert.Equal((8, 8), new Shard(1, 3).Range(31, 8));
        Assert.Equal((16, 15), new Shard(2, 3).Range(31, 8));
        // A block of one image is the image-by-image split.
        Assert.Equal(new Shard(1, 3).Range(31), new Shard(1, 3).Range(31, 1));
        Assert.Equal((10, 10), new Shard(1, 3).Range(31));
        // More shards than blocks leaves some shards none.
        Assert.Equal(0, new Shard(0, 3).Range(10, 8).Length);
    }
}
