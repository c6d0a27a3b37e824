using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace EdgeForge.Configuration.UserData;

/// <summary>
/// A node of the user-data schema (EDGEFORGE.md §7). A hand-written schema rather than JSON Schema: no JSON-schema
/// library is available, and hand-written rules give messages that name the key, the line and the fix.
/// </summary>
public abstract class SchemaNode
{
    public string? Description { get; init; }
}

/// <summary>A mapping with known keys; unknown keys are warnings (with the nearest known key as a suggestion).</summary>
public sealed class ObjectSchema : SchemaNode
{
    public required IReadOnlyDictionary<string, SchemaNode> Properties { get; init; }

    /// <summary>Rules between the object's keys, run after the keys themselves were checked.</summary>
    public Action<ObjectCheck>? Rules { get; init; }
}

/// <summary>A mapping whose keys are names chosen by the user (tags, interfaces, users by name).</summary>
public sealed class MapSchema : SchemaNode
{
    public required SchemaNode Values { get; init; }

    public Regex? KeyPattern { get; init; }

    public string? KeyHint { get; init; }

    /// <summary>Known keys, when the map's keys come from a fixed vocabulary (stage names): others are warnings.</summary>
    public IReadOnlyList<string>? KnownKeys { get; init; }
}

public sealed class ArraySchema : SchemaNode
{
    public required SchemaNode Items { get; init; }

    /// <summary>Whether a single item written without the list (<c>groups: admin</c>) is accepted, as yip/Kairos accept it.</summary>
    public bool AcceptSingleItem { get; init; }
}

public sealed class StringSchema : SchemaNode
{
    /// <summary>Tokens, passwords: their values are never printed.</summary>
    public bool Secret { get; init; }

    public IReadOnlyList<string>? Enum { get; init; }

    public Regex? Pattern { get; init; }

    public string? PatternHint { get; init; }

    /// <summary>Further check of the value: returns what is wrong, or null.</summary>
    public Func<string, string?>? Check { get; init; }

    /// <summary>Whether a plain number or boolean scalar is acceptable (the Go decoder turns it into a string).</summary>
    public bool AcceptScalars { get; init; } = true;
}

public sealed class BooleanSchema : SchemaNode;

public sealed class IntegerSchema : SchemaNode
{
    public long Minimum { get; init; } = long.MinValue;

    public long Maximum { get; init; } = long.MaxValue;
}

/// <summary>Anything: free-form sections the schema does not describe.</summary>
public sealed class AnySchema : SchemaNode;

/// <summary>What an object rule sees: the object's values by key, and a way to report.</summary>
public sealed class ObjectCheck(string path, YamlMappingNode node, Action<string, YamlNode, string, string?> error, Action<string, YamlNode, string, string?> warning)
{
    public string Path { get; } = path;

    public YamlMappingNode Node { get; } = node;

    public YamlNode? this[string key] => Node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>The check of a nested mapping, reporting through the same channels; null when the key holds no mapping.</summary>
    public ObjectCheck? Child(string key) =>
        this[key] is YamlMappingNode child ? new ObjectCheck(Join(key), child, error, warning) : null;

    public bool IsTrue(string key) => this[key] is YamlScalarNode { Value: { } v } && YamlScalars.IsTrue(v);

    public string? StringOf(string key) => this[key] is YamlScalarNode scalar && !YamlScalars.IsNull(scalar) ? scalar.Value : null;

    /// <summary>Reports an error at <paramref name="key"/>'s node (or at the object when the key is absent).</summary>
    public void Error(string key, string message, string? hint = null) =>
        error(Join(key), this[key] ?? Node, message, hint);

    public void Warning(string key, string message, string? hint = null) =>
        warning(Join(key), this[key] ?? Node, message, hint);

    private string Join(string key) => Path.Length == 0 ? key : $"{Path}.{key}";
}

/// <summary>YAML 1.2 core-schema resolution of plain scalars, as the Go decoder of the agent resolves them.</summary>
public static class YamlScalars
{
    public static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    public static bool IsTrue(string value) => value is "true" or "True" or "TRUE";

    public static bool IsBoolean(string value) => value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE";

    public static bool IsInteger(string value) => long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _);
}
