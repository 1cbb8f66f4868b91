using System.Runtime.InteropServices;
using TorchSharp;

namespace Intriguing.Models;

/// <summary>
/// Switches off libtorch's oneDNN (MKL-DNN) kernels, once per process, before any model runs. In the libtorch 2.10 that
/// TorchSharp 0.107 ships, oneDNN's float32 convolution backward returns wrong gradients with respect to the input:
/// on the zoo's <c>conv</c> and 64 MNIST test images, up to 0.084 off a largest gradient of 0.145 with one thread (58%),
/// and different again with two threads and batch sizes, while float64, PyTorch 1.13 and libtorch's own kernels agree
/// to 2.4e-7 (docs/engine.md). Attacks and adversarial training of convolutional models rest on those gradients.
/// TorchSharp has no switch for it, so this calls libtorch's <c>at::globalContext().setUserEnabledMkldnn(false)</c>
/// directly; where that symbol is missing (another libtorch build), nothing changes and <see cref="Applied"/> says so.
/// With oneDNN off, libtorch next tries NNPACK for every convolution, which cannot start on CPUs it does not support (this
/// machine's), printing "Could not initialize NNPACK" on each call (70,000 lines in one reproduction) before falling back:
/// NNPACK is switched off too, so the convolution goes straight to libtorch's own kernel.
/// </summary>
public static class OneDnnWorkaround
{
    private static readonly Lazy<bool> Once = new(Apply, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True once oneDNN is off in this process; false where libtorch offered no way to switch it off.</summary>
    public static bool Applied => Once.Value;

    /// <summary>Makes sure the workaround ran (cheap after the first call).</summary>
    public static void Ensure() => _ = Once.Value;

    /// <summary>Whether libtorch will use oneDNN kernels now (null where the symbol is missing).</summary>
    public static bool? Enabled()
    {
        try
        {
            return UserEnabledMkldnn(GlobalContext());
        }
        catch (Exception error) when (error is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Whether libtorch will try NNPACK for convolutions now (null where the symbol is missing).</summary>
    public static bool? NnpackEnabled()
    {
        try
        {
            return UserEnabledNnpack(GlobalContext());
        }
        catch (Exception error) when (error is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    private static bool Apply()
    {
        // Loads libtorch through TorchSharp first, so the library below is the one TorchSharp uses.
        torch.zeros(1).Dispose();
        try
        {
            SetUserEnabledMkldnn(GlobalContext(), false);
            SetUserEnabledNnpack(GlobalContext(), false);
            return UserEnabledMkldnn(GlobalContext()) == false;
        }
        catch (Exception error) when (error is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledNnpack(IntPtr context);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);
}
