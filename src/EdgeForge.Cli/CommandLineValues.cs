namespace EdgeForge.Cli;

/// <summary>
/// Text given on the command line, parsed by the library type it names (a platform, an image location, a
/// credential): a value that does not parse is invalid input naming the option. The one place commands turn a
/// parser's <see cref="FormatException"/> into a message; every other exception goes to <see cref="ErrorMapping"/>.
/// </summary>
internal static class CommandLineValues
{
    public static T Parse<T>(string option, string text, Func<string, T> parse, string? expected = null)
    {
        try
        {
            return parse(text);
        }
        catch (FormatException e)
        {
            // With `expected` the parser's own words (which may quote the value, e.g. a password) are not repeated.
            throw new InvalidInputException($"{option}: {expected ?? e.Message}");
        }
    }
}
