using System.Diagnostics;

namespace EdgeForge.Testing;

/// <summary>
/// A command run on a real pseudo-terminal inside a detached tmux session on a private server socket, read back with
/// <c>tmux capture-pane</c>: how a test sees what a person at a terminal sees (the live display, colours stripped).
/// </summary>
public sealed class TmuxSession : IDisposable
{
    private const string ExitMarker = "EF-TMUX-EXIT=";
    private readonly string _socket;
    private readonly string _tmux;

    private TmuxSession(string tmux, string socket)
    {
        _tmux = tmux;
        _socket = socket;
    }

    /// <summary>Starts <paramref name="command"/> (a shell command line) in a <paramref name="width"/>×<paramref name="height"/> terminal.</summary>
    public static TmuxSession Start(string command, IReadOnlyDictionary<string, string>? environment = null, int width = 200, int height = 60)
    {
        var tmux = ExternalTool.Require("tmux");
        var session = new TmuxSession(tmux, "edgeforge-test-" + Guid.NewGuid().ToString("N")[..12]);
        var arguments = new List<string> { "-L", session._socket, "-f", "/dev/null", "new-session", "-d", "-x", width.ToString(), "-y", height.ToString() };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            arguments.Add("-e");
            arguments.Add($"{key}={value}");
        }

        // The shell stays after the command so its last screen can still be captured; the marker carries the exit code.
        arguments.Add($"{command}; echo {ExitMarker}$?; sleep 3600");
        session.Tmux(arguments);
        return session;
    }

    /// <summary>The visible screen now, one string per line (trailing blanks trimmed).</summary>
    public string Capture() => Tmux(["-L", _socket, "capture-pane", "-p", "-J"]);

    /// <summary>
    /// Captures the screen every 100 ms until one satisfies <paramref name="seen"/> and returns it; throws, with the last
    /// screen, if none does within <paramref name="timeout"/> or the command ends first.
    /// </summary>
    public string WaitFor(Func<string, bool> seen, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var screen = "";
        while (clock.Elapsed < timeout)
        {
            screen = Capture();
            if (seen(screen))
            {
                return screen;
            }

            if (screen.Contains(ExitMarker, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"the command in tmux ended before the awaited screen; last screen:\n{screen}");
            }

            Thread.Sleep(TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException($"no screen awaited within {timeout}; last screen:\n{screen}");
    }

    /// <summary>Captures the screen every <paramref name="every"/> until the command ends; returns every distinct screen seen and its exit code.</summary>
    public (IReadOnlyList<string> Screens, int ExitCode) WaitForExit(TimeSpan timeout, TimeSpan? every = null)
    {
        var screens = new List<string>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var screen = Capture();
            if (screens.Count == 0 || screens[^1] != screen)
            {
                screens.Add(screen);
            }

            var marker = screen.LastIndexOf(ExitMarker, StringComparison.Ordinal);
            if (marker >= 0)
            {
                var digits = new string(screen[(marker + ExitMarker.Length)..].TakeWhile(char.IsAsciiDigit).ToArray());
                return (screens, int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture));
            }

            Thread.Sleep(every ?? TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException($"the command in tmux did not end within {timeout}; last screen:\n{(screens.Count > 0 ? screens[^1] : "")}");
    }

    private string Tmux(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(_tmux) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("tmux did not answer within 30 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}: {error.Result}");
        }

        return output.Result;
    }

    public void Dispose()
    {
        try
        {
            Tmux(["-L", _socket, "kill-server"]);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // Already gone: the server exits with its last session.
        }
    }
}
