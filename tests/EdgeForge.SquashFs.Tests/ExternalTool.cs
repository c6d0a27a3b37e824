using System.Diagnostics;

namespace EdgeForge.SquashFs.Tests;

/// <summary>Runs the real tools the image is held against (squashfs-tools, mount, getfattr, …); a missing tool fails the test.</summary>
internal static class ExternalTool
{
    public static (int ExitCode, string Output, string Error) Run(string tool, params string[] arguments) => RunIn(null, tool, arguments);

    public static (int ExitCode, string Output, string Error) RunIn(string? workingDirectory, string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is not installed (scripts/test-packages.txt lists the packages the tests need): {e.Message}", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>Runs the tool and returns its standard output, failing the test with its error output when it fails.</summary>
    public static string Check(string tool, params string[] arguments)
    {
        var (exitCode, output, error) = Run(tool, arguments);
        exitCode.ShouldBe(0, $"{tool} {string.Join(' ', arguments)} failed: {error}{output}");
        return output;
    }
}
