namespace Intriguing.Tests;

public class NativeMemoryTests
{
    /// <summary>glibc is the C library mapped into this process (on any distribution or architecture).</summary>
    private static bool RunsOnGlibc() =>
        OperatingSystem.IsLinux() && File.ReadLines("/proc/self/maps").Any(line => line.Contains("/libc.so.6", StringComparison.Ordinal));

    [Fact]
    public void KeepFreedMemoryTakesExactlyWhereGlibcIs()
    {
        Assert.Equal(RunsOnGlibc(), NativeMemory.KeepFreedMemory());
    }
}
