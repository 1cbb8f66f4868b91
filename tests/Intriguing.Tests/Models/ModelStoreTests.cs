using Intriguing.Data;
using Intriguing.Models;
using static TorchSharp.torch;

namespace Intriguing.Tests.Models;

public class ModelStoreTests
{
    [Fact]
    public void Trained_model_is_saved_and_loads_back_with_identical_predictions_and_report()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        using var trained = ModelStore.Train("fc100-100-10", data, Split.P1, seed: 0, epochs: 2);
        using var loaded = ModelStore.Load(trained.Path);
        using var scope = NewDisposeScope();

        Assert.Equal(Path.Combine(home.Folder, "models", "fc100-100-10-p1-s0-e2-synthetic.safetensors"), trained.Path);
        Assert.True(File.Exists(trained.Path + ".json"));
        Assert.Equal(trained.Report, loaded.Report);
        Assert.Equal(("fc100-100-10", Split.P1, 0), (loaded.Name, loaded.Split, loaded.Seed));
        Assert.True(loaded.Model.forward(data.Test.Images).allclose(trained.Model.forward(data.Test.Images), rtol: 0, atol: 0));
        Assert.False(loaded.Model.training);
        Assert.All(loaded.Model.parameters(), parameter => Assert.False(parameter.requires_grad));
        Assert.Equal(2, loaded.Report.Epochs);
        Assert.Equal(Intriguing.Models.Evaluation.ErrorRate(loaded.Model, data.Get(Split.P2)), loaded.Report.P2Error);
    }

    [Fact]
    public void Get_or_train_trains_once_then_reuses_the_cache_and_quick_models_live_apart()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        using var first = ModelStore.GetOrTrain("fc10-1e-2", data, quick: true);
        DateTime written = File.GetLastWriteTimeUtc(first.Path);
        using var second = ModelStore.GetOrTrain("fc10-1e-2", data, quick: true);
        using var byPath = ModelStore.GetOrTrain(first.Path, data);

        Assert.EndsWith("fc10-1e-2-train-s0-quick-synthetic.safetensors", first.Path);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second.Path));
        Assert.Equal(first.Report, second.Report);
        Assert.Equal(first.Report, byPath.Report);
        Assert.True(first.Report.Quick);
        Assert.False(File.Exists(ModelStore.CachePath(ModelZoo.Get("fc10-1e-2"), Split.Train, 0, dataset: data.Name)));
    }

    [Fact]
    public void A_corrupt_cache_entry_is_trained_again_not_trusted()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        string path;
        using (var first = ModelStore.GetOrTrain("fc10-1", data, quick: true))
        {
            path = first.Path;
        }
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..100]);

        var warnings = new Warnings();
        using var again = ModelStore.GetOrTrain("fc10-1", data, quick: true, progress: warnings);
        Assert.Equal(path, again.Path);
        using var reloaded = ModelStore.Load(path);
        // The user is told which file could not be used and why, not left to wonder why training ran again.
        var warning = Assert.Single(warnings.Messages);
        Assert.Contains(path, warning);
        Assert.Contains("cannot be loaded", warning);
    }

    [Fact]
    public void A_model_cached_for_another_dataset_is_not_reused()
    {
        using var home = new TemporaryHome();
        using var first = SyntheticDigits.Dataset();
        using var other = new ImageDataset("synthetic-other", SyntheticDigits.Make(200, 7), SyntheticDigits.Make(60, 8));
        using var onFirst = ModelStore.GetOrTrain("fc10-1", first, quick: true);

        // Another dataset gets its own file, and a file claiming to be it but trained on the first is refused.
        string otherPath = ModelStore.CachePath(ModelZoo.Get("fc10-1"), Split.Train, 0, quick: true, dataset: other.Name);
        Assert.NotEqual(onFirst.Path, otherPath);
        File.Copy(onFirst.Path, otherPath);
        File.Copy(onFirst.Path + ".json", otherPath + ".json");
        var warnings = new Warnings();
        using var onOther = ModelStore.GetOrTrain("fc10-1", other, quick: true, progress: warnings);

        Assert.Equal("synthetic-other", onOther.Report.Dataset);
        Assert.Equal("synthetic", onFirst.Report.Dataset);
        Assert.Contains(warnings.Messages, message => message.Contains("another dataset"));
        using var reloaded = ModelStore.Load(otherPath);
        Assert.Equal("synthetic-other", reloaded.Report.Dataset);
    }

    [Fact]
    public void A_changed_weight_that_still_parses_is_caught_by_its_checksum_and_trained_again()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        string path;
        using (var first = ModelStore.GetOrTrain("fc10-1", data, quick: true))
        {
            path = first.Path;
        }
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^4] ^= 1; // the lowest mantissa bit of the last weight: still a finite float, still a valid file
        File.WriteAllBytes(path, bytes);
        Assert.All(SafeTensors.Read(path).Tensors.Values, tensor => Assert.All(tensor.Values, value => Assert.True(float.IsFinite(value))));

        var error = Assert.Throws<BadInputException>(() => ModelStore.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("SHA-256", error.Message);

        var warnings = new Warnings();
        using var again = ModelStore.GetOrTrain("fc10-1", data, quick: true, progress: warnings);
        var warning = Assert.Single(warnings.Messages);
        Assert.Contains(path, warning);
        Assert.Contains("SHA-256", warning);
        using var reloaded = ModelStore.Load(path);
        Assert.Equal(again.Report, reloaded.Report);
    }

    [Fact]
    public void A_sidecar_from_before_checksums_is_accepted_once_with_a_warning_and_verified_from_then_on()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        string path;
        using (var first = ModelStore.GetOrTrain("fc10-1", data, quick: true))
        {
            path = first.Path;
        }
        string sidecarPath = path + ModelStore.SidecarSuffix;
        var sidecar = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sidecarPath))!.AsObject();
        string recorded = sidecar["sha256"]!.GetValue<string>();
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), recorded);
        sidecar.Remove("sha256");
        File.WriteAllText(sidecarPath, sidecar.ToJsonString());
        DateTime trained = File.GetLastWriteTimeUtc(path);

        var byPath = new Warnings();
        ModelStore.Load(path, byPath).Dispose();
        Assert.Contains("no SHA-256", Assert.Single(byPath.Messages));

        var warnings = new Warnings();
        using (ModelStore.GetOrTrain("fc10-1", data, quick: true, progress: warnings))
        {
            var warning = Assert.Single(warnings.Messages);
            Assert.Contains(path, warning);
            Assert.Contains("recording its SHA-256", warning);
        }
        Assert.Equal(trained, File.GetLastWriteTimeUtc(path));
        Assert.Equal(recorded, System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sidecarPath))!["sha256"]!.GetValue<string>());

        var later = new Warnings();
        using (ModelStore.GetOrTrain("fc10-1", data, quick: true, progress: later))
        {
            Assert.Empty(later.Messages);
        }
    }

    [Fact]
    public void Two_threads_asking_for_one_model_train_it_once_and_the_second_loads_what_the_first_stored()
    {
        using var home = new TemporaryHome();
        var spec = ModelZoo.Get("fc10-1e-4");
        string path = ModelStore.CachePath(spec, Split.Train, 0, dataset: "synthetic");
        int trainings = 0;
        TrainedModel Train()
        {
            Interlocked.Increment(ref trainings);
            Thread.Sleep(300); // long enough for the other thread to find the lock held
            var model = new TrainedModel(spec.Name, Split.Train, 0, ModelFiles.CreateDetached(spec),
                new TrainingReport(0.1, 0.1, 0.1, 0.1, 1, 0.3, "recipe", Dataset: "synthetic"), path);
            ModelStore.Save(model);
            return model;
        }

        var results = new TrainedModel[2];
        var threads = Enumerable.Range(0, 2).Select(index => new Thread(() => results[index] = ModelStore.LoadOrTrain(path, "recipe", "synthetic", Train))).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());

        Assert.Equal(1, trainings);
        Assert.All(results, result => Assert.Equal(path, result.Path));
        foreach (var result in results)
        {
            result.Dispose();
        }
        Assert.Null(ModelStore.LoadIfCurrent(path, "another recipe", "synthetic"));
        using var current = ModelStore.LoadIfCurrent(path, "recipe", "synthetic");
        Assert.NotNull(current);
    }

    /// <summary>Collects the warnings a library call reports.</summary>
    private sealed class Warnings : IProgress<ProgressUpdate>
    {
        public List<string> Messages { get; } = [];

        public void Report(ProgressUpdate value)
        {
            if (value.IsWarning)
            {
                Messages.Add(value.Detail ?? value.Task);
            }
        }
    }

    [Fact]
    public void A_model_cached_by_an_older_recipe_is_trained_again()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        string path;
        string currentRecipe;
        using (var first = ModelStore.GetOrTrain("fc10-1", data, quick: true))
        {
            path = first.Path;
            currentRecipe = first.Report.Recipe;
        }
        string sidecarPath = path + ModelStore.SidecarSuffix;
        var sidecar = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sidecarPath))!.AsObject();
        string recipeKey = sidecar.Select(property => property.Key).Single(key => key.Equals("recipe", StringComparison.OrdinalIgnoreCase));
        sidecar[recipeKey] = "an older recipe";
        File.WriteAllText(sidecarPath, sidecar.ToJsonString());
        using (var stale = ModelStore.Load(path))
        {
            Assert.Equal("an older recipe", stale.Report.Recipe);
        }

        using var again = ModelStore.GetOrTrain("fc10-1", data, quick: true);

        Assert.Equal(currentRecipe, again.Report.Recipe);
        using var reloaded = ModelStore.Load(path);
        Assert.Equal(currentRecipe, reloaded.Report.Recipe);
    }

    [Fact]
    public void Wrong_shape_is_refused_naming_file_tensor_and_both_shapes()
    {
        var (home, path) = SavedSoftmax();
        using (home)
        {
            Rewrite(path, tensors => tensors.Select(t => t.Name == "output.weight" ? new StoredTensor(t.Name, [10, 392], t.Values[..3920]) : t));
            var error = Assert.Throws<BadInputException>(() => ModelStore.Load(path));
            Assert.Contains(path, error.Message);
            Assert.Contains("'output.weight'", error.Message);
            Assert.Contains("[10, 392]", error.Message);
            Assert.Contains("[10, 784]", error.Message);
        }
    }

    [Fact]
    public void Wrong_or_missing_tensor_name_is_refused()
    {
        var (home, path) = SavedSoftmax();
        using (home)
        {
            Rewrite(path, tensors => tensors.Select(t => t.Name == "output.bias" ? t with { Name = "output.offset" } : t));
            var error = Assert.Throws<BadInputException>(() => ModelStore.Load(path));
            Assert.Contains("'output.offset'", error.Message);

            Rewrite(path, tensors => tensors.Where(t => t.Name != "output.offset"));
            error = Assert.Throws<BadInputException>(() => ModelStore.Load(path));
            Assert.Contains("'output.bias' is missing", error.Message);
        }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Non_finite_weights_are_refused(float poison)
    {
        var (home, path) = SavedSoftmax();
        using (home)
        {
            Rewrite(path, tensors => tensors.Select(t =>
            {
                var values = (float[])t.Values.Clone();
                values[5] = poison;
                return t with { Values = values };
            }));
            var error = Assert.Throws<BadInputException>(() => ModelStore.Load(path));
            Assert.Contains("non-finite", error.Message);
            Assert.Contains(path, error.Message);
        }
    }

    [Fact]
    public void Truncated_header_and_missing_sidecar_are_refused()
    {
        var (home, path) = SavedSoftmax();
        using (home)
        {
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..20]);
            var error = Assert.Throws<BadInputException>(() => ModelStore.Load(path));
            Assert.Contains(path, error.Message);

            File.Delete(path + ".json");
            error = Assert.Throws<BadInputException>(() => ModelStore.Load(path));
            Assert.Contains("sidecar", error.Message);
        }
    }

    [Fact]
    public void A_sidecar_from_another_training_run_is_refused()
    {
        var (home, path) = SavedSoftmax();
        using (home)
        {
            var content = SafeTensors.Read(path);
            var metadata = content.Metadata.ToDictionary();
            metadata["trainingId"] = "someone-else";
            SafeTensors.Write(path, content.Tensors.Values, metadata);
            var error = Assert.Throws<BadInputException>(() => ModelStore.Load(path));
            Assert.Contains("training ids differ", error.Message);
        }
    }

    [Fact]
    public void Unknown_names_and_the_test_split_are_bad_input()
    {
        using var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        Assert.Contains("unknown model 'fc1'", Assert.Throws<BadInputException>(() => ModelStore.GetOrTrain("fc1", data)).Message);
        Assert.Throws<BadInputException>(() => ModelStore.Train("fc10-1", data, Split.Test));
        Assert.Throws<BadInputException>(() => ModelStore.Load(Path.Combine(home.Folder, "nothing.safetensors")));
    }

    private static (TemporaryHome Home, string Path) SavedSoftmax()
    {
        var home = new TemporaryHome();
        using var data = SyntheticDigits.Dataset();
        using var trained = ModelStore.Train("fc10-1e-4", data, Split.Train, seed: 1, epochs: 1);
        return (home, trained.Path);
    }

    /// <summary>
    /// Rewrites the weights file with changed tensors but the same metadata, and records the new file's SHA-256 in the
    /// sidecar (as a file made elsewhere would come), so only the change is wrong.
    /// </summary>
    private static void Rewrite(string path, Func<IEnumerable<StoredTensor>, IEnumerable<StoredTensor>> change)
    {
        var content = SafeTensors.Read(path);
        string sha256 = SafeTensors.Write(path, change(content.Tensors.Values).ToList(), content.Metadata);
        var sidecar = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path + ModelStore.SidecarSuffix))!.AsObject();
        sidecar["sha256"] = sha256;
        File.WriteAllText(path + ModelStore.SidecarSuffix, sidecar.ToJsonString());
    }
}
