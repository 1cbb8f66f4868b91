using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Intriguing.Cli.Output;

/// <summary>
/// The program's two streams. Human output (tables, progress bars) goes to standard output, or to standard
/// error under <c>--json</c>, so that with <c>--json</c> standard output holds exactly one JSON document.
/// Tests construct it over string writers and run commands in-process.
/// </summary>
public sealed class CliIo
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public CliIo(TextWriter standardOutput, TextWriter standardError, bool interactive)
    {
        StandardOutput = standardOutput;
        StandardError = standardError;
        Interactive = interactive;
    }

    public TextWriter StandardOutput { get; }

    public TextWriter StandardError { get; }

    /// <summary>True when attached to a terminal: progress bars are drawn live only then.</summary>
    public bool Interactive { get; }

    public static CliIo ForProcess() =>
        new(Console.Out, Console.Error, !Console.IsOutputRedirected || !Console.IsErrorRedirected);

    /// <summary>The console for human-readable output of a command run with or without <c>--json</c>.</summary>
    public IAnsiConsole HumanConsole(bool json) => CreateConsole(json ? StandardError : StandardOutput);

    public void WriteJson<T>(T document) => StandardOutput.WriteLine(JsonSerializer.Serialize(document, JsonOptions));

    private IAnsiConsole CreateConsole(TextWriter writer) =>
        AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = Interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
}
