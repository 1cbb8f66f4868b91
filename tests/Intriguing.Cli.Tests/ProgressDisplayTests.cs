using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Intriguing.Cli.Output;
using Spectre.Console;

namespace Intriguing.Cli.Tests;

/// <summary>The live progress display of <c>reproduce</c>: a line per study with its time, the study's own work beneath it.</summary>
public sealed class ProgressDisplayTests
{
    [Fact]
    public void Grouped_progress_keeps_a_line_per_study_with_its_time_and_shows_its_own_work_only_while_it_runs()
    {
        var terminal = new Terminal();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(terminal),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
        });
        ProgressDisplay.Run(console, progress =>
        {
            progress.Report(new ProgressUpdate("studies", 0, 2, "table1"));
            progress.Report(new ProgressUpdate("study table1", 0, 1, "Table 1"));
            progress.Report(new ProgressUpdate("train fc10", 1, 3));
            // The display redraws on its own clock: wait for a frame that shows the study's training beneath it.
            Assert.True(terminal.WaitFor(text => Regex.IsMatch(text, @"table1 Table 1 .*\n└ train fc10 "), TimeSpan.FromSeconds(10)), terminal.Text);
            progress.Report(new ProgressUpdate("study table1", 1, 1, "done in 1.2 s"));
            progress.Report(new ProgressUpdate("studies", 1, 2, "table2"));
            progress.Report(new ProgressUpdate("study table2", 0, 1, "Table 2"));
            progress.Report(new ProgressUpdate("attack lbfgs", 5, 10));
            progress.Report(new ProgressUpdate("study table2", 1, 1, "read back in 80 ms"));
            progress.Report(new ProgressUpdate("studies", 2, 2));
            return 0;
        }, "study ");

        // The last frame: the overall line and one line per study with how it ended; the studies' own tasks are gone.
        string text = terminal.Text;
        string last = text[text.LastIndexOf("studies", StringComparison.Ordinal)..];
        Assert.Matches(@"^studies .*100%.*\n\s*table1 done in 1\.2 s .*100% .*\n\s*table2 read back in 80 ms .*100%", last);
        Assert.DoesNotContain("train fc10", last);
        Assert.DoesNotContain("attack lbfgs", last);
    }

    /// <summary>A terminal for Spectre.Console to draw on, with ANSI escapes dropped, readable while the display draws.</summary>
    private sealed class Terminal : TextWriter
    {
        private readonly StringBuilder written = new();
        private readonly Lock gate = new();

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (gate)
                {
                    return Regex.Replace(written.ToString(), @"\x1b\[[0-9;?]*[A-Za-z]", "").Replace("\r", "");
                }
            }
        }

        public override void Write(char value)
        {
            lock (gate)
            {
                written.Append(value);
            }
        }

        public override void Write(string? value)
        {
            lock (gate)
            {
                written.Append(value);
            }
        }

        public override void Write(char[] buffer, int index, int count)
        {
            lock (gate)
            {
                written.Append(buffer, index, count);
            }
        }

        public bool WaitFor(Func<string, bool> condition, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (condition(Text))
                {
                    return true;
                }
                Thread.Sleep(20);
            }
            return false;
        }
    }
}
