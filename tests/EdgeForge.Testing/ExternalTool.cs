using System.Diagnostics;

namespace EdgeForge.Testing;

/// <summary>How one run of an external tool is set up; the defaults suit a short command-line check.</summary>
public sealed record ToolOptions
{
    /// <summary>Text for the tool's standard input. Without it standard input is empty and closed, so a tool that asks never waits.</summary>
    public string? Input { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set on top of the test process's environment (and of <c>LC_ALL=C.UTF-8 TZ=UTC</c>).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>A bound for a hung tool, which is then killed with its children; not a speed requirement.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Consumes standard output as bytes (into a file, a hash, another encoding) instead of capturing it as text;
    /// <see cref="ToolResult.Output"/> is then empty.
    /// </summary>
    public Func<Stream, Task>? ReadOutput { get; init; }
}

/// <summary>What a tool did: its exit code and both streams.</summary>
public sealed record ToolResult(int ExitCode, string Output, string Error)
{
    /// <summary>The command as a shell would show it, for failure messages.</summary>
    public string CommandLine { get; init; } = "";

    /// <summary>Fails the test unless the tool exited with one of <paramref name="expected"/> (0 when none are given).</summary>
    public ToolResult ShouldExit(params int[] expected)
    {
        ExitCode.ShouldBeOneOf(expected.Length == 0 ? [0] : expected, ToString());
        return this;
    }

    public override string ToString() => $"{CommandLine}: exit {ExitCode}\n{Error}{Output}";
}

/// <summary>
/// Runs the real tools the tests hold our output against. Every run has a timeout after which the tool and its children
/// are killed, and a missing tool fails the test (CI installs scripts/test-packages.txt).
/// <c>Output</c> / <c>RunAsync</c> return standard output and fail on a non-zero exit; <c>Run</c> /
/// <c>RunUncheckedAsync</c> return the whole <see cref="ToolResult"/> for the test to judge.
/// </summary>
public static class ExternalTool
{
    private static readonly ToolOptions Defaults = new();

    /// <summary>The full path of <paramref name="name"/> (a path is taken as it is), searching PATH and the sbin directories.</summary>
    public static string Require(string name)
    {
        if (Path.IsPathRooted(name))
        {
            return File.Exists(name) ? name : throw new FileNotFoundException($"{name} does not exist");
        }

        // Test processes do not always inherit a root PATH: mkfs.*, fdisk, debootstrap live in the sbin directories.
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"]))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"required tool \"{name}\" is not installed (see scripts/test-packages.txt)");
    }

    public static string Output(string tool, params string[] arguments) => Run(tool, Defaults, arguments).ShouldExit().Output;

    public static string Output(string tool, ToolOptions options, params string[] arguments) => Run(tool, options, arguments).ShouldExit().Output;

    public static ToolResult Run(string tool, params string[] arguments) => Run(tool, Defaults, arguments);

    // The core never resumes on the caller's context (ConfigureAwait(false)), so blocking on it from a synchronous
    // test cannot starve xunit's limited synchronisation context.
    public static ToolResult Run(string tool, ToolOptions options, params string[] arguments) => RunCoreAsync(tool, options, arguments).GetAwaiter().GetResult();

    public static async Task<string> RunAsync(string tool, params string[] arguments) => (await RunCoreAsync(tool, Defaults, arguments)).ShouldExit().Output;

    public static async Task<string> RunAsync(string tool, ToolOptions options, params string[] arguments) => (await RunCoreAsync(tool, options, arguments)).ShouldExit().Output;

    public static Task<ToolResult> RunUncheckedAsync(string tool, params string[] arguments) => RunCoreAsync(tool, Defaults, arguments);

    public static Task<ToolResult> RunUncheckedAsync(string tool, ToolOptions options, params string[] arguments) => RunCoreAsync(tool, options, arguments);

    /// <summary>The start information every child process of the toolkit uses: the located tool, the arguments, a fixed locale and time zone.</summary>
    internal static ProcessStartInfo StartInfo(string tool, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Listings, dates and messages the tests parse are those of the C locale in UTC, whatever the machine's settings.
        start.Environment["LC_ALL"] = "C.UTF-8";
        start.Environment["TZ"] = "UTC";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return start;
    }

    internal static string CommandLineOf(string tool, IEnumerable<string> arguments) =>
        string.Join(' ', arguments.Prepend(tool).Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@+".Contains(c)) ? a : $"'{a}'"));

    private static async Task<ToolResult> RunCoreAsync(string tool, ToolOptions options, string[] arguments)
    {
        var start = StartInfo(tool, arguments, options.Environment);
        start.WorkingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory;
        var commandLine = CommandLineOf(tool, arguments);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{commandLine} did not start");
        using var timeout = new CancellationTokenSource(options.Timeout);

        // Both streams are drained before anything is written, so a tool that fills a pipe while we feed it cannot stall.
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        var output = options.ReadOutput is { } read
            ? ConsumeAsync(read, process.StandardOutput.BaseStream)
            : process.StandardOutput.ReadToEndAsync(timeout.Token);
        try
        {
            await WriteInputAsync(process, options.Input, timeout.Token).ConfigureAwait(false);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            // A child the tool left behind may hold the pipes open: the streams are bounded by the same timeout.
            return new ToolResult(process.ExitCode, await output.WaitAsync(timeout.Token).ConfigureAwait(false), await error.WaitAsync(timeout.Token).ConfigureAwait(false))
            {
                CommandLine = commandLine,
            };
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
            throw new TimeoutException($"{commandLine}: still running after {options.Timeout.TotalSeconds:F0} s; killed");
        }
    }

    private static async Task<string> ConsumeAsync(Func<Stream, Task> read, Stream output)
    {
        await read(output).ConfigureAwait(false);
        return "";
    }

    private static async Task WriteInputAsync(Process process, string? input, CancellationToken cancellation)
    {
        try
        {
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input.AsMemory(), cancellation).ConfigureAwait(false);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool closed its input without reading all of it (a broken pipe): its exit code and messages say why.
        }
    }
}
