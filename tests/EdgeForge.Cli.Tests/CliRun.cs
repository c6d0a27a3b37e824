using EdgeForge.Cli;

namespace EdgeForge.Cli.Tests;

/// <summary>Runs the CLI in-process, as the launcher does, capturing both streams.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;

    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CommandRunner.RunAsync(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>No input may make the tool print a .NET stack trace or call itself broken.</summary>
    public void ShouldNotCrash()
    {
        All.ShouldNotContain("   at ");
        All.ShouldNotContain("internal error");
        All.ShouldNotContain("Unhandled exception");
    }
}
