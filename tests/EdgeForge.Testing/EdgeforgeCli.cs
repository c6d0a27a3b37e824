namespace EdgeForge.Testing;

/// <summary>The repository's <c>./edgeforge</c> launcher, run as a child process (it builds the CLI when needed).</summary>
public static class EdgeforgeCli
{
    public static string LauncherPath
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "edgeforge");
                if (File.Exists(candidate) && File.Exists(Path.Combine(directory.FullName, "EdgeForge.slnx")))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException("cannot find the edgeforge launcher above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>
    /// Runs <c>edgeforge ARGS</c> under <c>/usr/bin/time -v</c>; returns the exit code, output and peak RSS in bytes.
    /// The launcher is run once beforehand (unmeasured) so that a rebuild of the CLI — MSBuild is a descendant and
    /// would count in the child's maxrss — never lands in the measurement; the measured process is the built program.
    /// </summary>
    public static async Task<(int ExitCode, string Output, long PeakRssBytes)> RunMeasuredAsync(IDictionary<string, string>? environment, params string[] arguments)
    {
        var warmUp = await RunAsync(environment, null, "--help");
        if (warmUp.ExitCode != 0)
        {
            throw new InvalidOperationException("the edgeforge CLI does not build or start: " + warmUp.Error);
        }

        var program = Path.Combine(Path.GetDirectoryName(LauncherPath)!, ".edgeforge", "bin", "edgeforge.dll");
        var result = await ExternalTool.RunUncheckedAsync("time", Options(environment, null), ["-v", "dotnet", program, .. arguments]);
        var line = result.Error.Split('\n').FirstOrDefault(l => l.Contains("Maximum resident set size (kbytes):", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("/usr/bin/time -v printed no peak RSS: " + result.Error);
        var kilobytes = long.Parse(line[(line.LastIndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return (result.ExitCode, result.Output + result.Error, kilobytes * 1024);
    }

    /// <summary>Runs <c>edgeforge ARGS</c> with <paramref name="stdin"/> as its input.</summary>
    public static Task<ToolResult> RunAsync(IDictionary<string, string>? environment, string? stdin, params string[] arguments) =>
        ExternalTool.RunUncheckedAsync(LauncherPath, Options(environment, stdin), arguments);

    // The launcher builds the CLI first when its sources changed: minutes on a loaded 2-core machine.
    private static ToolOptions Options(IDictionary<string, string>? environment, string? stdin) => new()
    {
        Environment = environment?.ToDictionary(),
        Input = stdin,
        Timeout = TimeSpan.FromMinutes(15),
    };
}
