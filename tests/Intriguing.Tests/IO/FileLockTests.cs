using Intriguing.IO;

namespace Intriguing.Tests.IO;

public class FileLockTests
{
    [Fact]
    public void A_held_lock_is_refused_to_a_second_holder_until_it_is_released()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string path = FileLock.PathFor(Path.Combine(folder, "model.safetensors"));
        Assert.Equal(Path.Combine(folder, ".model.safetensors.lock"), path);

        using (var first = FileLock.TryAcquire(path))
        {
            Assert.NotNull(first);
            Assert.False(first.Waited);
            Assert.Null(FileLock.TryAcquire(path));
        }
        using var again = FileLock.TryAcquire(path);
        Assert.NotNull(again);
        again.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_waiter_says_whom_it_waits_for_and_gets_the_lock_when_the_holder_lets_go()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string path = Path.Combine(folder, ".x.lock");
        var holder = FileLock.TryAcquire(path)!;
        var warnings = new List<string>();
        var release = new Thread(() =>
        {
            Thread.Sleep(300);
            holder.Dispose();
        });
        release.Start();

        using (var waiter = FileLock.Acquire(path, "training x", new Collect(warnings)))
        {
            Assert.True(waiter.Waited);
        }
        release.Join();

        var warning = Assert.Single(warnings);
        Assert.Contains(path, warning);
        Assert.Contains("training x", warning);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_lock_held_too_long_is_an_error_naming_the_file()
    {
        string folder = Data.IdxFiles.TemporaryFolder();
        string path = Path.Combine(folder, ".x.lock");
        using (FileLock.TryAcquire(path))
        {
            var error = Assert.Throws<IOException>(() => FileLock.Acquire(path, "fetching", timeout: TimeSpan.FromMilliseconds(250)));
            Assert.Contains(path, error.Message);
        }
        Directory.Delete(folder, recursive: true);
    }

    private sealed class Collect(List<string> messages) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value)
        {
            if (value.IsWarning)
            {
                messages.Add(value.Detail!);
            }
        }
    }
}
