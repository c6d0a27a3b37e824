using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using EdgeForge.Build.Pipeline;
using Spectre.Console;

namespace EdgeForge.Cli.Commands;

/// <summary>
/// Renders a build's events the way the reader wants them: on a terminal a live table (one line per step: state, what
/// it is doing, bytes and rate, elapsed); otherwise timestamped lines on stderr; with <c>--json</c> one JSON object per
/// line on stdout (<c>{"time","step","event","message","bytes","total","elapsedMs"}</c>) for scripts and CI.
/// </summary>
internal abstract class BuildProgress : IBuildObserver, IDisposable
{
    public static BuildProgress Create(TextWriter output, TextWriter error, bool json)
    {
        if (json)
        {
            return new JsonLines(output);
        }

        var terminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected && !Console.IsOutputRedirected
                       && Environment.GetEnvironmentVariable("TERM") is { } term && term != "dumb";
        return terminal ? new LiveTable() : new PlainLines(error);
    }

    public abstract void OnEvent(BuildEvent buildEvent);

    public virtual void Dispose()
    {
    }

    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes + " B",
    };

    private sealed class JsonLines(TextWriter output) : BuildProgress
    {
        private static readonly JsonSerializerOptions OneLine = new() { WriteIndented = false };

        public override void OnEvent(BuildEvent e)
        {
            var line = JsonSerializer.Serialize(new
            {
                time = e.Time.ToString("O", CultureInfo.InvariantCulture),
                step = e.Step,
                @event = e.Kind.ToString().ToLowerInvariant(),
                message = e.Message,
                bytes = e.Bytes,
                total = e.TotalBytes,
                elapsedMs = e.Elapsed is { } elapsed ? (long?)elapsed.TotalMilliseconds : null,
            }, OneLine);
            lock (output)
            {
                output.WriteLine(line);
            }
        }
    }

    /// <summary>Timestamped lines for logs: every start, end and message; a step's byte progress at most every few seconds.</summary>
    private sealed class PlainLines(TextWriter error) : BuildProgress
    {
        public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

        private readonly Dictionary<string, (DateTimeOffset Started, DateTimeOffset LastProgress)> _steps = new(StringComparer.Ordinal);

        public override void OnEvent(BuildEvent e)
        {
            lock (_steps)
            {
                if (e.Kind == BuildEventKind.Started || !_steps.ContainsKey(e.Step))
                {
                    _steps[e.Step] = (e.Time, e.Time);
                }

                var (started, last) = _steps[e.Step];
                if (e.Kind == BuildEventKind.Progress)
                {
                    if (e.Time - last < ProgressEvery)
                    {
                        return;
                    }

                    _steps[e.Step] = (started, e.Time);
                }

                var text = e.Kind switch
                {
                    BuildEventKind.Started => $"{e.Step}: {e.Message}",
                    BuildEventKind.Finished => $"{e.Step}: done in {e.Elapsed?.TotalSeconds:0.0} s" + (e.Message is null ? "" : $" ({e.Message})"),
                    BuildEventKind.Failed => $"{e.Step}: FAILED: {e.Message}",
                    BuildEventKind.Progress => $"{e.Step}: {Transfer(e.Bytes ?? 0, e.TotalBytes, e.Time - started, running: true)}",
                    _ => $"{e.Step}: {e.Message}",
                };
                error.WriteLine($"{e.Time.ToLocalTime():HH:mm:ss} edgeforge: {text}");
            }
        }
    }

    /// <summary>"120.0 MiB / 700.0 MiB 40.0 MiB/s eta 00:14": bytes, the total when known, the average rate, and while running the time left.</summary>
    public static string Transfer(long bytes, long? total, TimeSpan elapsed, bool running)
    {
        if (bytes <= 0 && total is null)
        {
            return "";
        }

        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        var rate = bytes / seconds;
        var text = Size(bytes) + (total is { } t ? " / " + Size(t) : "") + (bytes > 0 ? $" {Size((long)rate)}/s" : "");
        if (running && total is { } all && rate > 0 && all > bytes)
        {
            var left = TimeSpan.FromSeconds(Math.Min((all - bytes) / rate, TimeSpan.FromDays(1).TotalSeconds));
            text += $" eta {(int)left.TotalMinutes:00}:{left.Seconds:00}";
        }

        return text;
    }

    /// <summary>Spectre.Console's live display, refreshed from the event state by its own thread.</summary>
    private sealed class LiveTable : BuildProgress
    {
        private sealed class Row
        {
            public required DateTimeOffset Started { get; set; }
            public string State { get; set; } = "running";
            public string Text { get; set; } = "";
            public TimeSpan? Elapsed { get; set; }
            public long Bytes { get; set; }
            public long? Total { get; set; }
        }

        private readonly ConcurrentDictionary<string, Row> _rows = new(StringComparer.Ordinal);
        private readonly List<string> _order = [];
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _display;

        public LiveTable()
        {
            _display = Task.Run(() => AnsiConsole.Live(Render()).AutoClear(false).Start(context =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    context.UpdateTarget(Render());
                    _stop.Token.WaitHandle.WaitOne(150);
                }

                context.UpdateTarget(Render());
            }));
        }

        public override void OnEvent(BuildEvent e)
        {
            var row = _rows.GetOrAdd(e.Step, _ =>
            {
                lock (_order)
                {
                    _order.Add(e.Step);
                }

                return new Row { Started = e.Time };
            });
            switch (e.Kind)
            {
                case BuildEventKind.Started:
                    row.Text = e.Message ?? "";
                    break;
                case BuildEventKind.Finished:
                    row.State = "done";
                    row.Elapsed = e.Elapsed;
                    break;
                case BuildEventKind.Failed:
                    row.State = "failed";
                    row.Text = e.Message ?? "";
                    row.Elapsed = e.Elapsed;
                    break;
                case BuildEventKind.Progress:
                    row.Bytes = e.Bytes ?? 0;
                    row.Total = e.TotalBytes;
                    break;
                default:
                    row.Text = e.Message ?? "";
                    break;
            }
        }

        private Table Render()
        {
            var table = new Table().Border(TableBorder.None).AddColumns("step", "state", "progress", "time", "");
            List<string> order;
            lock (_order)
            {
                order = [.. _order];
            }

            foreach (var name in order)
            {
                var row = _rows[name];
                var elapsed = row.Elapsed ?? DateTimeOffset.UtcNow - row.Started;
                var state = row.State switch { "done" => "[green]done[/]", "failed" => "[red]failed[/]", _ => "[yellow]running[/]" };
                table.AddRow(Markup.Escape(name), state, Markup.Escape(Transfer(row.Bytes, row.Total, elapsed, row.State == "running")),
                    $"{elapsed.TotalSeconds:0.0}s", Markup.Escape(row.Text.Length > 90 ? row.Text[..90] + "…" : row.Text));
            }

            return table;
        }

        public override void Dispose()
        {
            _stop.Cancel();
            _display.Wait();
            _stop.Dispose();
        }
    }
}
