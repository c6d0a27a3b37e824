using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EdgeForge.Configuration.UserData;

/// <summary>What validation learned about a user-data file, for the plan (never a secret value).</summary>
public sealed record UserDataSummary(string ManagementMode, bool HasRegistrationToken, string? PaletteEndpoint, IReadOnlyList<string> Stages);

/// <summary>
/// Validates installer user data (EDGEFORGE.md §7): the <c>#cloud-config</c> header, YAML syntax with line and
/// column, and the schema with the path, line and fix of every problem. Values of secret fields are never printed.
/// </summary>
public sealed partial class UserDataValidator
{
    private readonly string _fileName;
    private readonly DiagnosticBag _diagnostics;
    private string[] _lines = [];

    private UserDataValidator(string fileName, DiagnosticBag diagnostics)
    {
        _fileName = fileName;
        _diagnostics = diagnostics;
    }

    /// <summary>Checks <paramref name="text"/>; returns a summary, or null when the YAML could not be read at all.</summary>
    public static UserDataSummary? Validate(string fileName, string text, DiagnosticBag diagnostics) =>
        new UserDataValidator(fileName, diagnostics).Run(text);

    private UserDataSummary? Run(string text)
    {
        _lines = text.Split('\n');
        var firstLine = _lines[0].TrimEnd('\r').TrimEnd();
        if (firstLine != "#cloud-config")
        {
            // What the line holds is described, never quoted: the file may be a link to something that is not user data.
            var found = firstLine.Length == 0 ? "it is empty"
                : firstLine.Contains("cloud", StringComparison.OrdinalIgnoreCase) && firstLine.StartsWith('#') ? "it is spelt differently (case, spaces or '_')"
                : "it holds something else";
            _diagnostics.Error(_fileName, $"the first line must be '#cloud-config'; {found}", 1,
                hint: "make '#cloud-config' the very first line, exactly so; without it the installer ignores the file");
        }

        if (text.Contains('\t'))
        {
            var line = text[..text.IndexOf('\t')].Count(c => c == '\n') + 1;
            var inIndent = text.Split('\n')[line - 1].TrimStart(' ').StartsWith('\t');
            if (inIndent)
            {
                _diagnostics.Error(_fileName, "a tab character is used for indentation", line, hint: "YAML indentation must use spaces");
                return null;
            }
        }

        var stream = YamlLoader.Load(_fileName, text, _diagnostics, "check the indentation and the ':' after each key at this line or the one before");
        if (stream is null)
        {
            return null;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            _diagnostics.Warning(_fileName, "is empty: the installer will run without configuration", 1);
            return new UserDataSummary("central", false, null, []);
        }

        if (stream.Documents.Count > 1)
        {
            _diagnostics.Error(_fileName, "holds several YAML documents", (int)stream.Documents[1].RootNode.Start.Line,
                hint: "remove the '---' separator; the installer reads one document");
        }

        var root = stream.Documents[0].RootNode;
        Check(root, UserDataSchema.Root, "");
        return Summarise(root);
    }

    private void Check(YamlNode node, SchemaNode schema, string path)
    {
        if (schema is StringSchema or BooleanSchema or IntegerSchema && GuidePlaceholder(node) is { } placeholder)
        {
            ReportPlaceholder(node, schema, path, placeholder);
            return;
        }

        switch (schema)
        {
            case AnySchema:
                return;
            case ObjectSchema objectSchema:
                CheckObject(node, objectSchema, path);
                return;
            case MapSchema map:
                CheckMap(node, map, path);
                return;
            case ArraySchema array:
                CheckArray(node, array, path);
                return;
            case StringSchema text:
                CheckString(node, text, path);
                return;
            case BooleanSchema:
                CheckScalar(node, path, "a boolean (true or false)", YamlScalars.IsBoolean, "write true or false");
                return;
            case IntegerSchema integer:
                CheckInteger(node, integer, path);
                return;
        }
    }

    private void CheckObject(YamlNode node, ObjectSchema schema, string path)
    {
        if (node is not YamlMappingNode mapping)
        {
            TypeError(node, path, "a mapping of keys");
            return;
        }

        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            var childPath = Join(path, key);
            if (schema.Properties.TryGetValue(key, out var childSchema))
            {
                Check(value, childSchema, childPath);
                continue;
            }

            // A near miss (projectname for projectName) is an error, as .arg typos are: as written the setting is lost.
            if (NearestName.Find(key, schema.Properties.Keys) is { } suggestion)
            {
                Error(keyNode, childPath, $"unknown key; did you mean {suggestion}?", $"rename it to {suggestion}: as written the installer ignores it");
            }
            else
            {
                Warn(keyNode, childPath, "unknown key, ignored by the installer", null);
            }
        }

        schema.Rules?.Invoke(new ObjectCheck(path, mapping,
            (p, n, m, h) => Error(n, p, m, h),
            (p, n, m, h) => Warn(n, p, m, h)));
    }

    private void CheckMap(YamlNode node, MapSchema schema, string path)
    {
        if (node is not YamlMappingNode mapping)
        {
            TypeError(node, path, "a mapping");
            return;
        }

        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            var childPath = Join(path, key);
            if (schema.KeyPattern is not null && !schema.KeyPattern.IsMatch(key))
            {
                Error(keyNode, childPath, GuidePlaceholder(keyNode) is { } placeholder
                    ? $"'{placeholder}' is still the guide's placeholder for a name here"
                    : $"'{Shorten(key)}' is not a valid name here", schema.KeyHint);
            }
            else if (schema.KnownKeys is not null && !schema.KnownKeys.Contains(key))
            {
                if (NearestName.Find(key, schema.KnownKeys) is { } suggestion)
                {
                    Error(keyNode, childPath, $"unknown name; did you mean {suggestion}?", $"rename it to {suggestion}: as written it never runs");
                }
                else
                {
                    Warn(keyNode, childPath, "unknown name, never run", schema.KeyHint);
                }
            }

            Check(value, schema.Values, childPath);
        }
    }

    private void CheckArray(YamlNode node, ArraySchema schema, string path)
    {
        if (node is YamlSequenceNode sequence)
        {
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                Check(sequence.Children[i], schema.Items, $"{path}[{i}]");
            }

            return;
        }

        if (schema.AcceptSingleItem && node is YamlScalarNode scalar && !YamlScalars.IsNull(scalar))
        {
            Check(node, schema.Items, path);
            return;
        }

        TypeError(node, path, "a list");
    }

    private void CheckString(YamlNode node, StringSchema schema, string path)
    {
        if (node is not YamlScalarNode scalar || YamlScalars.IsNull(scalar))
        {
            TypeError(node, path, "a string");
            return;
        }

        var value = scalar.Value ?? "";
        if (!schema.AcceptScalars && scalar.Style == ScalarStyle.Plain && (YamlScalars.IsBoolean(value) || YamlScalars.IsInteger(value)))
        {
            Error(node, path, $"expected a string, got {(YamlScalars.IsBoolean(value) ? "a boolean" : "a number")}", "quote the value");
            return;
        }

        // Secret values are never shown, not even in part.
        var shown = schema.Secret ? "the value" : $"'{Shorten(value)}'";
        if (schema.Enum is not null && !schema.Enum.Contains(value))
        {
            var suggestion = NearestName.Find(value, schema.Enum);
            Error(node, path, $"{shown} is not one of {string.Join(", ", schema.Enum)}", suggestion is null ? null : $"did you mean {suggestion}?");
        }
        else if (schema.Pattern is not null && !schema.Pattern.IsMatch(value))
        {
            Error(node, path, $"{shown} is not valid here", schema.PatternHint);
        }
        else if (schema.Check?.Invoke(value) is { } problem)
        {
            Error(node, path, schema.Secret ? "the value " + problem : problem, schema.PatternHint);
        }

        if (schema.Secret && scalar.Style == ScalarStyle.Plain && value.StartsWith('$') && !CryptHashPattern().IsMatch(value))
        {
            Warn(node, path, "looks like an unexpanded shell variable", "the heredoc or script that wrote this file did not substitute it");
        }
        else if (schema.Secret && PlaceholderPattern().IsMatch(value))
        {
            Warn(node, path, "looks like a placeholder", "replace it with the real value before building for a site");
        }
    }

    private void CheckInteger(YamlNode node, IntegerSchema schema, string path)
    {
        if (!CheckScalar(node, path, "a whole number", YamlScalars.IsInteger, "write digits only, without quotes"))
        {
            return;
        }

        var value = long.Parse(((YamlScalarNode)node).Value!, System.Globalization.CultureInfo.InvariantCulture);
        if (value < schema.Minimum || value > schema.Maximum)
        {
            Error(node, path, $"{value} is out of range", $"use a number from {schema.Minimum} to {schema.Maximum}");
        }
    }

    private bool CheckScalar(YamlNode node, string path, string expected, Func<string, bool> accepts, string hint)
    {
        if (node is YamlScalarNode scalar && !YamlScalars.IsNull(scalar) && scalar.Style == ScalarStyle.Plain && accepts(scalar.Value!))
        {
            return true;
        }

        if (node is YamlScalarNode { Style: not ScalarStyle.Plain } quoted && accepts(quoted.Value ?? ""))
        {
            Error(node, path, $"expected {expected}, got a quoted string", "remove the quotes");
            return false;
        }

        TypeError(node, path, expected, hint);
        return false;
    }

    /// <summary>
    /// The placeholders the Palette and CanvOS guides write where a value goes — <c>&lt;interface-name&gt;</c>,
    /// <c>[your_token_here]</c> (a one-item list to YAML), <c>$token</c> (a heredoc that substituted nothing) and
    /// <c>####</c> (a comment to YAML, so the value is empty) — as written in the file; null for a real value. They are
    /// shown in messages even for secret fields: they are the guide's text, not a secret.
    /// </summary>
    private string? GuidePlaceholder(YamlNode node)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { Length: > 0 } value } when AngleOrBracketPlaceholder().IsMatch(value):
                return value;
            case YamlScalarNode { Style: ScalarStyle.Plain, Value: { } value } when ShellVariablePlaceholder().IsMatch(value):
                return value;
            case YamlScalarNode scalar when YamlScalars.IsNull(scalar) && (scalar.Value ?? "").Length == 0:
                // An empty value: the guide's '####' is then what follows on the line, read by YAML as a comment.
                var line = (int)scalar.Start.Line - 1;
                if (line >= 0 && line < _lines.Length)
                {
                    var rest = _lines[line].TrimEnd('\r');
                    var match = HashPlaceholder().Match(rest);
                    return match.Success ? match.Groups[match.Groups[1].Success ? 1 : 2].Value : null;
                }

                return null;
            case YamlSequenceNode { Style: YamlDotNet.Core.Events.SequenceStyle.Flow, Children: [YamlScalarNode { Style: ScalarStyle.Plain, Value: { } word }] }
                when PlaceholderWord().IsMatch(word):
                return $"[{word}]";
            default:
                return null;
        }
    }

    /// <summary>
    /// A placeholder the schema would take as a value (a token still reading &lt;registration-token&gt;) is a warning,
    /// so a freshly scaffolded project validates; one that makes the value wrong (a list, an empty value, a name that
    /// must be a host or a number) is an error. Either way the message names the placeholder.
    /// </summary>
    private void ReportPlaceholder(YamlNode node, SchemaNode schema, string path, string placeholder)
    {
        var acceptedAsValue = schema is StringSchema { Enum: null, Pattern: null, Check: null } && node is YamlScalarNode scalar && !YamlScalars.IsNull(scalar);
        if (acceptedAsValue)
        {
            Warn(node, path, $"looks like a placeholder: '{placeholder}' is still the guide's placeholder text", placeholder.StartsWith('$')
                ? "the heredoc or script that wrote this file did not substitute it; write the real value"
                : "replace it with the real value before building for a site");
            return;
        }

        var expected = schema switch { BooleanSchema => "a boolean", IntegerSchema => "a whole number", _ => "a string" };
        var reading = node switch
        {
            YamlSequenceNode => "YAML reads [...] as a list",
            YamlScalarNode empty when YamlScalars.IsNull(empty) => "'#' starts a comment in YAML, so the value is empty",
            _ => "it is not a value",
        };
        Error(node, path, $"expected {expected}, got {Describe(node)}: '{placeholder}' is still the guide's placeholder ({reading})",
            "replace it with the real value (quote values that contain '#')");
    }

    private void TypeError(YamlNode node, string path, string expected, string? hint = null) =>
        Error(node, path, $"expected {expected}, got {Describe(node)}", hint ?? HintFor(node));

    private static string? HintFor(YamlNode node) => node is YamlScalarNode scalar && YamlScalars.IsNull(scalar)
        ? "the value is empty — note that '#' starts a comment in YAML, so quote values containing '#'"
        : null;

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode scalar when YamlScalars.IsNull(scalar) => "null",
        YamlScalarNode { Style: ScalarStyle.Plain, Value: { } v } when YamlScalars.IsBoolean(v) => "a boolean",
        YamlScalarNode { Style: ScalarStyle.Plain, Value: { } v } when YamlScalars.IsInteger(v) => "a number",
        YamlScalarNode => "a string",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "an alias",
    };

    private void Error(YamlNode node, string path, string message, string? hint) =>
        _diagnostics.Error(_fileName, message, (int)node.Start.Line, path, hint, (int)node.Start.Column);

    private void Warn(YamlNode node, string path, string message, string? hint) =>
        _diagnostics.Warning(_fileName, message, (int)node.Start.Line, path, hint, (int)node.Start.Column);

    private static UserDataSummary Summarise(YamlNode root)
    {
        string? At(params string[] path)
        {
            YamlNode? node = root;
            foreach (var key in path)
            {
                node = node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;
            }

            return node is YamlScalarNode scalar && !YamlScalars.IsNull(scalar) ? scalar.Value : null;
        }

        var stages = root is YamlMappingNode rootMap && rootMap.Children.TryGetValue(new YamlScalarNode("stages"), out var s) && s is YamlMappingNode stageMap
            ? stageMap.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList()
            : [];
        return new UserDataSummary(
            At("stylus", "managementMode") ?? "central",
            At("stylus", "site", "edgeHostToken") is not null,
            At("stylus", "site", "paletteEndpoint"),
            stages);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(<.*>|\[.*\]|REPLACE.*|CHANGE.?ME|x{4,}|\*{4,})$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex PlaceholderPattern();

    /// <summary>Placeholder text is words (<c>your_token_here</c>, <c>interface-name</c>) or one word in one case; a random token is neither, and is never shown.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^(<|\[)(([A-Za-z]+[_ -])+[A-Za-z]+|[a-z]+|[A-Z]+)(>|\])$")]
    private static partial System.Text.RegularExpressions.Regex AngleOrBracketPlaceholder();

    [System.Text.RegularExpressions.GeneratedRegex(@"^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$")]
    private static partial System.Text.RegularExpressions.Regex ShellVariablePlaceholder();

    [System.Text.RegularExpressions.GeneratedRegex(@":\s+(#{3,})\s*$|^\s*-\s+(#{3,})\s*$")]
    private static partial System.Text.RegularExpressions.Regex HashPlaceholder();

    [System.Text.RegularExpressions.GeneratedRegex(@"^(([A-Za-z]+[_ -])+[A-Za-z]+|[a-z]+|[A-Z]+)$")]
    private static partial System.Text.RegularExpressions.Regex PlaceholderWord();

    /// <summary>crypt(3) hashes (<c>$6$salt$hash</c>) are what passwd fields hold; they start with '$' and are no shell variable.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^\$[0-9a-z]+\$")]
    private static partial System.Text.RegularExpressions.Regex CryptHashPattern();

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

}
