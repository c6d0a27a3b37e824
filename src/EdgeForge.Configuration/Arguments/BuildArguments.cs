using System.Text;
using System.Text.RegularExpressions;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Arguments;

/// <summary>Where a value came from, highest precedence last.</summary>
public enum ArgumentSource
{
    /// <summary>The catalog's built-in value (<see cref="BuildArgumentDefinition.BuiltInValue"/>).</summary>
    Default,

    /// <summary>A global <c>ARG NAME=value</c> of the project's Earthfile.</summary>
    Earthfile,

    ArgFile,
    Environment,
    CommandLine,

    /// <summary>A rule CanvOS's Earthfile applies on top of the values (the FIPS repository switch).</summary>
    Rule,
}

/// <summary>A key's final value and where it came from, so a message can point at the line that set it.</summary>
public sealed record ResolvedArgument(string Key, string Value, ArgumentSource Source, int? Line);

/// <summary>
/// A key's final value with its origin: <see cref="File"/> and <see cref="Line"/> name the line that set it (the
/// <c>.arg</c> file or the Earthfile), and <see cref="Overrides"/> the value of a lower source it replaced — so
/// <c>plan</c> can say that an environment variable beat the <c>.arg</c> file.
/// </summary>
public sealed record ResolvedValue(string Key, string Value, ArgumentSource Origin, string? File, int? Line)
{
    public ResolvedValue? Overrides { get; init; }

    /// <summary>True when the value equals the built-in value (expanded), whatever set it.</summary>
    public bool SameAsBuiltIn { get; init; }

    /// <summary>Why a <see cref="ArgumentSource.Rule"/> value applies.</summary>
    public string? Rule { get; init; }

    /// <summary>"command line", "environment", ".arg line 3", "Earthfile line 23", "built-in" or the rule.</summary>
    public string Describe() => Origin switch
    {
        ArgumentSource.CommandLine => "command line",
        ArgumentSource.Environment => "environment",
        ArgumentSource.ArgFile or ArgumentSource.Earthfile => Line is { } line ? $"{File} line {line}" : File ?? "",
        ArgumentSource.Rule => Rule ?? "rule",
        _ => "built-in",
    };
}

/// <summary>
/// The build arguments of a project, layered as EDGEFORGE.md §3 orders them: <c>--build-arg KEY=VALUE</c> over
/// environment variables of the same name (known keys only) over the <c>.arg</c> file over the Earthfile's global
/// <c>ARG</c> defaults over the built-in values. Earthfile and built-in values keep their <c>$NAME</c> references and
/// are expanded against the final values, as Earthly expands ARG defaults: <c>--build-arg SPECTRO_PUB_REPO=x</c>
/// therefore moves the Earthfile's <c>KAIROS_BASE_IMAGE_URL=$SPECTRO_PUB_REPO/edge</c> along with it. Unknown keys are
/// reported: a near miss of a known key is an error with the suggestion (in CanvOS <c>K8s_VERSION</c> silently builds
/// every version), others are warnings.
/// </summary>
public sealed partial class BuildArguments
{
    public const string CommandLineLocation = "--build-arg";
    public const string EnvironmentLocation = "environment";
    public const string FipsRule = "FIPS rule";

    private readonly Dictionary<string, ResolvedValue> _explicit;
    private readonly Dictionary<string, EarthfileArgument> _earthfile;
    private readonly Dictionary<string, ResolvedValue> _final = new(StringComparer.Ordinal);
    private readonly HashSet<string> _resolving = new(StringComparer.Ordinal);
    private readonly DiagnosticBag _diagnostics;

    private BuildArguments(string argFileName, string earthfileName, Dictionary<string, ResolvedValue> explicitValues,
        Dictionary<string, EarthfileArgument> earthfile, DiagnosticBag diagnostics)
    {
        ArgFileName = argFileName;
        EarthfileName = earthfileName;
        _explicit = explicitValues;
        _earthfile = earthfile;
        _diagnostics = diagnostics;
    }

    /// <summary>How messages name the <c>.arg</c> file.</summary>
    public string ArgFileName { get; }

    /// <summary>How messages name the Earthfile.</summary>
    public string EarthfileName { get; }

    /// <summary>Every key set by a source other than the built-in values (known, non-internal keys), by key.</summary>
    public IEnumerable<ResolvedArgument> Explicit => Values
        .Where(v => v.Origin != ArgumentSource.Default)
        .Select(v => new ResolvedArgument(v.Key, v.Value, v.Origin, v.Line))
        .OrderBy(v => v.Key, StringComparer.Ordinal);

    /// <summary>The final value of every key that has one, in catalog order (CanvOS-internal ARGs aside).</summary>
    public IReadOnlyList<ResolvedValue> Values => BuildArgumentCatalog.All
        .Where(d => d.Origin != BuildArgumentOrigin.CanvOSInternal)
        .Select(d => Final(d.Key))
        .OfType<ResolvedValue>()
        .ToList();

    public static BuildArguments Load(
        string argFileName,
        string? argFileText,
        IReadOnlyDictionary<string, string> commandLine,
        Func<string, string?> environment,
        DiagnosticBag diagnostics,
        IReadOnlyList<EarthfileArgument>? earthfile = null,
        string earthfileName = EarthfileArguments.FileName)
    {
        var values = new Dictionary<string, ResolvedValue>(StringComparer.Ordinal);

        void Set(ResolvedValue value) =>
            values[value.Key] = values.TryGetValue(value.Key, out var lower) ? value with { Overrides = lower } : value;

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
                    values[assignment.Key] = new ResolvedValue(assignment.Key, assignment.Value, ArgumentSource.ArgFile, argFileName, assignment.Line);
                }
            }
        }

        foreach (var definition in BuildArgumentCatalog.All)
        {
            if (IsOverridableFromEnvironment(definition.Key) && environment(definition.Key) is { } fromEnvironment)
            {
                Set(new ResolvedValue(definition.Key, fromEnvironment, ArgumentSource.Environment, EnvironmentLocation, null));
            }
        }

        foreach (var (key, value) in commandLine)
        {
            if (CheckKnown(key, CommandLineLocation, null, diagnostics))
            {
                Set(new ResolvedValue(key, value, ArgumentSource.CommandLine, CommandLineLocation, null));
            }
        }

        // An exported variable silently beating .arg is the classic surprise (CUSTOM_TAG=x in the shell renames every
        // image): every value the environment decides is reported, so validate, plan and build all show it.
        foreach (var value in values.Values.Where(v => v.Origin == ArgumentSource.Environment).OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            var replaced = value.Overrides is { } lower ? $", replacing the value of {lower.Describe()}" : ", instead of the default";
            diagnostics.Warning(EnvironmentLocation, $"overridden from environment: {value.Key}={WithoutCredentials(value.Value)}{replaced}", key: value.Key,
                hint: $"unset {value.Key} in the shell for the project's value, or pass --build-arg {value.Key}=… to make the choice explicit");
        }

        var defaults = new Dictionary<string, EarthfileArgument>(StringComparer.Ordinal);
        foreach (var argument in earthfile ?? [])
        {
            if (BuildArgumentCatalog.Find(argument.Name) is null)
            {
                diagnostics.Warning(earthfileName, "global ARG unknown to edgeforge, ignored", argument.Line, argument.Name,
                    "if this checkout's CanvOS added a build option, check docs/arg-reference.md for what edgeforge supports");
            }
            else if (argument.Value is not null)
            {
                // Earthly lets a later global ARG redeclare an earlier one; the later default is the one in force.
                defaults[argument.Name] = argument;
            }
        }

        var arguments = new BuildArguments(argFileName, earthfileName, values, defaults, diagnostics);

        // Expand everything now, so the warnings of the Earthfile's references are reported with the rest of the loading.
        _ = arguments.Values;
        return arguments;
    }

    /// <summary>The value of a key set by the command line, environment, <c>.arg</c>, Earthfile or a rule; null when the built-in value applies.</summary>
    public ResolvedArgument? Get(string key) => Final(key) is { Origin: not ArgumentSource.Default } value
        ? new ResolvedArgument(value.Key, value.Value, value.Origin, value.Line)
        : null;

    /// <summary>The final value of a key, built-in values included; null when nothing sets it and it has no built-in value.</summary>
    public ResolvedValue? Final(string key)
    {
        if (_final.TryGetValue(key, out var done))
        {
            return done;
        }

        if (!_resolving.Add(key))
        {
            _diagnostics.Error(EarthfileName, $"{key} refers to itself through $ references", key: key, hint: "break the cycle: give one of the ARGs a literal value");
            return null;
        }

        var value = Layered(key);
        if (key == "SPECTRO_PUB_REPO" && value is not null && IsTrue(Final("FIPS_ENABLED")?.Value) && value.Value == BuildArgumentCatalog.DefaultPubRepo)
        {
            // CanvOS's Earthfile: IF FIPS_ENABLED=true and SPECTRO_PUB_REPO is the stock repository, LET it be the FIPS one.
            value = new ResolvedValue(key, BuildArgumentCatalog.FipsPubRepo, ArgumentSource.Rule, null, null)
            {
                Overrides = value,
                Rule = $"{FipsRule} (FIPS_ENABLED=true)",
            };
        }

        if (value is not null)
        {
            var builtIn = value.Origin == ArgumentSource.Default ? value.Value
                : BuildArgumentCatalog.Find(key)?.BuiltInValue is { } raw ? Expand(key, raw, null) : null;
            value = value with { SameAsBuiltIn = value.Value == builtIn };
            _final[key] = value;
        }

        _resolving.Remove(key);

        return value;
    }

    /// <summary>
    /// The names an Earthfile or built-in value of <paramref name="key"/> refers to (<c>$SPECTRO_PUB_REPO</c> …); empty
    /// when the value was given literally. Lets a check skip a value that is only wrong because a referenced key is.
    /// </summary>
    public IReadOnlyList<string> ReferencesOf(string key)
    {
        var raw = _explicit.ContainsKey(key) ? null
            : _earthfile.TryGetValue(key, out var earthfile) ? earthfile.Value
            : BuildArgumentCatalog.Find(key)?.BuiltInValue;
        return raw is null ? [] : ReferencePattern().Matches(raw)
            .Select(m => m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["bare"].Value)
            .ToList();
    }

    /// <summary>Where a key's value came from, as a file name and line for diagnostics.</summary>
    public (string File, int? Line) LocationOf(string key) => Final(key) switch
    {
        { Origin: ArgumentSource.ArgFile, Line: var line } => (ArgFileName, line),
        { Origin: ArgumentSource.Earthfile, Line: var line } => (EarthfileName, line),
        { Origin: ArgumentSource.CommandLine } => (CommandLineLocation, null),
        { Origin: ArgumentSource.Environment } => (EnvironmentLocation, null),
        { Origin: ArgumentSource.Rule } => (FipsRule, null),
        _ => (ArgFileName, null),
    };

    private ResolvedValue? Layered(string key)
    {
        if (_explicit.TryGetValue(key, out var explicitValue))
        {
            return explicitValue;
        }

        // An internal ARG's Earthfile value only ever feeds the expansion of other values (ValueForExpansion).
        if (_earthfile.TryGetValue(key, out var earthfile) && BuildArgumentCatalog.Find(key)?.Origin != BuildArgumentOrigin.CanvOSInternal)
        {
            return new ResolvedValue(key, Expand(key, earthfile.Value!, earthfile.Line), ArgumentSource.Earthfile, EarthfileName, earthfile.Line);
        }

        return BuildArgumentCatalog.Find(key)?.BuiltInValue is { } builtIn
            ? new ResolvedValue(key, Expand(key, builtIn, null), ArgumentSource.Default, null, null)
            : null;
    }

    /// <summary>
    /// Expands <c>$NAME</c>, <c>${NAME}</c> and <c>${NAME:-default}</c> against the final values; a name with no value
    /// expands to nothing, as in Earthly, with a warning when an Earthfile value names an ARG nobody declares.
    /// </summary>
    private string Expand(string key, string raw, int? earthfileLine)
    {
        if (!raw.Contains('$'))
        {
            return raw;
        }

        var builder = new StringBuilder(raw.Length);
        var position = 0;
        foreach (Match match in ReferencePattern().Matches(raw))
        {
            builder.Append(raw, position, match.Index - position);
            position = match.Index + match.Length;
            var name = match.Groups["braced"].Success ? match.Groups["braced"].Value : match.Groups["bare"].Value;
            var resolved = ValueForExpansion(name);
            if (string.IsNullOrEmpty(resolved) && match.Groups["fallback"].Success)
            {
                resolved = match.Groups["fallback"].Value;
            }

            // A known key without a value (K8S_VERSION) is legitimately empty; an unknown name is likely a mistake.
            if (resolved is null && earthfileLine is not null && BuildArgumentCatalog.Find(name) is null)
            {
                _diagnostics.Warning(EarthfileName, $"${name} has no value here; it expands to nothing", earthfileLine, key,
                    $"declare ARG {name}=… above this line");
            }

            builder.Append(resolved);
        }

        builder.Append(raw, position, raw.Length - position);
        return builder.ToString();
    }

    private string? ValueForExpansion(string name)
    {
        if (BuildArgumentCatalog.Find(name) is { Origin: not BuildArgumentOrigin.CanvOSInternal })
        {
            return Final(name)?.Value;
        }

        // CanvOS-internal ARGs (ALPINE_TAG, …) only ever have the Earthfile's value.
        if (!_earthfile.TryGetValue(name, out var internalArgument) || !_resolving.Add(name))
        {
            return null;
        }

        var expanded = Expand(name, internalArgument.Value!, internalArgument.Line);
        _resolving.Remove(name);
        return expanded;
    }

    /// <summary>Proxy URLs may carry a password: <c>http://user:secret@proxy:3128</c> is shown as <c>http://***@proxy:3128</c>.</summary>
    private static string WithoutCredentials(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0 ? value.Replace(uri.UserInfo + "@", "***@", StringComparison.Ordinal) : value;

    private static bool IsTrue(string? value) => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Environment variables override only keys that have a meaning here; <c>HTTP_PROXY</c> and friends are the usual case.
    /// Ignored and internal CanvOS keys, keys of features not built here, and names as generic as <c>DEBUG</c> never
    /// enter the build this way.
    /// </summary>
    private static bool IsOverridableFromEnvironment(string key) =>
        BuildArgumentCatalog.Find(key) is { Origin: BuildArgumentOrigin.CanvOS or BuildArgumentOrigin.EdgeForge, OnlyFor: null, ReadFromEnvironment: true };

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

    [GeneratedRegex(@"\$(?:\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)(?::-(?<fallback>[^}]*))?\}|(?<bare>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex ReferencePattern();
}
