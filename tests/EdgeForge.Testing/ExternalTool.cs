using System.Diagnostics;

namespace EdgeForge.Testing;

/// <summary>Runs the real tools the tests hold our output against; a missing tool fails the test (CI installs them).</summary>
public static class ExternalTool
{
    public static string Require(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"required tool \"{name}\" is not installed (see scripts/test-packages.txt)");
    }

    public static async Task<string> RunAsync(string tool, params string[] arguments)
    {
        var (exitCode, stdout, stderr) = await RunUncheckedAsync(tool, null, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({exitCode}): {stderr}{stdout}");
        }

        return stdout;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunUncheckedAsync(string tool, string? stdin, params string[] arguments)
    {
        var start = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
