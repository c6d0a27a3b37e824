using System.Globalization;
using System.Text;

namespace EdgeForge.Oci.Registry;

/// <summary>A value of the TOML subset registries.conf uses, with the line it starts on (for error messages).</summary>
internal abstract record TomlValue(int Line)
{
    /// <summary>The TOML type name, as a message to the user says it.</summary>
    public abstract string Kind { get; }
}

internal sealed record TomlString(string Value, int Line) : TomlValue(Line)
{
    public override string Kind => "a string";
}

internal sealed record TomlBoolean(bool Value, int Line) : TomlValue(Line)
{
    public override string Kind => "a boolean";
}

internal sealed record TomlStringArray(IReadOnlyList<string> Values, int Line) : TomlValue(Line)
{
    public override string Kind => "an array of strings";
}

internal sealed record TomlTableArray(List<TomlTable> Tables, int Line) : TomlValue(Line)
{
    public override string Kind => "an array of tables";
}

/// <summary>A table; keys keep the order they were written in.</summary>
internal sealed record TomlTable(int Line) : TomlValue(Line)
{
    private readonly Dictionary<string, TomlValue> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public override string Kind => "a table";

    /// <summary>Whether a <c>[header]</c> named this table (TOML 1.0 "Table": each table is defined only once).</summary>
    public bool DefinedByHeader { get; set; }

    public IEnumerable<KeyValuePair<string, TomlValue>> Entries => _order.Select(k => new KeyValuePair<string, TomlValue>(k, _entries[k]));

    public bool TryGet(string key, out TomlValue value) => _entries.TryGetValue(key, out value!);

    public void Add(string key, TomlValue value)
    {
        _entries.Add(key, value);
        _order.Add(key);
    }
}

/// <summary>
/// A reader of the part of TOML 1.0 (https://toml.io/en/v1.0.0) that containers-registries.conf(5) files use:
/// comments; <c>[table]</c> and <c>[[array.of.tables]]</c> headers with bare or quoted dotted names; one-line
/// <c>key = value</c> pairs with a bare or quoted key; values that are basic strings (with the spec's escapes),
/// literal strings, booleans, or arrays of such strings (over several lines, with comments and a trailing comma).
/// Everything else TOML allows — multi-line strings, numbers, dates, inline tables, dotted keys — is refused with an
/// error naming the line, never guessed at: registries.conf has no key of those types, so meeting one means the file
/// is not what it claims to be.
/// </summary>
internal sealed class RegistriesTomlReader
{
    private readonly string _text;
    private readonly string _file;
    private int _position;
    private int _line = 1;

    private RegistriesTomlReader(string text, string file)
    {
        _text = text;
        _file = file;
    }

    public static TomlTable Parse(string text, string file) => new RegistriesTomlReader(text, file).ParseDocument();

    private TomlTable ParseDocument()
    {
        var root = new TomlTable(1);
        var current = root;
        // A UTF-8 byte order mark is not TOML, but editors write it; File.ReadAllText keeps it as U+FEFF.
        if (_text.StartsWith('\uFEFF'))
        {
            _position = 1;
        }

        while (!AtEnd)
        {
            SkipWhitespace();
            if (AtEnd)
            {
                break;
            }

            var c = Peek;
            if (c == '#' || c == '\n' || c == '\r')
            {
                EndOfLine();
                continue;
            }

            if (c == '[')
            {
                current = ParseHeader(root);
            }
            else
            {
                ParseKeyValue(current);
            }

            EndOfLine();
        }

        return root;
    }

    private TomlTable ParseHeader(TomlTable root)
    {
        var line = _line;
        _position++;
        var isArray = !AtEnd && Peek == '[';
        if (isArray)
        {
            _position++;
        }

        var path = new List<string>();
        while (true)
        {
            SkipWhitespace();
            path.Add(ParseKey("a table name"));
            SkipWhitespace();
            if (!AtEnd && Peek == '.')
            {
                _position++;
                continue;
            }

            break;
        }

        var close = isArray ? "]]" : "]";
        if (!_text.AsSpan(_position).StartsWith(close, StringComparison.Ordinal))
        {
            throw Error(line, $"table header [{(isArray ? "[" : "")}{string.Join('.', path)} is not closed with {close}", $"end the line with {close}");
        }

        _position += close.Length;
        var name = string.Join('.', path);
        var table = root;
        // TOML 1.0 "Array of Tables": in [[a.b]] or [a.b], a name that is an array of tables means its last table.
        foreach (var part in path.SkipLast(1))
        {
            if (!table.TryGet(part, out var existing))
            {
                var implicitTable = new TomlTable(line);
                table.Add(part, implicitTable);
                table = implicitTable;
            }
            else if (existing is TomlTable t)
            {
                table = t;
            }
            else if (existing is TomlTableArray array)
            {
                table = array.Tables[^1];
            }
            else
            {
                throw Error(line, $"[{name}]: \"{part}\" is {existing.Kind} (line {existing.Line}), not a table", $"rename the key on line {existing.Line} or the table");
            }
        }

        var last = path[^1];
        if (isArray)
        {
            var element = new TomlTable(line) { DefinedByHeader = true };
            if (!table.TryGet(last, out var existing))
            {
                table.Add(last, new TomlTableArray([element], line));
            }
            else if (existing is TomlTableArray array)
            {
                array.Tables.Add(element);
            }
            else
            {
                throw Error(line, $"[[{name}]]: \"{last}\" is already {existing.Kind} (line {existing.Line})", $"write [{name}] tables or [[{name}]] tables, not both");
            }

            return element;
        }

        if (!table.TryGet(last, out var defined))
        {
            var created = new TomlTable(line) { DefinedByHeader = true };
            table.Add(last, created);
            return created;
        }

        if (defined is TomlTable { DefinedByHeader: false } implicitlyCreated)
        {
            // [a.b] first, then [a]: allowed once (TOML 1.0 "Table": super-tables may be defined after).
            implicitlyCreated.DefinedByHeader = true;
            return implicitlyCreated;
        }

        throw Error(line, $"[{name}] is defined twice (first as {defined.Kind} on line {defined.Line})", "merge the two into one table");
    }

    private void ParseKeyValue(TomlTable table)
    {
        var line = _line;
        var key = ParseKey("a key");
        SkipWhitespace();
        if (!AtEnd && Peek == '.')
        {
            throw Error(line, $"dotted key \"{key}.…\" is not supported by edgeforge's registries.conf reader", $"write it under a [{key}] table header instead");
        }

        if (AtEnd || Peek != '=')
        {
            throw Error(line, $"expected '=' after the key \"{key}\"", "write key = \"value\"");
        }

        _position++;
        SkipWhitespace();
        var value = ParseValue(key);
        if (table.TryGet(key, out var existing))
        {
            throw Error(line, $"\"{key}\" is set twice in the same table (first on line {existing.Line})", "keep one of them");
        }

        table.Add(key, value);
    }

    private string ParseKey(string what)
    {
        if (AtEnd || Peek is '\n' or '\r')
        {
            throw Error(_line, $"expected {what}", "write a bare key (letters, digits, '-', '_') or a quoted one");
        }

        if (Peek == '"')
        {
            return ParseBasicString();
        }

        if (Peek == '\'')
        {
            return ParseLiteralString();
        }

        var start = _position;
        while (!AtEnd && (char.IsAsciiLetterOrDigit(Peek) || Peek is '-' or '_'))
        {
            _position++;
        }

        if (_position == start)
        {
            throw Error(_line, $"'{Printable(Peek)}' cannot start {what}", "bare keys are letters, digits, '-' and '_'; quote anything else");
        }

        return _text[start.._position];
    }

    private TomlValue ParseValue(string key)
    {
        var line = _line;
        if (AtEnd || Peek is '\n' or '\r' or '#')
        {
            throw Error(line, $"\"{key}\" has no value", "write key = \"value\", true/false or [\"a\", \"b\"]");
        }

        switch (Peek)
        {
            case '"':
            case '\'':
                return new TomlString(ParseString(key), line);
            case '[':
                return ParseArray(key, line);
            case '{':
                throw Error(line, $"\"{key}\": inline tables are not supported by edgeforge's registries.conf reader", $"write the table as a [{key}] or [[…{key}]] header with one key per line");
        }

        var start = _position;
        while (!AtEnd && !IsValueDelimiter(Peek))
        {
            _position++;
        }

        var word = _text[start.._position];
        switch (word)
        {
            case "true":
                return new TomlBoolean(true, line);
            case "false":
                return new TomlBoolean(false, line);
        }

        if (word.Length > 0 && (char.IsAsciiDigit(word[0]) || word[0] is '+' or '-' || word is "inf" or "nan"))
        {
            throw Error(line, $"\"{key}\" = {word}: numbers and dates are not used by registries.conf", "registries.conf values are strings, true/false or arrays of strings");
        }

        throw Error(line, $"\"{key}\" = {word}: not a TOML value", $"quote strings: {key} = \"{word}\"");
    }

    private static bool IsValueDelimiter(char c) => c is ' ' or '\t' or '\n' or '\r' or '#' or ',' or ']';

    private TomlStringArray ParseArray(string key, int line)
    {
        _position++;
        var values = new List<string>();
        while (true)
        {
            SkipWhitespaceCommentsAndNewlines(line);
            if (AtEnd)
            {
                throw Error(line, $"the array of \"{key}\" is not closed", "end it with ]");
            }

            if (Peek == ']')
            {
                _position++;
                return new TomlStringArray(values, line);
            }

            if (Peek is not ('"' or '\''))
            {
                throw Error(_line, $"\"{key}\": only arrays of quoted strings are supported in registries.conf", "quote each element: [\"a\", \"b\"]");
            }

            values.Add(ParseString(key));
            SkipWhitespaceCommentsAndNewlines(line);
            if (AtEnd)
            {
                throw Error(line, $"the array of \"{key}\" is not closed", "end it with ]");
            }

            if (Peek == ',')
            {
                _position++;
            }
            else if (Peek != ']')
            {
                throw Error(_line, $"\"{key}\": expected ',' or ']' after an array element, found '{Printable(Peek)}'", "separate elements with commas");
            }
        }
    }

    private string ParseString(string key)
    {
        // TOML 1.0 "String": three quotes open a multi-line string; registries.conf never needs one.
        if (_text.AsSpan(_position).StartsWith("\"\"\"", StringComparison.Ordinal) || _text.AsSpan(_position).StartsWith("'''", StringComparison.Ordinal))
        {
            throw Error(_line, $"\"{key}\": multi-line strings are not supported by edgeforge's registries.conf reader", "write the value on one line in \"…\"");
        }

        return Peek == '"' ? ParseBasicString() : ParseLiteralString();
    }

    /// <summary>A basic string: TOML 1.0 "Basic strings" with the escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX.</summary>
    private string ParseBasicString()
    {
        var line = _line;
        _position++;
        var value = new StringBuilder();
        while (true)
        {
            if (AtEnd || Peek is '\n' or '\r')
            {
                throw Error(line, "unterminated string", "close it with \" on the same line");
            }

            var c = _text[_position++];
            if (c == '"')
            {
                return value.ToString();
            }

            if (c == '\\')
            {
                value.Append(ParseEscape(line));
                continue;
            }

            if (IsForbiddenControl(c))
            {
                throw Error(line, $"control character U+{(int)c:X4} inside a string", "write it as a \\uXXXX escape");
            }

            value.Append(c);
        }
    }

    private string ParseEscape(int line)
    {
        if (AtEnd)
        {
            throw Error(line, "unterminated string", "close it with \" on the same line");
        }

        var e = _text[_position++];
        switch (e)
        {
            case 'b': return "\b";
            case 't': return "\t";
            case 'n': return "\n";
            case 'f': return "\f";
            case 'r': return "\r";
            case '"': return "\"";
            case '\\': return "\\";
            case 'u':
            case 'U':
                var digits = e == 'u' ? 4 : 8;
                if (_position + digits > _text.Length
                    || !uint.TryParse(_text.AsSpan(_position, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var scalar))
                {
                    throw Error(line, $"\\{e} must be followed by {digits} hexadecimal digits", $"write \\{e}{new string('0', digits - 2)}41 for 'A'");
                }

                _position += digits;
                // TOML 1.0: "Any Unicode character may be escaped with the \uXXXX or \UXXXXXXXX forms. The escape
                // codes must be valid Unicode scalar values" — no surrogates, nothing above U+10FFFF.
                if (scalar > 0x10FFFF || scalar is >= 0xD800 and <= 0xDFFF)
                {
                    throw Error(line, $"\\{e}{scalar:X} is not a Unicode scalar value", "escape a character in U+0000–U+D7FF or U+E000–U+10FFFF");
                }

                return char.ConvertFromUtf32((int)scalar);
            default:
                throw Error(line, $"unknown escape \\{Printable(e)} in a basic string", "TOML 1.0 knows \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX; for a literal backslash write \\\\ or use 'single quotes'");
        }
    }

    /// <summary>A literal string: TOML 1.0 "Literal strings", no escapes, no single quote inside.</summary>
    private string ParseLiteralString()
    {
        var line = _line;
        _position++;
        var start = _position;
        while (true)
        {
            if (AtEnd || Peek is '\n' or '\r')
            {
                throw Error(line, "unterminated literal string", "close it with ' on the same line");
            }

            var c = _text[_position];
            if (c == '\'')
            {
                var value = _text[start.._position];
                _position++;
                return value;
            }

            if (IsForbiddenControl(c))
            {
                throw Error(line, $"control character U+{(int)c:X4} inside a string", "remove it, or use a \"basic string\" with a \\uXXXX escape");
            }

            _position++;
        }
    }

    /// <summary>After a header or a key/value pair: optional whitespace and comment, then a newline or the end.</summary>
    private void EndOfLine()
    {
        SkipWhitespace();
        if (!AtEnd && Peek == '#')
        {
            SkipComment();
        }

        if (AtEnd)
        {
            return;
        }

        if (Peek == '\n')
        {
            _position++;
            _line++;
            return;
        }

        if (Peek == '\r' && _position + 1 < _text.Length && _text[_position + 1] == '\n')
        {
            _position += 2;
            _line++;
            return;
        }

        if (Peek == '\r')
        {
            throw Error(_line, "a carriage return not followed by a line feed", "save the file with LF or CRLF line ends");
        }

        throw Error(_line, $"unexpected '{Printable(Peek)}' after the value", "put one key = value or [table] per line; start comments with #");
    }

    private void SkipComment()
    {
        // TOML 1.0 "Comment": control characters other than tab are not permitted in comments.
        while (!AtEnd && Peek is not ('\n' or '\r'))
        {
            if (IsForbiddenControl(Peek))
            {
                throw Error(_line, $"control character U+{(int)Peek:X4} inside a comment", "remove it");
            }

            _position++;
        }
    }

    private void SkipWhitespaceCommentsAndNewlines(int arrayLine)
    {
        while (!AtEnd)
        {
            SkipWhitespace();
            if (AtEnd)
            {
                return;
            }

            if (Peek == '#')
            {
                SkipComment();
            }
            else if (Peek == '\n')
            {
                _position++;
                _line++;
            }
            else if (Peek == '\r' && _position + 1 < _text.Length && _text[_position + 1] == '\n')
            {
                _position += 2;
                _line++;
            }
            else if (Peek == '\r')
            {
                throw Error(arrayLine, "a carriage return not followed by a line feed", "save the file with LF or CRLF line ends");
            }
            else
            {
                return;
            }
        }
    }

    // TOML 1.0 "Spec": whitespace means tab (0x09) or space (0x20), nothing else.
    private void SkipWhitespace()
    {
        while (!AtEnd && Peek is ' ' or '\t')
        {
            _position++;
        }
    }

    private static bool IsForbiddenControl(char c) => c is (< ' ' and not '\t') or '\u007F';

    private static string Printable(char c) => char.IsControl(c) ? $"U+{(int)c:X4}" : c.ToString();

    private bool AtEnd => _position >= _text.Length;

    private char Peek => _text[_position];

    private RegistriesConfigurationException Error(int line, string problem, string fix) => new(_file, line, problem, fix);
}
