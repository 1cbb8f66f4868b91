using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Training;

/// <summary>
/// The two optimisers of the zoo's recipes, written out so their whole state (momentum buffers; Adam's moments and
/// step count) is ours to save and restore bit for bit: SGD with Nesterov momentum (PyTorch's formulation: buf = mu buf
/// + g, the first step buf = g; p -= lr (g + mu buf)) and Adam (PyTorch's: bias-corrected moments, eps added to
/// sqrt(v) / sqrt(1 - beta2^t)). TorchSharp 0.107's optimisers can save their state, but a run that saved it drifted
/// from one that did not by a few ulps (docs/adversarial-training.md), which resuming must not do.
/// </summary>
internal sealed class CheckpointableOptimizer : IDisposable
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double AdamEpsilon = 1e-8;

    private readonly TrainingRecipe recipe;
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> parameters;
    private readonly Tensor?[] first;
    private readonly Tensor?[] second;
    private long steps;

    public CheckpointableOptimizer(TrainingRecipe recipe, IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
    {
        if (recipe.Optimizer is not (OptimizerKind.Sgd or OptimizerKind.Adam))
        {
            throw new BadInputException($"unknown optimiser {recipe.Optimizer}");
        }
        this.recipe = recipe;
        this.parameters = parameters;
        first = new Tensor?[parameters.Count];
        second = new Tensor?[parameters.Count];
    }

    public double LearningRate { get; set; }

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        steps++;
        for (int i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            var gradient = parameter.grad;
            if (gradient is null)
            {
                continue;
            }
            if (recipe.Optimizer == OptimizerKind.Sgd)
            {
                double momentum = recipe.Momentum;
                if (momentum == 0)
                {
                    parameter.add_(gradient, alpha: -LearningRate);
                    continue;
                }
                if (first[i] is null)
                {
                    first[i] = gradient.clone().DetachFromDisposeScope();
                }
                else
                {
                    first[i]!.mul_(momentum).add_(gradient);
                }
                parameter.add_(gradient + first[i]! * momentum, alpha: -LearningRate);
            }
            else
            {
                first[i] ??= zeros_like(parameter).DetachFromDisposeScope();
                second[i] ??= zeros_like(parameter).DetachFromDisposeScope();
                first[i]!.mul_(Beta1).add_(gradient, alpha: 1 - Beta1);
                second[i]!.mul_(Beta2).addcmul_(gradient, gradient, value: 1 - Beta2);
                double correction1 = 1 - Math.Pow(Beta1, steps);
                double correction2 = 1 - Math.Pow(Beta2, steps);
                var denominator = (second[i]!.sqrt() / Math.Sqrt(correction2)).add_(AdamEpsilon);
                parameter.addcdiv_(first[i]!, denominator, value: -LearningRate / correction1);
            }
        }
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(steps);
        writer.Write(parameters.Count);
        foreach (var state in first.Concat(second))
        {
            writer.Write(state is not null);
            if (state is null)
            {
                continue;
            }
            using var scope = NewDisposeScope();
            var values = state.cpu().contiguous().data<float>().ToArray();
            writer.Write(values.Length);
            foreach (float value in values)
            {
                writer.Write(value);
            }
        }
    }

    public void Load(BinaryReader reader)
    {
        steps = reader.ReadInt64();
        if (reader.ReadInt32() != parameters.Count)
        {
            throw new InvalidDataException("the optimiser state is for another number of parameters");
        }
        for (int slot = 0; slot < 2 * parameters.Count; slot++)
        {
            var states = slot < parameters.Count ? first : second;
            int i = slot % parameters.Count;
            states[i]?.Dispose();
            states[i] = null;
            if (!reader.ReadBoolean())
            {
                continue;
            }
            int length = reader.ReadInt32();
            var values = new float[length];
            for (int v = 0; v < length; v++)
            {
                values[v] = reader.ReadSingle();
            }
            if (length != parameters[i].numel())
            {
                throw new InvalidDataException($"optimiser state {slot} has {length} values; its parameter has {parameters[i].numel()}");
            }
            using var scope = NewDisposeScope();
            states[i] = tensor(values, parameters[i].shape).to(parameters[i].device).DetachFromDisposeScope();
        }
    }

    public void Dispose()
    {
        foreach (var state in first.Concat(second))
        {
            state?.Dispose();
        }
    }
}
