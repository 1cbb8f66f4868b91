using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Intriguing.Benchmarks;

public static class Program
{
    /// <summary>
    /// Runs in-process: a separately generated benchmark project would miss the build's libtorch patch for this
    /// platform (Directory.Build.targets), so TorchSharp's native library would not load there.
    /// </summary>
    public static void Main(string[] args)
    {
        // The same allocator settings as the command line (see NativeMemory.KeepFreedMemory).
        NativeMemory.KeepFreedMemory();
        // L-BFGS over a batch takes seconds per call: allow each in-process invocation up to ten minutes.
        var job = Job.ShortRun.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(10), logOutput: true));
        var config = DefaultConfig.Instance.AddJob(job).WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
