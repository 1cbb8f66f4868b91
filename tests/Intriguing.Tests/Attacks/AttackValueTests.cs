using Intriguing.Attacks;
using static TorchSharp.torch;

namespace Intriguing.Tests.Attacks;

/// <summary>
/// Attacks as values (settings that print, compare and hash), the batch API against the verified workflow, and results
/// that do not depend on the batch size.
/// </summary>
public class AttackValueTests
{
    public AttackValueTests() => TorchThreads.UseOne();

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Settings_compare_hash_and_print_by_value()
    {
        var a = new BoxConstrainedLbfgs { MaxIterations = 20 };
        var b = new BoxConstrainedLbfgs { MaxIterations = 20 };
        var c = new BoxConstrainedLbfgs { MaxIterations = 21 };

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
        Assert.Equal(a.Describe(), a.ToString());
        Assert.Contains("maxIterations=20", a.Describe());
        Assert.StartsWith("lbfgs(", a.Describe());
        Assert.NotEqual(new PgdLinf() as Attack, new PgdL2());
        Assert.Contains("epsilon=0.3", new PgdLinf().Describe());
        Assert.Equal(2, new HashSet<Attack> { a, b, c }.Count);
    }

    [Fact]
    public void The_catalog_gives_values_and_refuses_options_a_method_does_not_have()
    {
        Assert.Equal(new Fgsm { Epsilon = 0.1 }, AttackCatalog.Create("fgsm", epsilon: 0.1));
        Assert.Equal(new PgdLinf { Seed = 4 }, AttackCatalog.Create("pgd", seed: 4));
        Assert.Equal(new GaussianNoise { StandardDeviation = 0.3, Seed = 2 }, AttackCatalog.Create("noise", stddev: 0.3, seed: 2));
        foreach (var method in new[] { "lbfgs", "cw", "deepfool" })
        {
            var error = Assert.Throws<BadInputException>(() => AttackCatalog.Create(method, epsilon: 0.1));
            Assert.Contains("--eps", error.Message);
        }
        Assert.Contains("--stddev", Assert.Throws<BadInputException>(() => AttackCatalog.Create("fgsm", stddev: 0.1)).Message);
        Assert.Contains("--method", Assert.Throws<BadInputException>(() => AttackCatalog.Create("bogus")).Message);
    }

    [Fact]
    public void A_bad_setting_is_refused_before_anything_runs()
    {
        using var scope = NewDisposeScope();
        var model = LinearClassifier.Random(seed: 1);
        var (images, labels) = SyntheticData.Images(2, seed: 1);
        Assert.Contains("steps", Assert.Throws<BadInputException>(() => new PgdLinf { Steps = 0 }.Perturb(model, images, labels)).Message);
        Assert.Contains("eps", Assert.Throws<BadInputException>(() => new Fgsm { Epsilon = double.NaN }.Run(model, images, labels)).Message);
    }

    public static TheoryData<string> RandomMethods() => ["pgd", "pgd-l2", "noise"];

    [Theory]
    [MemberData(nameof(RandomMethods))]
    public void Random_attacks_give_the_same_points_for_batch_sizes_1_7_and_all(string method)
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(15, seed: 21);
        var attack = AttackCatalog.Create(method, seed: 5) switch
        {
            Pgd pgd => pgd with { Steps = 5 },
            var other => other,
        };

        var all = attack.Run(model, images, labels, batchSize: 15).Adversarials;
        var sevens = attack.Run(model, images, labels, batchSize: 7).Adversarials;
        var ones = attack.Run(model, images, labels, batchSize: 1).Adversarials;

        if (method == "pgd-l2")
        {
            // Its step follows the gradient's direction, not only its signs, so the last-bit differences of a matrix
            // product over 1, 7 or 15 rows (libtorch blocks them differently) show; the random start is the same.
            Assert.True(all.allclose(sevens, rtol: 0, atol: 1e-5), "batch size 7 changed the result");
            Assert.True(all.allclose(ones, rtol: 0, atol: 1e-5), "batch size 1 changed the result");
        }
        else
        {
            Assert.True(Same(all, sevens), "batch size 7 changed the result");
            Assert.True(Same(all, ones), "batch size 1 changed the result");
        }
        var otherSeed = attack.WithSeed(6).Run(model, images, labels, batchSize: 15).Adversarials;
        Assert.False(Same(all, otherSeed), "the seed changed nothing");
    }

    public static TheoryData<string> AllMethods() => [.. AttackCatalog.Methods];

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void The_batch_api_and_run_give_the_same_points(string method)
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(8, seed: 22);
        var attack = AttackCatalog.Create(method, seed: 7) switch
        {
            CarliniWagnerL2 cw => cw with { BinarySearchSteps = 3, Steps = 30 },
            var other => other,
        };

        var run = attack.Run(model, images, labels, batchSize: 8);
        var batch = attack.Perturb(model, images, labels, firstIndex: 0);

        Assert.True(Same(run.Adversarials, batch.Adversarials), $"{method}: Run and Perturb differ");
        Assert.Equal(run.Examples.Select(example => example.GradientEvaluations), batch.GradientEvaluations.data<long>().ToArray());
    }

    [Fact]
    public void Results_do_not_depend_on_what_the_process_did_before()
    {
        // L-BFGS and C&W once kept their candidates in pooled managed arrays, whose addresses (and so the code path the
        // matrix products took) depended on earlier allocations: a model trained in the same process gave other last bits.
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(40, seed: 24);
        var targets = AttackTargets.RandomWrong(labels, seed: 1);
        var lbfgs = new BoxConstrainedLbfgs { SearchSteps = 4 };
        var cw = new CarliniWagnerL2 { BinarySearchSteps = 2, Steps = 20 };
        var first = (lbfgs.Run(model, images, labels, targets).Adversarials, cw.Run(model, images, labels).Adversarials);

        var held = Enumerable.Range(1, 9).Select(size => System.Buffers.ArrayPool<float>.Shared.Rent(40 * 784 + size * 17)).ToList();
        var second = (lbfgs.Run(model, images, labels, targets).Adversarials, cw.Run(model, images, labels).Adversarials);
        held.ForEach(array => System.Buffers.ArrayPool<float>.Shared.Return(array));

        Assert.True(Same(first.Item1, second.Item1), "L-BFGS changed with the allocator's state");
        Assert.True(Same(first.Item2, second.Item2), "C&W changed with the allocator's state");
    }

    [Fact]
    public void The_batch_api_keys_random_streams_on_the_row_index()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(6, seed: 23);
        var noise = new GaussianNoise { StandardDeviation = 0.2, Seed = 1 };

        var whole = noise.Perturb(model, images, labels, firstIndex: 0).Adversarials;
        var secondHalf = noise.Perturb(model, images.narrow(0, 3, 3), labels.narrow(0, 3, 3), firstIndex: 3).Adversarials;

        Assert.True(Same(whole.narrow(0, 3, 3), secondHalf));
    }

    [Fact]
    public void A_pgd_restart_runs_only_on_the_images_no_earlier_run_fooled()
    {
        using var scope = NewDisposeScope();
        var model = SyntheticData.Mlp;
        var (images, labels) = SyntheticData.Images(40, seed: 25);
        var once = new PgdLinf { Epsilon = 0.15, StepSize = 0.03, Steps = 5, Seed = 2 };
        var thrice = once with { Restarts = 3 };

        var first = once.Perturb(model, images, labels, firstIndex: 0);
        var all = thrice.Perturb(model, images, labels, firstIndex: 0);
        var firstFooled = first.ClaimedSuccess!.data<bool>().ToArray();
        var allFooled = all.ClaimedSuccess!.data<bool>().ToArray();
        var spent = all.GradientEvaluations.data<long>().ToArray();

        Assert.Contains(false, firstFooled);
        Assert.Contains(true, firstFooled);
        for (int row = 0; row < firstFooled.Length; row++)
        {
            // The first run is the single run itself; an image it fooled keeps that point and costs no more passes.
            Assert.True(!firstFooled[row] || allFooled[row], $"row {row}: restarts lost a success");
            Assert.True(firstFooled[row] ? spent[row] == 5 : spent[row] is 10 or 15, $"row {row} spent {spent[row]} passes");
        }
        Assert.True(Same(first.Adversarials.index_select(0, first.ClaimedSuccess!.nonzero().squeeze(1)),
            all.Adversarials.index_select(0, first.ClaimedSuccess!.nonzero().squeeze(1))), "a first-run success was replaced");

        // A row's outcome does not depend on which rows share its batch.
        var secondHalf = thrice.Perturb(model, images.narrow(0, 20, 20), labels.narrow(0, 20, 20), firstIndex: 20);
        Assert.True(Same(all.Adversarials.narrow(0, 20, 20), secondHalf.Adversarials), "the batch changed a restarted row");
    }
}
