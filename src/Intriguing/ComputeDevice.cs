using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing;

/// <summary>
/// Where models and tensors live: "cpu" (the default), or "cuda" / "cuda:N" where TorchSharp's CUDA package
/// (TorchSharp-cuda-linux or -windows) replaces TorchSharp-cpu. The attacks follow the device of the images they are
/// given; the L-BFGS optimiser keeps its per-image state on the CPU and runs only the network's passes on the device.
/// </summary>
public static class ComputeDevice
{
    /// <exception cref="BadInputException">An unknown device name, or CUDA when this build or machine has none.</exception>
    public static Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string trimmed = name.Trim().ToLowerInvariant();
        if (trimmed == "cpu")
        {
            return CPU;
        }
        if (trimmed != "cuda" && !trimmed.StartsWith("cuda:", StringComparison.Ordinal))
        {
            throw new BadInputException($"--device: expected cpu, cuda or cuda:N; got '{name}'");
        }
        if (!torch.cuda.is_available())
        {
            throw new BadInputException(
                $"--device {name}: CUDA is not available here (this build uses the CPU-only TorchSharp-cpu package, or " +
                "no CUDA device is visible); use --device cpu");
        }
        int index = 0;
        if (trimmed.Length > "cuda".Length && (!int.TryParse(trimmed["cuda:".Length..], out index) || index < 0
            || index >= torch.cuda.device_count()))
        {
            throw new BadInputException($"--device {name}: expected cuda:0..cuda:{torch.cuda.device_count() - 1}");
        }
        return torch.device(DeviceType.CUDA, index);
    }
}
