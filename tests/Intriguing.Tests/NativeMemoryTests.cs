namespace Intriguing.Tests;

public class NativeMemoryTests
{
    [Fact]
    public void KeepFreedMemoryTakesOnLinuxWithGlibc()
    {
        bool glibc = OperatingSystem.IsLinux() && File.Exists("/lib/x86_64-linux-gnu/libc.so.6");
        Assert.Equal(glibc, NativeMemory.KeepFreedMemory());
    }
}
