namespace Intriguing.Transfer;

/// <summary>
/// The paper's transfer numbers (Szegedy et al. 2013, Tables 2 and 4, as transcribed in the project's reference notes;
/// single cells of Table 2 are approximate). Keys are zoo names; the cross-split models are "name@p1" / "name@p2".
/// </summary>
public static class PaperTransfer
{
    /// <summary>Table 2's models, rows and columns in the paper's order (all trained on the full training split).</summary>
    public static readonly IReadOnlyList<string> Table2Models = ["fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10"];

    /// <summary>Table 4's models: the Table 3 networks, on P1 or P2.</summary>
    public static readonly IReadOnlyList<string> Table4Models = ["fc100-100-10@p1", "fc123-456-10@p1", "fc100-100-10@p2"];

    private static readonly double[,] Table2Cells =
    {
        { 1.00, 0.117, 0.227, 0.02, 0.039, 0.027 },
        { 0.871, 1.00, 0.352, 0.359, 0.273, 0.098 },
        { 0.719, 0.762, 1.00, 0.481, 0.47, 0.344 },
        { 0.289, 0.137, 0.211, 1.00, 0.066, 0.02 },
        { 0.382, 0.14, 0.238, 0.203, 1.00, 0.027 },
        { 0.234, 0.16, 0.248, 0.094, 0.066, 1.00 },
    };

    /// <summary>Table 2's average distortion per source row.</summary>
    public static readonly IReadOnlyDictionary<string, double> Table2Distortion = new Dictionary<string, double>
    {
        ["fc10-1e-4"] = 0.062,
        ["fc10-1e-2"] = 0.1,
        ["fc10-1"] = 0.14,
        ["fc100-100-10"] = 0.058,
        ["fc200-200-10"] = 0.065,
        ["ae400-10"] = 0.086,
    };

    private static readonly double[,] Table2NoiseCells =
    {
        { 0.05, 0.101, 0.183, 0.0, 0.0, 0.008 },
        { 0.156, 0.113, 0.227, 0.05, 0.043, 0.031 },
    };

    /// <summary>Table 2's noise rows' stddevs.</summary>
    public static readonly IReadOnlyList<double> Table2NoiseStddevs = [0.1, 0.3];

    /// <summary>Table 4's noise stddevs.</summary>
    public static readonly IReadOnlyList<double> Table4NoiseStddevs = [0.06, 0.1];

    /// <summary>Table 2: error of <paramref name="target"/> on examples made for <paramref name="source"/>, or null.</summary>
    public static double? Table2(string source, string target)
    {
        int row = IndexOf(Table2Models, source), column = IndexOf(Table2Models, target);
        return row < 0 || column < 0 ? null : Table2Cells[row, column];
    }

    /// <summary>Table 2's noise rows: error of <paramref name="target"/> under Gaussian noise of <paramref name="stddev"/>, or null.</summary>
    public static double? Table2Noise(double stddev, string target)
    {
        int row = IndexOf(Table2NoiseStddevs, stddev), column = IndexOf(Table2Models, target);
        return row < 0 || column < 0 ? null : Table2NoiseCells[row, column];
    }

    /// <summary>Table 4, plain examples: the only cells the reference gives (examples for FC100-100-10 on P1).</summary>
    public static double? Table4(string source, string target) => (source, target) switch
    {
        ("fc100-100-10@p1", "fc100-100-10@p1") => 1.0,
        ("fc100-100-10@p1", "fc123-456-10@p1") => 0.262,
        ("fc100-100-10@p1", "fc100-100-10@p2") => 0.059,
        _ => null,
    };

    /// <summary>Table 4, examples magnified to distortion 0.1 ("distorted by a factor").</summary>
    public static double? Table4Magnified(string source, string target) => (source, target) switch
    {
        ("fc100-100-10@p1", "fc123-456-10@p1") => 0.98,
        ("fc100-100-10@p1", "fc100-100-10@p2") => 0.43,
        _ => null,
    };

    /// <summary>Table 4's noise rows (stddev 0.06 and 0.1): the paper gives only the range 2.2%-2.8% over its models.</summary>
    public const string Table4NoiseRange = "2.2%-2.8%";

    /// <summary>The low end of Table 4's noise range, 2.2% error.</summary>
    public const double Table4NoiseLow = 0.022;

    /// <summary>The high end of Table 4's noise range, 2.8% error.</summary>
    public const double Table4NoiseHigh = 0.028;

    private static int IndexOf<T>(IReadOnlyList<T> list, T value)
    {
        for (int index = 0; index < list.Count; index++)
        {
            if (EqualityComparer<T>.Default.Equals(list[index], value))
            {
                return index;
            }
        }
        return -1;
    }
}
