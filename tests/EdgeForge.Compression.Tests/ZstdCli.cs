using System.Diagnostics;

namespace EdgeForge.Compression.Tests;

/// <summary>The reference implementation: the zstd command-line tool (package zstd). Missing, it fails the test.</summary>
internal static class ZstdCli
{
    public static (int ExitCode, string Output, string Error) Run(params string[] arguments) => RunTool("zstd", arguments);

    public static string Check(params string[] arguments)
    {
        var (exitCode, output, error) = Run(arguments);
        exitCode.ShouldBe(0, $"zstd {string.Join(' ', arguments)} failed: {error}");
        return output + error;
    }

    public static (int ExitCode, string Output, string Error) RunTool(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
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
            throw new InvalidOperationException($"{tool} is not installed (scripts/test-packages.txt lists what the tests need): {e.Message}", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>Deterministic, half-compressible test data.</summary>
    public static byte[] SampleData(int length, int seed = 7)
    {
        var random = new Random(seed);
        var data = new byte[length];
        random.NextBytes(data);
        for (var i = 0; i < length; i++)
        {
            data[i] &= 0x0F;
        }

        return data;
    }
}
