using System.CommandLine;

namespace EdgeForge.Cli;

/// <summary>
/// Parses and runs a command line, mapping every outcome to an exit code and a message (<see cref="ErrorMapping"/>) —
/// never a stack trace (set EDGEFORGE_DEBUG=1 to see one).
/// </summary>
public static class CommandRunner
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = CommandTree.Build();
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0 && !WantsHelp(args))
        {
            foreach (var parseError in parseResult.Errors)
            {
                await error.WriteLineAsync($"edgeforge: {parseError.Message}");
            }

            await error.WriteLineAsync($"Run '{string.Join(' ', CommandPath(parseResult))} --help' for usage.");
            return ExitCodes.InvalidInput;
        }

        try
        {
            return await parseResult.InvokeAsync(configuration, cancellationToken);
        }
        catch (Exception e)
        {
            var mapped = ErrorMapping.Classify(e);
            await error.WriteLineAsync($"edgeforge: {mapped.Message}");
            if (mapped.IsDefect)
            {
                await error.WriteLineAsync("This is a bug in edgeforge; rerun with EDGEFORGE_DEBUG=1 for details and report it.");
            }

            await WriteDebugDetailAsync(error, e);
            return mapped.ExitCode;
        }
    }

    private static bool WantsHelp(string[] args) => args.Any(a => a is "--help" or "-h" or "-?");

    private static IEnumerable<string> CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "edgeforge" : result.Command.Name);
        }

        return names;
    }

    private static async Task WriteDebugDetailAsync(TextWriter error, Exception e)
    {
        if (Environment.GetEnvironmentVariable("EDGEFORGE_DEBUG") == "1")
        {
            await error.WriteLineAsync(e.ToString());
        }
    }
}
