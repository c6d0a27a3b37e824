using System.CommandLine;

namespace EdgeForge.Cli;

/// <summary>
/// Parses and runs a command line, mapping every outcome to an exit code and a message — never a stack trace
/// (set EDGEFORGE_DEBUG=1 to see one for an unexpected error).
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
        catch (InvalidInputException e)
        {
            await error.WriteLineAsync($"edgeforge: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (EdgeForge.Build.Pipeline.BuildInputException e)
        {
            await error.WriteLineAsync($"edgeforge: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (EdgeForge.Build.Pipeline.BuildFailedException e)
        {
            await error.WriteLineAsync($"edgeforge: {e.Message}");
            await WriteDebugDetailAsync(error, e);
            return ExitCodes.Failure;
        }
        catch (EdgeForge.Build.Pipeline.PlanLockException e)
        {
            await error.WriteLineAsync($"edgeforge: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (CommandFailedException e)
        {
            await error.WriteLineAsync($"edgeforge: {e.Message}");
            await WriteDebugDetailAsync(error, e);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("edgeforge: cancelled");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"edgeforge: {e.Message}");
            await WriteDebugDetailAsync(error, e);
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            await error.WriteLineAsync($"edgeforge: internal error: {e.GetType().Name}: {e.Message}");
            await error.WriteLineAsync("This is a bug in edgeforge; rerun with EDGEFORGE_DEBUG=1 for details and report it.");
            await WriteDebugDetailAsync(error, e);
            return ExitCodes.Failure;
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
