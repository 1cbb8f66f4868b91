using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Intriguing.Attacks;

/// <summary>
/// Fused SIMD loops over one row (one image's D values) for <see cref="ProjectedLbfgs"/>. Each loop reads its
/// vectors once, in registers, where the same arithmetic as tensor operations would make one pass over memory per
/// operation; a row's vectors stay in the CPU's cache from one loop to the next. Every loop has a scalar tail, so D
/// need not be a multiple of the vector width.
/// <para>
/// The box is given per value, [lower_i, upper_i] (infinite bounds allowed; the paper's [0,1] for pixels). A coordinate
/// is blocked (L-BFGS-B's active set) when it sits on a bound and the gradient pushes it outwards: x &lt;= lower with
/// g &gt; 0, or x &gt;= upper with g &lt; 0.
/// </para>
/// Every loop is compiled fully optimised from its first call (no tiered start in unoptimised code, which is many
/// times slower for SIMD and would cover a good part of a short attack).
/// </summary>
internal static class RowMath
{
    private static readonly int Width = Vector<float>.Count;

    /// <summary>a . b</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        SameLength(a.Length, b.Length);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length, i = 0;
        // Four accumulators keep four multiply-adds in flight.
        Vector<float> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
        for (; i + 4 * Width <= n; i += 4 * Width)
        {
            sum0 = Vector.FusedMultiplyAdd(Load(ref ra, i), Load(ref rb, i), sum0);
            sum1 = Vector.FusedMultiplyAdd(Load(ref ra, i + Width), Load(ref rb, i + Width), sum1);
            sum2 = Vector.FusedMultiplyAdd(Load(ref ra, i + 2 * Width), Load(ref rb, i + 2 * Width), sum2);
            sum3 = Vector.FusedMultiplyAdd(Load(ref ra, i + 3 * Width), Load(ref rb, i + 3 * Width), sum3);
        }
        for (; i + Width <= n; i += Width)
        {
            sum0 = Vector.FusedMultiplyAdd(Load(ref ra, i), Load(ref rb, i), sum0);
        }
        float sum = Vector.Sum((sum0 + sum1) + (sum2 + sum3));
        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /// <summary>y += a x</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        SameLength(y.Length, x.Length);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        var scale = new Vector<float>(a);
        int n = y.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            Vector.FusedMultiplyAdd(scale, Load(ref rx, i), Load(ref ry, i)).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++)
        {
            y[i] += a * x[i];
        }
    }

    /// <summary>y *= a</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(Span<float> y, float a)
    {
        ref float ry = ref MemoryMarshal.GetReference(y);
        var scale = new Vector<float>(a);
        int n = y.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            (Load(ref ry, i) * scale).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++)
        {
            y[i] *= a;
        }
    }

    /// <summary>destination = a - b</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Difference(Span<float> destination, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        SameLength(destination.Length, a.Length, b.Length);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rd = ref MemoryMarshal.GetReference(destination);
        int n = destination.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            (Load(ref ra, i) - Load(ref rb, i)).StoreUnsafe(ref rd, (nuint)i);
        }
        for (; i < n; i++)
        {
            destination[i] = a[i] - b[i];
        }
    }

    /// <summary>
    /// The distance term of the attack's objective: adds its gradient 2c (x - x0) to <paramref name="gradient"/> and
    /// returns |x - x0|^2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float AddDistanceTerm(ReadOnlySpan<float> point, ReadOnlySpan<float> origin, float weight, Span<float> gradient)
    {
        SameLength(point.Length, origin.Length, gradient.Length);
        ref float rx = ref MemoryMarshal.GetReference(point);
        ref float ro = ref MemoryMarshal.GetReference(origin);
        ref float rg = ref MemoryMarshal.GetReference(gradient);
        var twiceWeight = new Vector<float>(2 * weight);
        var squared = Vector<float>.Zero;
        int n = point.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            var r = Load(ref rx, i) - Load(ref ro, i);
            squared = Vector.FusedMultiplyAdd(r, r, squared);
            Vector.FusedMultiplyAdd(twiceWeight, r, Load(ref rg, i)).StoreUnsafe(ref rg, (nuint)i);
        }
        float sum = Vector.Sum(squared);
        for (; i < n; i++)
        {
            float r = point[i] - origin[i];
            sum += r * r;
            gradient[i] += 2 * weight * r;
        }
        return sum;
    }

    /// <summary>(s . y, y . y) for the step s = x' - x and gradient change y = g' - g, without writing s or y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float Curvature, float ChangeSquared) PairProducts(
        ReadOnlySpan<float> nextPoint, ReadOnlySpan<float> point, ReadOnlySpan<float> nextGradient, ReadOnlySpan<float> gradient)
    {
        SameLength(point.Length, nextPoint.Length, nextGradient.Length, gradient.Length);
        ref float rx1 = ref MemoryMarshal.GetReference(nextPoint);
        ref float rx = ref MemoryMarshal.GetReference(point);
        ref float rg1 = ref MemoryMarshal.GetReference(nextGradient);
        ref float rg = ref MemoryMarshal.GetReference(gradient);
        Vector<float> curvature = default, changeSquared = default;
        int n = point.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            var s = Load(ref rx1, i) - Load(ref rx, i);
            var y = Load(ref rg1, i) - Load(ref rg, i);
            curvature = Vector.FusedMultiplyAdd(s, y, curvature);
            changeSquared = Vector.FusedMultiplyAdd(y, y, changeSquared);
        }
        float sy = Vector.Sum(curvature), yy = Vector.Sum(changeSquared);
        for (; i < n; i++)
        {
            float s = nextPoint[i] - point[i];
            float y = nextGradient[i] - gradient[i];
            sy += s * y;
            yy += y * y;
        }
        return (sy, yy);
    }

    /// <summary>
    /// The projected gradient: <paramref name="projected"/> = g with the blocked coordinates set to 0. Returns its
    /// largest absolute entry (NaN if any entry is NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ProjectGradient(ReadOnlySpan<float> point, ReadOnlySpan<float> gradient, Span<float> projected,
        ReadOnlySpan<float> lower, ReadOnlySpan<float> upper)
    {
        SameLength(point.Length, gradient.Length, projected.Length, lower.Length, upper.Length);
        ref float rlo = ref MemoryMarshal.GetReference(lower);
        ref float rhi = ref MemoryMarshal.GetReference(upper);
        ref float rx = ref MemoryMarshal.GetReference(point);
        ref float rg = ref MemoryMarshal.GetReference(gradient);
        ref float rp = ref MemoryMarshal.GetReference(projected);
        var largest = Vector<float>.Zero;
        var anyNaN = Vector<int>.Zero;
        int n = point.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            var g = Load(ref rg, i);
            var free = Vector.ConditionalSelect(Blocked(Load(ref rx, i), g, Load(ref rlo, i), Load(ref rhi, i)), Vector<float>.Zero, g);
            free.StoreUnsafe(ref rp, (nuint)i);
            largest = Vector.Max(largest, Vector.Abs(free));
            anyNaN |= ~Vector.Equals(free, free);
        }
        float max = Vector.Sum(anyNaN) != 0 ? float.NaN : MaxOf(largest);
        for (; i < n; i++)
        {
            float free = IsBlocked(point[i], gradient[i], lower[i], upper[i]) ? 0f : gradient[i];
            projected[i] = free;
            max = float.IsNaN(free) || float.IsNaN(max) ? float.NaN : Math.Max(max, Math.Abs(free));
        }
        return max;
    }

    /// <summary>
    /// The search direction from the two-loop product h = H pg: d = -h on the free coordinates and 0 on the blocked
    /// ones. Returns the slope pg . d along it (negative for a descent direction) and |d|_1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float Slope, float Length1) DescentDirection(
        ReadOnlySpan<float> point, ReadOnlySpan<float> gradient, ReadOnlySpan<float> product, Span<float> direction,
        ReadOnlySpan<float> lower, ReadOnlySpan<float> upper)
    {
        SameLength(point.Length, gradient.Length, product.Length, direction.Length, lower.Length, upper.Length);
        ref float rlo = ref MemoryMarshal.GetReference(lower);
        ref float rhi = ref MemoryMarshal.GetReference(upper);
        ref float rx = ref MemoryMarshal.GetReference(point);
        ref float rg = ref MemoryMarshal.GetReference(gradient);
        ref float rh = ref MemoryMarshal.GetReference(product);
        ref float rd = ref MemoryMarshal.GetReference(direction);
        Vector<float> slope = default, length = default;
        int n = point.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            var g = Load(ref rg, i);
            var blocked = Blocked(Load(ref rx, i), g, Load(ref rlo, i), Load(ref rhi, i));
            var d = Vector.ConditionalSelect(blocked, Vector<float>.Zero, -Load(ref rh, i));
            d.StoreUnsafe(ref rd, (nuint)i);
            slope = Vector.FusedMultiplyAdd(g, d, slope);
            length += Vector.Abs(d);
        }
        float sum = Vector.Sum(slope), norm = Vector.Sum(length);
        for (; i < n; i++)
        {
            float d = IsBlocked(point[i], gradient[i], lower[i], upper[i]) ? 0f : -product[i];
            direction[i] = d;
            sum += gradient[i] * d;
            norm += Math.Abs(d);
        }
        return (sum, norm);
    }

    /// <summary>
    /// The projected step: candidate = clamp(x + t d, lower, upper). Returns g . (candidate - x), the decrease a linear
    /// model predicts (Armijo's test along the projected path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float StepInBox(ReadOnlySpan<float> point, ReadOnlySpan<float> direction, float length,
        ReadOnlySpan<float> gradient, Span<float> candidate, ReadOnlySpan<float> lower, ReadOnlySpan<float> upper)
    {
        SameLength(point.Length, direction.Length, gradient.Length, candidate.Length, lower.Length, upper.Length);
        ref float rlo = ref MemoryMarshal.GetReference(lower);
        ref float rhi = ref MemoryMarshal.GetReference(upper);
        ref float rx = ref MemoryMarshal.GetReference(point);
        ref float rd = ref MemoryMarshal.GetReference(direction);
        ref float rg = ref MemoryMarshal.GetReference(gradient);
        ref float rc = ref MemoryMarshal.GetReference(candidate);
        var step = new Vector<float>(length);
        var predicted = Vector<float>.Zero;
        int n = point.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            var x = Load(ref rx, i);
            var moved = Vector.Min(Vector.Max(Vector.FusedMultiplyAdd(step, Load(ref rd, i), x), Load(ref rlo, i)), Load(ref rhi, i));
            moved.StoreUnsafe(ref rc, (nuint)i);
            predicted = Vector.FusedMultiplyAdd(Load(ref rg, i), moved - x, predicted);
        }
        float sum = Vector.Sum(predicted);
        for (; i < n; i++)
        {
            float moved = Math.Min(Math.Max(point[i] + length * direction[i], lower[i]), upper[i]);
            candidate[i] = moved;
            sum += gradient[i] * (moved - point[i]);
        }
        return sum;
    }

    /// <summary>|a - b|^2</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        SameLength(a.Length, b.Length);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        var sum = Vector<float>.Zero;
        int n = a.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            var difference = Load(ref ra, i) - Load(ref rb, i);
            sum = Vector.FusedMultiplyAdd(difference, difference, sum);
        }
        float total = Vector.Sum(sum);
        for (; i < n; i++)
        {
            total += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return total;
    }

    /// <summary>
    /// One Adam step of Carlini and Wagner's L2 attack in the tanh variables w, where the point in the box [lo, lo + R]
    /// is x' = lo + R (tanh(w) + 1) / 2 = lo + R / (1 + exp(-2w)) (the paper's [0,1]: lo = 0, R = 1). With
    /// <paramref name="lossGradient"/> the gradient of the loss term with respect to x', the objective's gradient in w is
    /// g = (2 (x' - x0) + lossGradient) * 2 (x' - lo)(lo + R - x') / R; then m1 = b1 m1 + (1 - b1) g,
    /// m2 = b2 m2 + (1 - b2) g^2, w -= lr (m1 / c1) / (sqrt(m2 / c2) + eps), and x' is recomputed from the new w (in place).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CarliniWagnerAdamStep(Span<float> image, ReadOnlySpan<float> origin, ReadOnlySpan<float> lossGradient,
        Span<float> variables, Span<float> firstMoment, Span<float> secondMoment, float lower, float range, in AdamStep adam)
    {
        SameLength(image.Length, origin.Length, lossGradient.Length, variables.Length, firstMoment.Length, secondMoment.Length);
        ref float rx = ref MemoryMarshal.GetReference(image);
        ref float ro = ref MemoryMarshal.GetReference(origin);
        ref float rl = ref MemoryMarshal.GetReference(lossGradient);
        ref float rw = ref MemoryMarshal.GetReference(variables);
        ref float rm = ref MemoryMarshal.GetReference(firstMoment);
        ref float rv = ref MemoryMarshal.GetReference(secondMoment);
        var two = new Vector<float>(2f);
        var beta1 = new Vector<float>(adam.Beta1);
        var beta2 = new Vector<float>(adam.Beta2);
        var oneMinusBeta1 = new Vector<float>(1 - adam.Beta1);
        var oneMinusBeta2 = new Vector<float>(1 - adam.Beta2);
        var inverseCorrection1 = new Vector<float>(1 / adam.Correction1);
        var inverseCorrection2 = new Vector<float>(1 / adam.Correction2);
        var epsilon = new Vector<float>(adam.Epsilon);
        var rate = new Vector<float>(adam.LearningRate);
        var low = new Vector<float>(lower);
        var width = new Vector<float>(range);
        var high = new Vector<float>(lower + range);
        var twoOverRange = new Vector<float>(2f / range);
        int n = image.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            var x = Load(ref rx, i);
            var g = Vector.FusedMultiplyAdd(two, x - Load(ref ro, i), Load(ref rl, i)) * (twoOverRange * (x - low) * (high - x));
            var m = Vector.FusedMultiplyAdd(beta1, Load(ref rm, i), oneMinusBeta1 * g);
            var v = Vector.FusedMultiplyAdd(beta2, Load(ref rv, i), oneMinusBeta2 * g * g);
            var w = Load(ref rw, i) - rate * (m * inverseCorrection1) / (Vector.SquareRoot(v * inverseCorrection2) + epsilon);
            m.StoreUnsafe(ref rm, (nuint)i);
            v.StoreUnsafe(ref rv, (nuint)i);
            w.StoreUnsafe(ref rw, (nuint)i);
            (low + width / (Vector<float>.One + Vector.Exp(-two * w))).StoreUnsafe(ref rx, (nuint)i);
        }
        for (; i < n; i++)
        {
            float x = image[i];
            float g = (2 * (x - origin[i]) + lossGradient[i]) * (2f / range * (x - lower) * (lower + range - x));
            firstMoment[i] = adam.Beta1 * firstMoment[i] + (1 - adam.Beta1) * g;
            secondMoment[i] = adam.Beta2 * secondMoment[i] + (1 - adam.Beta2) * g * g;
            variables[i] -= adam.LearningRate * (firstMoment[i] / adam.Correction1)
                / (MathF.Sqrt(secondMoment[i] / adam.Correction2) + adam.Epsilon);
            image[i] = lower + range / (1 + MathF.Exp(-2 * variables[i]));
        }
    }

    /// <summary>Adam's constants for one step: decay rates, bias corrections 1 - beta^t, epsilon and learning rate.</summary>
    public readonly record struct AdamStep(float Beta1, float Beta2, float Correction1, float Correction2, float Epsilon, float LearningRate);

    /// <summary>
    /// PGD's L-inf step in one pass: x = clamp(x - step sign(g), lower, upper), element by element (the interval is
    /// the eps-box around the image intersected with [0,1]). A zero or NaN gradient entry leaves its pixel in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SignStepInInterval(Span<float> x, ReadOnlySpan<float> g, float step,
        ReadOnlySpan<float> lower, ReadOnlySpan<float> upper)
    {
        SameLength(x.Length, g.Length, lower.Length, upper.Length);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rl = ref MemoryMarshal.GetReference(lower);
        ref float ru = ref MemoryMarshal.GetReference(upper);
        var up = new Vector<float>(step);
        var down = new Vector<float>(-step);
        int n = x.Length, i = 0;
        for (; i + Width <= n; i += Width)
        {
            var gradient = Load(ref rg, i);
            var move = Vector.ConditionalSelect(Vector.GreaterThan(gradient, Vector<float>.Zero), down,
                Vector.ConditionalSelect(Vector.LessThan(gradient, Vector<float>.Zero), up, Vector<float>.Zero));
            Vector.Min(Vector.Max(Load(ref rx, i) + move, Load(ref rl, i)), Load(ref ru, i)).StoreUnsafe(ref rx, (nuint)i);
        }
        for (; i < n; i++)
        {
            float move = g[i] > 0 ? -step : g[i] < 0 ? step : 0f;
            x[i] = Math.Min(Math.Max(x[i] + move, lower[i]), upper[i]);
        }
    }

    /// <summary>
    /// Asks the CPU to start fetching <paramref name="values"/> into its cache (one hint per 64-byte line) while it
    /// works on something else: a row's vectors are cold after a round over the whole batch, and without the hint
    /// each short stream stalls until the hardware prefetcher notices it.
    /// </summary>
    public static unsafe void Prefetch(ReadOnlySpan<float> values)
    {
        if (!Sse.IsSupported)
        {
            return;
        }
        fixed (float* start = values)
        {
            for (int i = 0; i < values.Length; i += 16)
            {
                Sse.Prefetch0(start + i);
            }
        }
    }

    /// <summary>The loops read and write without bounds checks, so every span must be as long as the first.</summary>
    private static void SameLength(int length, params ReadOnlySpan<int> others)
    {
        foreach (int other in others)
        {
            if (other != length)
            {
                throw new ArgumentException($"row loops need spans of one length; got {length} and {other}");
            }
        }
    }

    private static Vector<float> Load(ref float start, int offset) => Vector.LoadUnsafe(ref start, (nuint)offset);

    private static Vector<int> Blocked(Vector<float> x, Vector<float> g, Vector<float> lower, Vector<float> upper) =>
        (Vector.LessThanOrEqual(x, lower) & Vector.GreaterThan(g, Vector<float>.Zero))
        | (Vector.GreaterThanOrEqual(x, upper) & Vector.LessThan(g, Vector<float>.Zero));

    private static bool IsBlocked(float x, float g, float lower, float upper) => (x <= lower && g > 0f) || (x >= upper && g < 0f);

    private static float MaxOf(Vector<float> values)
    {
        float max = 0f;
        for (int lane = 0; lane < Width; lane++)
        {
            max = Math.Max(max, values[lane]);
        }
        return max;
    }
}
