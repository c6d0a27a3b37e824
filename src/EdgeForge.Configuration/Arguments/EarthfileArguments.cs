using System.Text.RegularExpressions;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Arguments;

/// <summary>
/// One global <c>ARG NAME=value</c> of an Earthfile: the value as written (quotes removed, <c>$NAME</c> references kept),
/// or null for a bare <c>ARG NAME</c> (declared without a default).
/// </summary>
public sealed record EarthfileArgument(string Name, string? Value, int Line);

/// <summary>
/// Reads the global <c>ARG</c> defaults of a CanvOS checkout's Earthfile, so the pins in force (agent version, base
/// image tags, provider versions) are the checkout's own, not ours (EDGEFORGE.md §5, §8).
/// </summary>
/// <remarks>
/// This is a reader, not an interpreter: nothing is executed. It takes the lines before the first target (a line
/// <c>name:</c> at column 0) and keeps only <c>ARG</c> commands at nesting depth 0. <c>VERSION</c>, <c>FROM</c>,
/// <c>LET</c>, <c>SET</c>, <c>RUN</c>, comments and every other command are skipped; so are the bodies of
/// <c>IF</c>/<c>FOR</c>/<c>WAIT</c>/<c>TRY</c>/<c>WITH</c> blocks, nested or not, because an <c>ARG</c> inside a
/// conditional depends on values only a build knows (CanvOS's base image formula is such a block: EdgeForge implements
/// it as code, see <c>UpstreamSources</c>). Lines ending in <c>\</c> continue on the next line, as in Earthly. What the
/// reader must understand and cannot — an <c>ARG</c> without a valid name, an unbalanced <c>END</c> — is an error at
/// <c>Earthfile:line</c>.
/// </remarks>
public static partial class EarthfileArguments
{
    public const string FileName = "Earthfile";

    public static IReadOnlyList<EarthfileArgument> Parse(string fileName, string text, DiagnosticBag diagnostics)
    {
        var result = new List<EarthfileArgument>();
        var depth = 0;
        var blockStarts = new Stack<int>();
        foreach (var (line, number) in LogicalLines(text))
        {
            if (TargetPattern().IsMatch(line))
            {
                break;
            }

            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }

            var keyword = KeywordPattern().Match(trimmed).Value;
            switch (keyword)
            {
                case "IF" or "FOR" or "WAIT" or "TRY" or "WITH":
                    depth++;
                    blockStarts.Push(number);
                    continue;
                case "END":
                    if (depth == 0)
                    {
                        diagnostics.Error(fileName, "END without an open IF, FOR, WAIT, TRY or WITH block", number,
                            hint: "remove the END or add the block it closes");
                        return result;
                    }

                    depth--;
                    blockStarts.Pop();
                    continue;
                case "ARG" when depth == 0:
                    if (ParseArg(fileName, trimmed, number, diagnostics) is { } argument)
                    {
                        result.Add(argument);
                    }

                    continue;
                default:
                    // VERSION, FROM, LET, SET, RUN, ELSE, FINALLY and the body of blocks: nothing to read.
                    continue;
            }
        }

        if (depth > 0)
        {
            diagnostics.Error(fileName, "block is not closed with END before the first target", blockStarts.Peek(),
                hint: "add END after the block");
        }

        return result;
    }

    private static EarthfileArgument? ParseArg(string fileName, string command, int line, DiagnosticBag diagnostics)
    {
        var rest = command[3..].Trim();

        // Earthly's ARG flags (--global, --required); a default's value never starts with "--" before the name.
        while (rest.StartsWith("--", StringComparison.Ordinal))
        {
            var end = rest.IndexOfAny([' ', '\t']);
            rest = end < 0 ? "" : rest[end..].TrimStart();
        }

        var equals = rest.IndexOf('=');
        var name = (equals < 0 ? rest : rest[..equals]).Trim();
        if (!NamePattern().IsMatch(name))
        {
            diagnostics.Error(fileName, name.Length == 0 ? "ARG without a name" : $"'{Shorten(name)}' is not a valid ARG name", line,
                hint: "write ARG NAME or ARG NAME=value (letters, digits and '_', not starting with a digit)");
            return null;
        }

        if (equals < 0)
        {
            return new EarthfileArgument(name, null, line);
        }

        var value = Unquote(rest[(equals + 1)..].Trim());
        if (value is null)
        {
            diagnostics.Error(fileName, "unterminated quote in the value", line, name, "close the quote");
            return null;
        }

        return new EarthfileArgument(name, value, line);
    }

    /// <summary>Removes shell quoting as Earthly does for ARG values: <c>"9.2.13"</c> → <c>9.2.13</c>, <c>""</c> → empty.</summary>
    private static string? Unquote(string value)
    {
        var builder = new System.Text.StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is '"' or '\'')
            {
                var close = value.IndexOf(c, i + 1);
                if (close < 0)
                {
                    return null;
                }

                builder.Append(value, i + 1, close - i - 1);
                i = close;
                continue;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Physical lines joined where a line ends in <c>\</c>, each with the number of its first line.</summary>
    private static IEnumerable<(string Text, int Number)> LogicalLines(string text)
    {
        var lines = text.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var number = index + 1;
            var line = lines[index].TrimEnd('\r');
            while (line.EndsWith('\\') && index + 1 < lines.Length)
            {
                line = line[..^1] + " " + lines[++index].TrimEnd('\r').TrimStart();
            }

            yield return (line, number);
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

    /// <summary>A target or function header: a name at column 0 followed by a colon and nothing else.</summary>
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9._-]*:\s*(#.*)?$")]
    private static partial Regex TargetPattern();

    [GeneratedRegex(@"^[A-Z]+\b")]
    private static partial Regex KeywordPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex NamePattern();
}
