using System.Diagnostics;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>Runs the real tools the images are held against. A missing tool fails the test: CI installs scripts/test-packages.txt.</summary>
internal static class ExternalTool
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(string tool, IEnumerable<string> arguments, int timeoutSeconds = 120, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var path = Locate(tool);
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LC_ALL"] = "C.UTF-8";
        start.Environment["TZ"] = "UTC";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', start.ArgumentList)}: still running after {timeoutSeconds} s");
        }

        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs a tool and returns its standard output, failing the test on a non-zero exit code.</summary>
    public static string Output(string tool, params string[] arguments)
    {
        var result = Run(tool, arguments);
        result.ExitCode.ShouldBe(0, $"{tool} {string.Join(' ', arguments)} failed:\n{result.Error}\n{result.Output}");
        return result.Output;
    }

    public static string Locate(string tool)
    {
        if (Path.IsPathRooted(tool))
        {
            return File.Exists(tool) ? tool : throw new FileNotFoundException($"{tool} does not exist");
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"]))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{tool} is not installed; install the packages in scripts/test-packages.txt");
    }
}
