using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Arguments;

public enum ArgumentSource
{
    Default,
    ArgFile,
    Environment,
    CommandLine,
}

/// <summary>A key's final value and where it came from, so a message can point at the line that set it.</summary>
public sealed record ResolvedArgument(string Key, string Value, ArgumentSource Source, int? Line);

/// <summary>
/// The raw build arguments of a project: the <c>.arg</c> file, overridden by environment variables of the same name
/// (known keys only), overridden by <c>--build-arg KEY=VALUE</c>. Unknown keys are reported: a near miss of a known key
/// is an error with the suggestion (in CanvOS <c>K8s_VERSION</c> silently builds every version), others are warnings.
/// </summary>
public sealed class BuildArguments
{
    public const string CommandLineLocation = "--build-arg";
    public const string EnvironmentLocation = "environment";

    private readonly Dictionary<string, ResolvedArgument> _values;

    private BuildArguments(string argFileName, Dictionary<string, ResolvedArgument> values)
    {
        ArgFileName = argFileName;
        _values = values;
    }

    /// <summary>How messages name the <c>.arg</c> file.</summary>
    public string ArgFileName { get; }

    public IEnumerable<ResolvedArgument> Explicit => _values.Values.OrderBy(v => v.Key, StringComparer.Ordinal);

    public static BuildArguments Load(
        string argFileName,
        string? argFileText,
        IReadOnlyDictionary<string, string> commandLine,
        Func<string, string?> environment,
        DiagnosticBag diagnostics)
    {
        var values = new Dictionary<string, ResolvedArgument>(StringComparer.Ordinal);

        string? Forced(string key) =>
            commandLine.TryGetValue(key, out var fromCommandLine) ? fromCommandLine
            : IsOverridableFromEnvironment(key) ? environment(key)
            : null;

        if (argFileText is not null)
        {
            foreach (var assignment in ArgFileParser.Parse(argFileName, argFileText, Forced, environment, diagnostics))
            {
                if (CheckKnown(assignment.Key, argFileName, assignment.Line, diagnostics))
                {
                    values[assignment.Key] = new ResolvedArgument(assignment.Key, assignment.Value, ArgumentSource.ArgFile, assignment.Line);
                }
            }
        }

        foreach (var definition in BuildArgumentCatalog.All)
        {
            if (IsOverridableFromEnvironment(definition.Key) && environment(definition.Key) is { } fromEnvironment)
            {
                values[definition.Key] = new ResolvedArgument(definition.Key, fromEnvironment, ArgumentSource.Environment, null);
            }
        }

        foreach (var (key, value) in commandLine)
        {
            if (CheckKnown(key, CommandLineLocation, null, diagnostics))
            {
                values[key] = new ResolvedArgument(key, value, ArgumentSource.CommandLine, null);
            }
        }

        return new BuildArguments(argFileName, values);
    }

    /// <summary>The explicit value of a key, or null when it is unset (its default applies).</summary>
    public ResolvedArgument? Get(string key) => _values.GetValueOrDefault(key);

    /// <summary>Where a key's value came from, as a file name and line for diagnostics.</summary>
    public (string File, int? Line) LocationOf(string key) => Get(key) switch
    {
        { Source: ArgumentSource.ArgFile, Line: var line } => (ArgFileName, line),
        { Source: ArgumentSource.CommandLine } => (CommandLineLocation, null),
        { Source: ArgumentSource.Environment } => (EnvironmentLocation, null),
        _ => (ArgFileName, null),
    };

    /// <summary>
    /// Environment variables override only keys that have a meaning here; <c>HTTP_PROXY</c> and friends are the usual case.
    /// Ignored CanvOS keys and arbitrary variables never enter the build this way.
    /// </summary>
    private static bool IsOverridableFromEnvironment(string key) =>
        BuildArgumentCatalog.Find(key) is { Origin: not BuildArgumentOrigin.CanvOSIgnored };

    private static bool CheckKnown(string key, string file, int? line, DiagnosticBag diagnostics)
    {
        if (BuildArgumentCatalog.Find(key) is not null)
        {
            return true;
        }

        if (key is "UBUNTU_PRO_KEY")
        {
            diagnostics.Error(file, "a secret must not be stored as a build argument (it would end up in shell history and logs)", line, key,
                "remove it; Ubuntu Pro attachment is not done by edgeforge");
            return false;
        }

        if (NearestName.Find(key, BuildArgumentCatalog.Keys) is { } suggestion)
        {
            var fallback = BuildArgumentCatalog.Find(suggestion)!.Default;
            diagnostics.Error(file, $"unknown key; did you mean {suggestion}?", line, key,
                $"rename it to {suggestion}: as written the line is ignored and {suggestion} keeps its default, {(fallback.Length == 0 ? "empty" : fallback)}");
        }
        else
        {
            diagnostics.Warning(file, "unknown key, ignored", line, key, "remove it, or check the key reference in docs/arg-reference.md");
        }

        return false;
    }
}
