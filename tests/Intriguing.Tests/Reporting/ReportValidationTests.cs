using Intriguing.Reporting;

namespace Intriguing.Tests.Reporting;

public class ReportValidationTests
{
    private static Report With(params ReportSection[] sections) => ReportSamples.TwoSections() with { Sections = sections };

    [Fact]
    public void Two_sections_with_one_key_are_refused()
    {
        var error = Assert.Throws<BadInputException>(() => With(new("table1", "a", ""), new("table1", "b", "")).Validate());
        Assert.Contains("\"table1\"", error.Message);
    }

    [Fact]
    public void The_environment_key_is_reserved()
    {
        Assert.Throws<BadInputException>(() => With(new ReportSection("environment", "a", "")).Validate());
    }

    [Theory]
    [InlineData("")]
    [InlineData("1table")]
    [InlineData("table 1")]
    [InlineData("table-1")]
    public void Keys_must_be_identifiers(string key)
    {
        Assert.Throws<BadInputException>(() => With(new ReportSection(key, "a", "")).Validate());
    }

    [Fact]
    public void Ragged_tables_are_refused_with_the_row_named()
    {
        var section = new ReportSection("table1", "a", "") { Tables = [new ReportTable("errors", ["model", "error"], [["only one"]])] };

        var error = Assert.Throws<BadInputException>(() => With(section).Validate());
        Assert.Contains("row 0 has 1 cells, expected 2", error.Message);
    }

    [Theory]
    [InlineData("../escape.png")]
    [InlineData("figure.jpg")]
    [InlineData("sub/figure.png")]
    public void Figure_names_must_be_plain_png_names(string fileName)
    {
        var section = new ReportSection("table1", "a", "") { Figures = [new ReportFigure(fileName, "c", ReportSamples.TinyPng())] };

        Assert.Throws<BadInputException>(() => With(section).Validate());
    }

    [Fact]
    public void Figures_must_hold_png_bytes()
    {
        var section = new ReportSection("table1", "a", "") { Figures = [new ReportFigure("f.png", "c", [1, 2, 3])] };

        Assert.Throws<BadInputException>(() => With(section).Validate());
    }

    [Fact]
    public void Figure_names_must_be_unique_across_sections()
    {
        byte[] png = ReportSamples.TinyPng();
        var first = new ReportSection("table1", "a", "") { Figures = [new ReportFigure("f.png", "c", png)] };
        var second = new ReportSection("table3", "b", "") { Figures = [new ReportFigure("f.png", "c", png)] };

        Assert.Throws<BadInputException>(() => With(first, second).Validate());
    }

    [Fact]
    public void A_figure_can_be_read_from_a_png_file()
    {
        string folder = ReportSamples.TemporaryFolder();
        try
        {
            string path = Path.Combine(folder, "grid.png");
            File.WriteAllBytes(path, ReportSamples.TinyPng());

            ReportFigure figure = ReportFigure.FromFile(path, "a grid");

            Assert.Equal("grid.png", figure.FileName);
            Assert.Throws<BadInputException>(() => ReportFigure.FromFile(Path.Combine(folder, "missing.png"), "x"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
