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

    /// <param name="objective">(images that require grad, their logits) to a per-sample value, float [N].</param>
    public static Evaluation Evaluate(Classifier model, Tensor images, Func<Tensor, Tensor, Tensor> objective)
    {
        using var gradientOn = torch.enable_grad();
        var input = images.detach().requires_grad_(true);
        var logits = model.forward(input);
        var value = objective(input, logits);
        var gradient = torch.autograd.grad([value.sum()], [input])[0];
        return new Evaluation(value.detach(), logits.detach(), gradient);
    }

    /// <summary>Logits without a graph.</summary>
    public static Tensor Logits(Classifier model, Tensor images)
    {
        using var noGrad = torch.no_grad();
        return model.forward(images);
    }
}
