using Intriguing.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Intriguing.Attacks;

/// <summary>
/// One forward and backward pass of a per-sample objective, the unit that attacks spend ("gradient evaluations").
/// The gradient is taken with respect to the images only (torch.autograd.grad), so no weight gradient is computed or
/// accumulated into the model. Rows are independent, so the gradient of the summed objective is each row's own.
/// </summary>
internal static class GradientOracle
{
    public readonly record struct Evaluation(Tensor Value, Tensor Logits, Tensor Gradient);

    /// <param name="variables">The point, float [N, ...]; the gradient is taken with respect to it.</param>
    /// <param name="objective">(images, their logits) to a per-sample value, float [N].</param>
    /// <param name="toImages">Maps the variables to images (C&amp;W's tanh change of variables); identity when null.</param>
    /// <param name="model">The model; its weights get no gradient.</param>
    public static Evaluation Evaluate(Classifier model, Tensor variables, Func<Tensor, Tensor, Tensor> objective,
        Func<Tensor, Tensor>? toImages = null)
    {
        using var gradientOn = torch.enable_grad();
        var input = variables.detach().requires_grad_(true);
        var images = toImages is null ? input : toImages(input);
        var logits = model.forward(images);
        var value = objective(images, logits);
        // A model whose output does not depend on its input through autograd (a detached or stepped output) has no
        // gradient to give: libtorch would abort the process, so such a point gets a zero gradient instead.
        var sum = value.sum();
        var gradient = sum.requires_grad
            ? torch.autograd.grad([sum], [input], allow_unused: true)[0] is { } computed && !computed.IsInvalid ? computed : torch.zeros_like(input)
            : torch.zeros_like(input);
        return new Evaluation(value.detach(), logits.detach(), gradient);
    }

    /// <summary>Logits without a graph.</summary>
    public static Tensor Logits(Classifier model, Tensor images)
    {
        using var noGrad = torch.no_grad();
        return model.forward(images);
    }
}
