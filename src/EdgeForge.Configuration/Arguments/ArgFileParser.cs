using System.Text;
using System.Text.RegularExpressions;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Arguments;

/// <summary>One <c>KEY=VALUE</c> line of a <c>.arg</c> file, after quote removal and variable expansion.</summary>
public sealed record ArgAssignment(string Key, string Value, int Line);

/// <summary>
/// Reads a CanvOS <c>.arg</c> file: dotenv-style <c>KEY=VALUE</c> lines as Earthly reads them.
/// </summary>
/// <remarks>
/// Rules: blank lines and lines starting with <c>#</c> are ignored; CRLF is accepted; an optional leading
/// <c>export</c> is allowed; values may be unquoted (an inline comment starts at a <c>#</c> preceded by white space),
/// double-quoted (escapes <c>\" \\ \n \t \$</c>, variables expanded) or single-quoted (literal). <c>$NAME</c>,
/// <c>${NAME}</c> and <c>${NAME:-default}</c> expand to, in order: the value the command line or environment forces
/// for NAME, the value of an earlier key of the file, the environment variable NAME, else the default or empty.
/// </remarks>
public static partial class ArgFileParser
{
    public static IReadOnlyList<ArgAssignment> Parse(
        string fileName,
        string text,
        Func<string, string?> forcedValue,
        Func<string, string?> environment,
        DiagnosticBag diagnostics)
    {
        var result = new List<ArgAssignment>();
        var earlier = new Dictionary<string, ArgAssignment>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var lineNumber = index + 1;
            var line = lines[index].TrimEnd('\r');
            var trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }

            if (trimmed.StartsWith("export ", StringComparison.Ordinal) || trimmed.StartsWith("export\t", StringComparison.Ordinal))
            {
                trimmed = trimmed[7..].TrimStart();
            }

            var equals = trimmed.IndexOf('=');
            if (equals < 0)
            {
                // The line is never quoted: a .arg that is really another file (a link to a secret) must not be echoed.
                diagnostics.Error(fileName, "expected KEY=VALUE, found a line without '='", lineNumber,
                    hint: "every line is KEY=VALUE, a comment starting with #, or blank");
                continue;
            }

            var key = trimmed[..equals].Trim();
            if (!KeyPattern().IsMatch(key))
            {
                diagnostics.Error(fileName, $"the text before '=' is not a valid key name ({KeyProblem(key)})", lineNumber,
                    hint: "keys are letters, digits and underscores, not starting with a digit (e.g. K8S_VERSION)");
                continue;
            }

            string? Lookup(string name) =>
                forcedValue(name) ?? (earlier.TryGetValue(name, out var previous) ? previous.Value : environment(name));

            var value = ParseValue(fileName, key, trimmed[(equals + 1)..], lineNumber, Lookup, diagnostics);
            if (value is null)
            {
                continue;
            }

            if (earlier.TryGetValue(key, out var first))
            {
                diagnostics.Warning(fileName, $"set again (first on line {first.Line}); the last value wins", lineNumber, key,
                    "remove one of the two lines");
            }

            var assignment = new ArgAssignment(key, value, lineNumber);
            earlier[key] = assignment;
            result.Add(assignment);
        }

        return result;
    }

    private static string? ParseValue(string file, string key, string raw, int line, Func<string, string?> lookup, DiagnosticBag diagnostics)
    {
        raw = raw.TrimStart();
        if (raw.StartsWith('\''))
        {
            var close = raw.IndexOf('\'', 1);
            if (close < 0)
            {
                diagnostics.Error(file, "unterminated single quote", line, key, "close the value with '");
                return null;
            }

            return CheckTrailing(file, key, raw[(close + 1)..], line, diagnostics) ? raw[1..close] : null;
        }

        if (raw.StartsWith('"'))
        {
            var builder = new StringBuilder();
            for (var i = 1; i < raw.Length; i++)
            {
                var c = raw[i];
                if (c == '\\' && i + 1 < raw.Length)
                {
                    var next = raw[++i];
                    builder.Append(next switch { 'n' => "\n", 't' => "\t", '"' => "\"", '\\' => "\\", '$' => "\\$", _ => "\\" + next });
                    continue;
                }

                if (c == '"')
                {
                    var expanded = Expand(file, key, builder.ToString(), line, lookup, diagnostics);
                    return CheckTrailing(file, key, raw[(i + 1)..], line, diagnostics) ? expanded : null;
                }

                builder.Append(c);
            }

            diagnostics.Error(file, "unterminated double quote", line, key, "close the value with \"");
            return null;
        }

        var comment = InlineComment().Match(raw);
        var value = (comment.Success ? raw[..comment.Index] : raw).TrimEnd();
        return Expand(file, key, value, line, lookup, diagnostics);
    }

    private static bool CheckTrailing(string file, string key, string trailing, int line, DiagnosticBag diagnostics)
    {
        var rest = trailing.Trim();
        if (rest.Length == 0 || rest.StartsWith('#'))
        {
            return true;
        }

        diagnostics.Error(file, $"unexpected text after the closing quote ({rest.Length} characters)", line, key,
            "put the whole value inside the quotes, or start a comment with #");
        return false;
    }

    /// <summary>Expands <c>$NAME</c>, <c>${NAME}</c> and <c>${NAME:-default}</c>; <c>\$</c> and <c>$$</c> give a literal <c>$</c>.</summary>
    private static string Expand(string file, string key, string value, int line, Func<string, string?> lookup, DiagnosticBag diagnostics)
    {
        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && i + 1 < value.Length && value[i + 1] == '$')
            {
                builder.Append('$');
                i++;
                continue;
            }

            if (c != '$' || i + 1 >= value.Length)
            {
                builder.Append(c);
                continue;
            }

            if (value[i + 1] == '$')
            {
                builder.Append('$');
                i++;
                continue;
            }

            string name;
            string? fallback = null;
            if (value[i + 1] == '{')
            {
                var close = value.IndexOf('}', i + 2);
                if (close < 0)
                {
                    diagnostics.Error(file, "unterminated ${…} reference", line, key, "close it with }");
                    return value;
                }

                var inner = value[(i + 2)..close];
                var defaultAt = inner.IndexOf(":-", StringComparison.Ordinal);
                (name, fallback) = defaultAt >= 0 ? (inner[..defaultAt], inner[(defaultAt + 2)..]) : (inner, null);
                if (!KeyPattern().IsMatch(name))
                {
                    diagnostics.Error(file, "the ${…} here is not a variable reference (a name is letters, digits and '_', not starting with a digit)", line, key,
                        "use ${NAME} or ${NAME:-default}");
                    return value;
                }

                i = close;
            }
            else
            {
                var match = NameAtStart().Match(value, i + 1);
                if (!match.Success)
                {
                    builder.Append(c);
                    continue;
                }

                name = match.Value;
                i += name.Length;
            }

            var resolved = lookup(name);
            if (string.IsNullOrEmpty(resolved) && fallback is not null)
            {
                resolved = fallback;
            }

            if (resolved is null)
            {
                diagnostics.Warning(file, $"${name} is not set earlier in the file nor in the environment; it expands to nothing", line, key,
                    $"define {name} above this line or export it");
            }

            builder.Append(resolved);
        }

        return builder.ToString();
    }

    /// <summary>What is wrong with a key, without quoting it (it may be any text at all).</summary>
    private static string KeyProblem(string key) =>
        key.Length == 0 ? "it is empty"
        : char.IsAsciiDigit(key[0]) ? "it starts with a digit"
        : key.Any(char.IsWhiteSpace) ? "it contains white space"
        : $"it contains a character other than letters, digits and '_' at position {key.TakeWhile(c => char.IsAsciiLetterOrDigit(c) || c == '_').Count() + 1}";

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"\G[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex NameAtStart();

    [GeneratedRegex(@"\s#")]
    private static partial Regex InlineComment();
}
