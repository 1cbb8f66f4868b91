using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Models;

/// <summary>
/// A PyTorch model saved as TorchScript (<c>torch.jit.save</c>), run by libtorch. Its input is what a
/// <see cref="ModelDeclaration"/> says: the wrapper takes float32 [N, D] or [N, ...shape] in [0,1], reshapes it to
/// [N, ...shape], applies the declared normalisation <c>(x - mean) / std</c> and calls the script module, so attacks,
/// their box and their distortions stay in pixel space while gradients flow through the normalisation into the input.
/// The module must return one float32 logits tensor [N, classes]; anything else (a dict, a tuple, a list, another
/// shape or dtype) is refused, naming the file and what it returned. The weights are frozen (eval mode, no gradients).
/// The product cannot see inside the script: <see cref="Classifier.HiddenLayerNames"/> and <see cref="Classifier.Layers"/>
/// are empty, so the layer-based analyses (units, spectral, adversarial training) do not apply to it.
/// </summary>
public sealed class TorchScriptClassifier : Classifier
{
    private readonly jit.ScriptModule script;
    private readonly Tensor? mean;
    private readonly Tensor? std;
    private readonly Device device;

    private TorchScriptClassifier(string name, string path, jit.ScriptModule script, ModelDeclaration declaration, Device device)
        : base(name, declaration.Input())
    {
        this.script = script;
        this.device = device;
        Path = path;
        Declaration = declaration;
        mean = PerChannel(declaration.Mean, declaration.InputShape.Length, device);
        std = PerChannel(declaration.Std, declaration.InputShape.Length, device);
    }

    /// <summary>The TorchScript file the model was loaded from.</summary>
    public string Path { get; }

    /// <summary>The declared input, classes and normalisation.</summary>
    public ModelDeclaration Declaration { get; }

    /// <summary>Where the script module was loaded.</summary>
    public override Device Device => device;

    /// <summary>
    /// Loads the TorchScript archive at <paramref name="path"/> onto <paramref name="device"/> (the CPU when null), freezes it,
    /// and checks it once on a batch of two blank inputs of the declared shape, so a model that does not fit its
    /// declaration is refused here, with the file named, rather than in the middle of an attack.
    /// </summary>
    /// <exception cref="BadInputException">A missing file, a file that is not a TorchScript archive (a pickled
    /// <c>torch.save</c> checkpoint, a damaged or truncated archive), or a model whose output on the declared input is not
    /// float32 logits [N, classes]; the message names the file and says what was expected.</exception>
    public static TorchScriptClassifier Load(string path, ModelDeclaration declaration, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(declaration);
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new BadInputException($"{fullPath}: model file not found");
        }
        device ??= CPU;
        jit.ScriptModule script;
        try
        {
            script = jit.load(fullPath, device);
        }
        catch (Exception error) when (error is ExternalException or InvalidOperationException or IOException or ArgumentException)
        {
            throw new BadInputException($"{fullPath}: {Diagnose(fullPath, error)}", error);
        }
        TorchScriptClassifier? model = null;
        try
        {
            script.eval();
            foreach (var parameter in script.parameters())
            {
                parameter.requires_grad = false;
            }
            model = new TorchScriptClassifier(DisplayName(fullPath), fullPath, script, declaration, device);
            model.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            model.forward(zeros(declaration.Input().BatchShape(2), device: device));
            return model;
        }
        catch
        {
            if (model is null)
            {
                script.Dispose();
            }
            else
            {
                model.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// Logits [N, classes] of inputs float32 [N, D] or [N, ...shape] in pixel space: reshaped, normalised as declared, run
    /// through the script module, and checked.
    /// </summary>
    /// <exception cref="BadInputException">Inputs of the wrong shape or dtype; a model that fails on them or returns anything but float32 [N, classes].</exception>
    public override Tensor forward(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        var flat = Flatten(inputs);
        long rows = flat.shape[0];
        var shaped = flat.reshape(Input.BatchShape(rows));
        if (mean is not null)
        {
            shaped = shaped - mean;
        }
        if (std is not null)
        {
            shaped = shaped / std;
        }
        object? output;
        try
        {
            output = script.forward(shaped);
        }
        catch (Exception error) when (error is NotImplementedException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            // TorchSharp hands back tensors, numbers and tuples or lists of them; a dict (or another object) stops here.
            throw new BadInputException(
                $"{Path}: its forward returned neither a tensor nor a tuple or list (a dict, say); {ExpectedOutput(rows)}", error);
        }
        catch (ExternalException error)
        {
            throw new BadInputException(
                $"{Path}: the model failed on a batch of shape [{string.Join(", ", shaped.shape)}] (the input declared by {Declaration.Source}): " +
                $"{LastLine(error.Message)}. Is the declared inputShape the one the model was written for?", error);
        }
        return CheckOutput(output, rows).MoveToOuterDisposeScope();
    }

    /// <summary>Zero: the script's weights are frozen.</summary>
    public override Tensor WeightPenalty() => zeros(1, device: device).sum();

    /// <summary>Frees the script module and the normalisation tensors.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            script.Dispose();
            mean?.Dispose();
            std?.Dispose();
        }
        base.Dispose(disposing);
    }

    private Tensor CheckOutput(object? output, long rows)
    {
        if (output is Tensor logits)
        {
            if (logits.dim() == 2 && logits.shape[0] == rows && logits.shape[1] == ClassCount && logits.dtype == ScalarType.Float32)
            {
                return logits;
            }
            string fix = logits.dtype == ScalarType.Float32 ? "" : " (end forward with .float())";
            throw new BadInputException(
                $"{Path}: its forward returned a {logits.dtype} tensor of shape [{string.Join(", ", logits.shape)}] for {rows} inputs; {ExpectedOutput(rows)}{fix}");
        }
        string returned = output switch
        {
            null => "None",
            ITuple tuple => $"a tuple of {tuple.Length} values",
            Tensor[] list => $"a list of {list.Length} tensors",
            object[] list => $"a list or tuple of {list.Length} values",
            Scalar => "a number",
            Array list => $"a list of {list.Length} values",
            _ => $"a {output.GetType().Name}",
        };
        throw new BadInputException($"{Path}: its forward returned {returned}; {ExpectedOutput(rows)} (return only the logits)");
    }

    private string ExpectedOutput(long rows) =>
        $"expected one float32 logits tensor [{rows}, {ClassCount}] ([N, classes], classes = {ClassCount} as declared by {Declaration.Source})";

    /// <summary>Mean or std as a tensor that broadcasts over [N, C, ...]: [1, C, 1, ...] per channel, [1] for one value.</summary>
    private static Tensor? PerChannel(float[]? values, int rank, Device device)
    {
        if (values is null)
        {
            return null;
        }
        long[] shape = values.Length == 1 ? [1] : [1, values.Length, .. Enumerable.Repeat(1L, rank - 1)];
        var result = tensor(values, device: device).reshape(shape);
        result.DetachFromDisposeScope();
        return result;
    }

    /// <summary>"net.pt"; "mnist-mlp/model.pt" for a file named only "model".</summary>
    private static string DisplayName(string fullPath)
    {
        string file = System.IO.Path.GetFileName(fullPath);
        string? folder = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(fullPath));
        return System.IO.Path.GetFileNameWithoutExtension(fullPath) == "model" && !string.IsNullOrEmpty(folder) ? $"{folder}/{file}" : file;
    }

    /// <summary>Why libtorch could not load the file, in words a user can act on.</summary>
    private static string Diagnose(string path, Exception error)
    {
        const string Save = "save the model as TorchScript: torch.jit.save(torch.jit.trace(model.eval(), example_batch), \"model.pt\")";
        byte[] head = new byte[4];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        if (read >= 1 && head[0] == 0x80)
        {
            return $"a pickled checkpoint (torch.save in the legacy format), not a TorchScript archive; the product cannot run Python pickles: {Save}";
        }
        if (read < 4 || head[0] != (byte)'P' || head[1] != (byte)'K')
        {
            return $"not a TorchScript archive (it is not a zip archive; {LastLine(error.Message)}); {Save}";
        }
        try
        {
            using var archive = ZipFile.OpenRead(path);
            var names = archive.Entries.Select(entry => entry.FullName).ToList();
            bool hasCode = names.Any(name => name.Contains("/code/", StringComparison.Ordinal) || name.EndsWith("constants.pkl", StringComparison.Ordinal));
            if (!hasCode && names.Any(name => name.EndsWith("data.pkl", StringComparison.Ordinal)))
            {
                return $"a checkpoint saved with torch.save (a pickled state dict or module), not a TorchScript archive: it holds weights but no code the product can run; {Save}";
            }
        }
        catch (InvalidDataException)
        {
            return $"a damaged or truncated archive (its zip directory cannot be read); save or copy it again";
        }
        return $"not a TorchScript archive libtorch can load ({LastLine(error.Message)}); {Save}";
    }

    /// <summary>The last non-empty line of a libtorch error (the error itself, after any TorchScript traceback).</summary>
    private static string LastLine(string message)
    {
        int trace = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        var lines = (trace > 0 ? message[..trace] : message).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string line = lines.Length == 0 ? message.Trim() : lines[^1];
        return line.Length > 300 ? line[..300] + "..." : line;
    }
}
