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
            throw new InvalidOperationException("the edgeforge CLI does not build or start: " + warmUp.Stderr);
        }

        var start = new System.Diagnostics.ProcessStartInfo(ExternalTool.Require("time"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-v");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Path.Combine(Path.GetDirectoryName(LauncherPath)!, ".edgeforge", "bin", "edgeforge.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var error = await stderr;
        var line = error.Split('\n').FirstOrDefault(l => l.Contains("Maximum resident set size (kbytes):", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("/usr/bin/time -v printed no peak RSS: " + error);
        var kilobytes = long.Parse(line[(line.LastIndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return (process.ExitCode, await stdout + error, kilobytes * 1024);
    }

    /// <summary>Runs <c>edgeforge ARGS</c>; returns the exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IDictionary<string, string>? environment, string? stdin, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(LauncherPath)
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

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        await process.StandardInput.WriteAsync(stdin ?? "");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
