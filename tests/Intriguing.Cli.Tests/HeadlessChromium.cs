using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Intriguing.Cli.Tests;

/// <summary>What a browser made of report.html at one viewport width.</summary>
/// <param name="Width">The viewport width asked for, in CSS pixels.</param>
/// <param name="ViewportWidth">The page's <c>window.innerWidth</c> (should equal <paramref name="Width"/>).</param>
/// <param name="ScrollWidth"><c>document.scrollingElement.scrollWidth</c>: wider than the viewport means sideways scrolling.</param>
/// <param name="SmallestFontPixels">The smallest computed font size of any visible text, in CSS pixels.</param>
/// <param name="Images">Every <c>&lt;img&gt;</c> with its natural size (0 when it did not load).</param>
/// <param name="Errors">Script errors, failed resources and <c>console.error</c> calls, in order.</param>
internal sealed record PageCheck(int Width, int ViewportWidth, int ScrollWidth, double SmallestFontPixels, IReadOnlyList<ImageCheck> Images, IReadOnlyList<string> Errors);

/// <summary>One figure as the browser loaded it.</summary>
internal sealed record ImageCheck(string Alt, int NaturalWidth, int NaturalHeight);

/// <summary>
/// Opens an HTML file in headless Chromium the way a reader would and reports what they would see: whether every figure
/// loaded, whether anything logged an error, and whether the page scrolls sideways at a given width.
/// A copy of the page gets a small probe script as the first thing in its head (it records errors from then on and, on
/// load, measures the page); the copy is shown in one iframe per width inside a wrapper page, because headless Chromium
/// will not make its own window narrower than 500 px; each iframe posts its numbers to the wrapper, which writes them
/// into its DOM as JSON, and Chromium's <c>--dump-dom</c> prints that DOM.
/// </summary>
internal static class HeadlessChromium
{
    /// <summary>Where to find the browser when it is not on the PATH.</summary>
    public const string ExecutableVariable = "INTRIGUING_CHROMIUM";

    private static readonly string[] Names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

    private const string Probe = """
        <script>
        (function () {
          var errors = [];
          window.addEventListener('error', function (event) {
            var target = event.target;
            errors.push(target && target !== window ? 'failed to load ' + (target.tagName || '') + ' ' + String(target.currentSrc || target.src || target.href || '').slice(0, 80)
                                                   : 'script error: ' + event.message);
          }, true);
          window.addEventListener('unhandledrejection', function (event) { errors.push('unhandled rejection: ' + String(event.reason)); });
          var consoleError = console.error;
          console.error = function () { errors.push('console.error: ' + Array.prototype.map.call(arguments, String).join(' ')); consoleError.apply(console, arguments); };
          window.addEventListener('load', function () {
            var smallest = 1e9;
            var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
              var text = walker.currentNode;
              var element = text.parentElement;
              if (!element || !text.textContent.trim() || element.closest('script,style') || element.getClientRects().length === 0) continue;
              smallest = Math.min(smallest, parseFloat(getComputedStyle(element).fontSize));
            }
            var images = Array.prototype.map.call(document.images, function (image) {
              return { alt: (image.alt || '').slice(0, 80), naturalWidth: image.naturalWidth, naturalHeight: image.naturalHeight };
            });
            parent.postMessage(JSON.stringify({
              width: Number(location.hash.slice(1)), viewportWidth: window.innerWidth,
              scrollWidth: document.scrollingElement.scrollWidth, smallestFontPixels: smallest, images: images, errors: errors
            }), '*');
          });
        })();
        </script>
        """;

    /// <summary>The browser: <c>$INTRIGUING_CHROMIUM</c>, else the first of chromium, chromium-browser, google-chrome on the PATH.</summary>
    /// <exception cref="InvalidOperationException">None is installed; the message says how to install one.</exception>
    public static string Executable()
    {
        string? chosen = Environment.GetEnvironmentVariable(ExecutableVariable);
        if (!string.IsNullOrWhiteSpace(chosen))
        {
            return File.Exists(chosen) ? chosen
                : throw new InvalidOperationException($"${ExecutableVariable} is {chosen}, which does not exist");
        }
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in Names)
        {
            foreach (string folder in folders)
            {
                string path = Path.Combine(folder, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }
        throw new InvalidOperationException(
            "this test opens report.html in headless Chromium, and no Chromium was found (looked for " + string.Join(", ", Names) +
            $" on the PATH, and ${ExecutableVariable}). Install it, e.g. on Debian or Ubuntu: " +
            "sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium (.ci/run does this when it runs as root).");
    }

    /// <summary>Shows <paramref name="htmlPath"/> at each of <paramref name="widths"/> (CSS pixels) and returns what each looked like.</summary>
    public static IReadOnlyList<PageCheck> Check(string htmlPath, IReadOnlyList<int> widths, TimeSpan timeout)
    {
        string browser = Executable();
        string folder = Path.Combine(Path.GetTempPath(), "intriguing-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string html = File.ReadAllText(htmlPath);
            int head = html.IndexOf("<head>", StringComparison.OrdinalIgnoreCase);
            Assert.True(head >= 0, $"{htmlPath} has no <head>");
            File.WriteAllText(Path.Combine(folder, "page.html"), html.Insert(head + "<head>".Length, "\n" + Probe));
            int tallest = 2400;
            string frames = string.Concat(widths.Select(width =>
                $"<iframe src=\"page.html#{width}\" style=\"width:{width}px;height:{tallest}px;border:0;display:block\"></iframe>\n"));
            File.WriteAllText(Path.Combine(folder, "wrapper.html"), $$"""
                <!DOCTYPE html>
                <html><head><meta charset="utf-8"></head><body style="margin:0">
                <script>
                var results = [];
                window.addEventListener('message', function (event) {
                  results.push(JSON.parse(event.data));
                  if (results.length === {{widths.Count}}) {
                    var pre = document.createElement('pre');
                    pre.id = 'check';
                    pre.textContent = JSON.stringify(results);
                    document.body.appendChild(pre);
                  }
                });
                </script>
                {{frames}}</body></html>
                """);

            var start = new ProcessStartInfo(browser)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                "--user-data-dir=" + Path.Combine(folder, "profile"),
                $"--window-size={widths.Max() + 40},{tallest + 200}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                new Uri(Path.Combine(folder, "wrapper.html")).AbsoluteUri,
            })
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"headless Chromium did not finish with {htmlPath} within {timeout}");
            }
            process.WaitForExit();
            string dom = output.Result;
            var match = Regex.Match(dom, "<pre id=\"check\">(.*?)</pre>", RegexOptions.Singleline);
            Assert.True(match.Success,
                $"the probe in {htmlPath} reported nothing: the page did not load in headless Chromium (exit {process.ExitCode}). " +
                $"Its standard error ends: {Tail(error.Result)}");
            string json = System.Net.WebUtility.HtmlDecode(match.Groups[1].Value);
            var checks = JsonSerializer.Deserialize<List<PageCheck>>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
            return [.. checks.OrderBy(check => check.Width)];
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Addresses outside the file that the page would load: <c>src</c>, <c>srcset</c>, <c>&lt;link href&gt;</c>, CSS
    /// <c>url(...)</c> and <c>@import</c> pointing at http(s) or a protocol-relative address. Links a reader clicks
    /// (<c>&lt;a href&gt;</c>) are not loads and are allowed.
    /// </summary>
    public static IReadOnlyList<string> OutsideLoads(string html)
    {
        var patterns = new[]
        {
            """\b(?:src|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*""",
            """<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*""",
            """url\(\s*["']?\s*(?:https?:)?//[^)]*\)""",
            """@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//[^;]*""",
        };
        return [.. patterns.SelectMany(pattern => Regex.Matches(html, pattern, RegexOptions.IgnoreCase).Select(found => found.Value))];
    }

    private static string Tail(string text) => text.Length <= 1500 ? text : text[^1500..];
}
