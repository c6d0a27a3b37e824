using System.Reflection;
using System.Text.Json;
using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Kubernetes;

/// <summary>
/// <c>k8s_version.json</c>: distribution name → list of <c>x.y.z</c> versions, in the file's order. When the project
/// has none, the list EdgeForge ships (CanvOS's) is used.
/// </summary>
public sealed class KubernetesVersionCatalog
{
    public const string FileName = "k8s_version.json";

    /// <summary>Nesting refused while reading (docs/decisions.md, "Input limits").</summary>
    public const int MaxDepth = 16;

    private readonly Dictionary<string, IReadOnlyList<string>> _versions;

    private KubernetesVersionCatalog(string source, Dictionary<string, IReadOnlyList<string>> versions)
    {
        Source = source;
        _versions = versions;
    }

    /// <summary>The file the versions came from, or <c>(built-in)</c>.</summary>
    public string Source { get; }

    public IEnumerable<string> Distributions => _versions.Keys;

    public IReadOnlyList<string> VersionsOf(string distribution) => _versions.GetValueOrDefault(distribution) ?? [];

    public static KubernetesVersionCatalog BuiltIn()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("EdgeForge.Configuration.k8s_version.json")
            ?? throw new InvalidOperationException("the built-in k8s_version.json resource is missing");
        using var reader = new StreamReader(stream);
        var diagnostics = new DiagnosticBag();
        return Parse("(built-in)", reader.ReadToEnd(), diagnostics)
            ?? throw new InvalidOperationException("the built-in k8s_version.json is invalid: " + string.Join("; ", diagnostics.Items));
    }

    /// <summary>Parses and checks the shape of the file; null when it cannot be used (problems in <paramref name="diagnostics"/>).</summary>
    public static KubernetesVersionCatalog? Parse(string fileName, string text, DiagnosticBag diagnostics)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var lineStarts = LineStarts(bytes);
        var versions = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var before = diagnostics.Errors.Count();
        try
        {
            // The file is one object of lists (depth 2); a bound well above that refuses a nesting attack at once.
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = MaxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                diagnostics.Error(fileName, $"expected a JSON object of distribution → list of versions, found {Describe(reader.TokenType)}", 1,
                    hint: """write {"k3s": ["1.30.4", "1.29.8"], "rke2": […]}""");
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var distribution = reader.GetString()!;
                var distributionLine = LineOfOffset(lineStarts, (int)reader.TokenStartIndex);
                if (versions.ContainsKey(distribution))
                {
                    diagnostics.Error(fileName, "distribution listed twice", distributionLine, distribution, "merge the two lists");
                }

                if (!BuildSettingsResolver.K8sDistributions.Contains(distribution))
                {
                    var suggestion = NearestName.Find(distribution, BuildSettingsResolver.K8sDistributions);
                    diagnostics.Warning(fileName, suggestion is null ? "unknown distribution" : $"unknown distribution; did you mean {suggestion}?",
                        distributionLine, distribution);
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    diagnostics.Error(fileName, $"expected a list of versions, found {Describe(reader.TokenType)}", LineOfOffset(lineStarts, (int)reader.TokenStartIndex), distribution,
                        """write "k3s": ["1.30.4", "1.29.8"]""");
                    reader.Skip();
                    continue;
                }

                var list = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        diagnostics.Error(fileName, $"expected a version string, found {Describe(reader.TokenType)}", LineOfOffset(lineStarts, (int)reader.TokenStartIndex), distribution,
                            "quote versions: \"1.30.4\"");
                        reader.Skip();
                        continue;
                    }

                    var version = reader.GetString()!;
                    if (!BuildSettingsResolver.SemanticVersionPattern().IsMatch(version))
                    {
                        var hint = version.StartsWith('v') ? $"write {version[1..]}" : version.Contains('+') ? $"write {version[..version.IndexOf('+')]}" : "use x.y.z, e.g. 1.30.4";
                        diagnostics.Error(fileName, $"'{version}' is not a version of the form x.y.z", LineOfOffset(lineStarts, (int)reader.TokenStartIndex), distribution, hint);
                    }
                    else if (list.Contains(version))
                    {
                        diagnostics.Warning(fileName, $"version {version} is listed twice", LineOfOffset(lineStarts, (int)reader.TokenStartIndex), distribution, "remove the duplicate");
                    }
                    else
                    {
                        list.Add(version);
                    }
                }

                versions[distribution] = list;
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                diagnostics.Error(fileName, $"expected a distribution name, found {Describe(reader.TokenType)}", LineOfOffset(lineStarts, (int)reader.TokenStartIndex));
            }
            else if (reader.Read())
            {
                // Utf8JsonReader throws for most trailing text; a second JSON value is what remains.
                diagnostics.Error(fileName, "unexpected content after the closing '}'", LineOfOffset(lineStarts, (int)reader.TokenStartIndex),
                    hint: "the file holds one JSON object");
            }
        }
        catch (JsonException e) when (e.Message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            diagnostics.Error(fileName, $"lists or objects are nested more than {MaxDepth} levels deep; refused", (int)(e.LineNumber ?? 0) + 1,
                column: (int)(e.BytePositionInLine ?? 0) + 1, hint: """the file is one object of lists: {"k3s": ["1.30.4", "1.29.8"]}""");
        }
        catch (JsonException e)
        {
            // System.Text.Json quotes the offending text; the file may be a link to anything, so only the place is said.
            diagnostics.Error(fileName, "invalid JSON: the text here is not a JSON value, or a comma, colon, quote or bracket is missing", (int)(e.LineNumber ?? 0) + 1,
                column: (int)(e.BytePositionInLine ?? 0) + 1, hint: "fix the JSON syntax (a missing comma or quote is the usual cause)");
        }

        return diagnostics.Errors.Count() > before ? null : new KubernetesVersionCatalog(fileName, versions);
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "a list",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.None => "nothing",
        _ => token.ToString(),
    };

    private static List<int> LineStarts(byte[] bytes)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                starts.Add(i + 1);
            }
        }

        return starts;
    }

    /// <summary>1-based line of a byte offset.</summary>
    private static int LineOfOffset(List<int> lineStarts, int offset)
    {
        var index = lineStarts.BinarySearch(offset);
        return (index >= 0 ? index : ~index - 1) + 1;
    }
}
