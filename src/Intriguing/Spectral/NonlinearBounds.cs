namespace Intriguing.Spectral;

/// <summary>
/// Lipschitz constants (in L2) of the layers without weights. Section 4.4 calls them contractive; that holds for ReLU,
/// the sigmoid (slope at most 1/4) and non-overlapping max-pooling, but not for overlapping pooling (AlexNet's 3x3 windows
/// with stride 2), whose constant is 2. The derivations are in docs/spectral.md.
/// </summary>
public static class NonlinearBounds
{
    /// <summary>|max(0,a) - max(0,b)| &lt;= |a - b| element-wise; attained wherever both inputs are positive.</summary>
    public const double Relu = 1.0;

    /// <summary>The sigmoid's slope s(1 - s) is at most 1/4, reached at 0.</summary>
    public const double Sigmoid = 0.25;

    /// <summary>
    /// Max-pooling with <paramref name="kernel"/> x <paramref name="kernel"/> windows, <paramref name="stride"/>, no padding, on
    /// an input of <paramref name="height"/> x <paramref name="width"/>. Since |max_w a - max_w b| &lt;= max_w |a - b|,
    /// ||pool(a) - pool(b)||^2 &lt;= sum over windows of sum over the window of (a - b)^2 = sum_i c_i (a_i - b_i)^2, where c_i
    /// counts the windows holding pixel i; so the constant is sqrt(max_i c_i). It is attained: perturb a pixel that is the
    /// maximum of all its windows. Non-overlapping windows give 1; AlexNet's 3x3 / stride 2 give sqrt(2 * 2) = 2.
    /// </summary>
    public static double MaxPool(int kernel, int stride, long height, long width) =>
        Math.Sqrt(WindowsPerPixel(kernel, stride, height) * (double)WindowsPerPixel(kernel, stride, width));

    /// <summary>The most pooling windows that hold one position of an axis of <paramref name="length"/>.</summary>
    internal static long WindowsPerPixel(int kernel, int stride, long length)
    {
        if (kernel < 1 || stride < 1 || length < kernel)
        {
            throw new BadInputException($"max-pooling: kernel {kernel}, stride {stride} on an axis of {length}: expected 1 <= kernel <= length and stride >= 1");
        }
        long outputs = (length - kernel) / stride + 1;
        long most = 0;
        for (long position = 0; position < length; position++)
        {
            long first = Math.Max(0, (position - kernel + stride) / stride);
            long last = Math.Min(outputs - 1, position / stride);
            most = Math.Max(most, last - first + 1);
        }
        return most;
    }

    /// <summary>
    /// A Lipschitz constant of local response normalisation b_i = a_i / (k + alpha sum_{j in N(i)} a_j^2)^beta
    /// (Krizhevsky et al.; N(i) = n adjacent channels). The map is smooth, so its constant is the supremum of its Jacobian's
    /// norm, and the Schur test ||J||_2 &lt;= sqrt(max row sum * max column sum) of |J| bounds that. With s_i = k + alpha sum a_j^2
    /// and u = s_i / k &gt;= 1 (derivation in docs/spectral.md):
    /// row sums &lt;= k^-beta * max_u u^-beta (D + q (1 - 1/u)), q = beta sqrt(n - 1);
    /// column sums &lt;= k^-beta (D + (n - 1) (beta / (1 + beta))^(1 + beta)); D = max(1, 2 beta - 1) bounds the diagonal.
    /// alpha drops out. AlexNet's constants (n 5, alpha 1e-4, beta 0.75, k 2) give 0.865: contractive, but not by k^-beta alone
    /// (0.595, the bound for normalising by the whole vector), because neighbouring channels interact.
    /// </summary>
    public static double LocalResponseNorm(LocalResponseNormSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        double beta = settings.Beta;
        double k = settings.K;
        int n = settings.Size;
        if (!(beta > 0) || !(k > 0) || n < 1 || !(settings.Alpha >= 0))
        {
            throw new BadInputException($"local response normalisation needs size >= 1, alpha >= 0, beta > 0, k > 0; got {settings}");
        }
        double diagonal = Math.Max(1, 2 * beta - 1);
        double q = beta * Math.Sqrt(n - 1);
        // h(u) = u^-beta (D + q - q/u) peaks at u* = q (1 + beta) / (beta (D + q)) when u* > 1, else at u = 1.
        double peak = q == 0 ? 1 : Math.Max(1, q * (1 + beta) / (beta * (diagonal + q)));
        double rows = Math.Pow(peak, -beta) * (diagonal + q - q / peak);
        double columns = diagonal + (n - 1) * Math.Pow(beta / (1 + beta), 1 + beta);
        return Math.Pow(k, -beta) * Math.Sqrt(rows * columns);
    }
}
