namespace Intriguing.Reporting;

/// <summary>Whether a cell holds our measurement, the paper's number, or neither; the HTML styles them apart.</summary>
public enum CellKind
{
    /// <summary>Labels, settings, anything that is neither ours nor the paper's.</summary>
    Plain,
    /// <summary>Our measurement.</summary>
    Ours,
    /// <summary>The paper's number.</summary>
    Paper,
}

/// <summary>A table cell: text already formatted (see <see cref="ReportFormat"/>) and what kind of number it is.</summary>
/// <param name="Text">Shown as is (escaped by the writers).</param>
/// <param name="Kind">Ours, paper, or plain.</param>
public sealed record ReportCell(string Text, CellKind Kind = CellKind.Plain)
{
    /// <summary>A cell holding our measurement.</summary>
    public static ReportCell Ours(string text) => new(text, CellKind.Ours);

    /// <summary>A cell holding the paper's number.</summary>
    public static ReportCell Paper(string text) => new(text, CellKind.Paper);

    /// <summary>Lets plain strings stand for plain cells: <c>["FC10(1e-4)", ReportCell.Ours("7.1%")]</c>.</summary>
    public static implicit operator ReportCell(string text) => new(text);

    /// <summary>The cell's text.</summary>
    public override string ToString() => Text;
}

/// <summary>A table of formatted cells, e.g. Table 1 with our error beside the paper's.</summary>
/// <param name="Caption">One line above the table saying what it shows.</param>
/// <param name="Headers">Column headers; a header's <see cref="CellKind"/> styles the header cell.</param>
/// <param name="Rows">Rows, each with exactly one cell per header.</param>
public sealed record ReportTable(string Caption, IReadOnlyList<ReportCell> Headers, IReadOnlyList<IReadOnlyList<ReportCell>> Rows)
{
    internal void Validate(string sectionKey)
    {
        if (Headers.Count == 0)
        {
            throw new BadInputException($"table \"{Caption}\" in section \"{sectionKey}\" has no column headers");
        }
        for (int row = 0; row < Rows.Count; row++)
        {
            if (Rows[row].Count != Headers.Count)
            {
                throw new BadInputException(
                    $"table \"{Caption}\" in section \"{sectionKey}\": row {row} has {Rows[row].Count} cells, expected {Headers.Count} (one per header)");
            }
        }
    }
}
