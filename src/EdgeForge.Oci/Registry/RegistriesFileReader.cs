using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Registry;

/// <summary>
/// Turns one parsed registries.conf into <see cref="FileSettings"/>, checking what containers/image's
/// postProcessRegistries checks (a location or prefix is set, no URI scheme, wildcards only as a leading
/// <c>*.</c>, <c>pull-from-mirror</c> values and its exclusion with <c>mirror-by-digest-only</c>, no conflicting
/// <c>insecure</c>/<c>blocked</c> for one location) and, beyond it, refusing unknown keys, keys of the wrong type and
/// a prefix defined twice in one file: a misspelt <c>mirror-by-digest-only</c> would otherwise change silently what
/// is pulled from where.
/// </summary>
internal sealed class RegistriesFileReader(string file)
{
    private static readonly string[] TopLevelKeys =
        ["unqualified-search-registries", "short-name-mode", "credential-helpers", "additional-layer-store-auth-helper", "registry", "aliases"];

    private static readonly string[] RegistryKeys = ["prefix", "location", "insecure", "blocked", "mirror-by-digest-only", "mirror"];

    private static readonly string[] MirrorKeys = ["location", "insecure", "pull-from-mirror"];

    public FileSettings Read(TomlTable root)
    {
        IReadOnlyList<string>? search = null;
        string? mode = null;
        IReadOnlyList<string>? helpers = null;
        var registries = new List<RegistryEntry>();
        var aliases = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in root.Entries)
        {
            switch (key)
            {
                case "unqualified-search-registries":
                    search = Expect<TomlStringArray>(key, value).Values;
                    break;
                case "short-name-mode":
                    mode = Expect<TomlString>(key, value).Value;
                    if (mode is not ("" or "enforcing" or "permissive" or "disabled"))
                    {
                        throw Error(value.Line, $"short-name-mode = \"{mode}\" is not a mode", "write \"enforcing\", \"permissive\" or \"disabled\"");
                    }

                    break;
                case "credential-helpers":
                    helpers = Expect<TomlStringArray>(key, value).Values;
                    break;
                case "additional-layer-store-auth-helper":
                    // A helper for podman's additional layer stores; edgeforge has none.
                    Expect<TomlString>(key, value);
                    break;
                case "registry":
                    if (value is TomlTable)
                    {
                        throw Error(value.Line, "[registry] is a single table; registries are an array of tables", "write [[registry]] (two brackets)");
                    }

                    foreach (var table in Expect<TomlTableArray>(key, value).Tables)
                    {
                        registries.Add(ReadRegistry(table));
                    }

                    break;
                case "aliases":
                    foreach (var (name, target) in Expect<TomlTable>(key, value).Entries)
                    {
                        aliases.Add(new(name, Expect<TomlString>($"aliases.\"{name}\"", target).Value));
                    }

                    break;
                case "registries":
                    // The version 1 format ([registries.search] registries = [...]) has no mirrors, prefixes or
                    // rewrites (containers-registries.conf(5) "VERSION 1 FORMAT - DEPRECATED").
                    throw Error(value.Line, "the deprecated version 1 format ([registries.search], [registries.insecure], [registries.block]) is not supported",
                        "write version 2 tables: [[registry]] location = \"HOST\" with insecure = true or blocked = true, and unqualified-search-registries = [...]");
                default:
                    throw Error(value.Line, $"unknown key \"{key}\"", "registries.conf (version 2) knows " + string.Join(", ", TopLevelKeys));
            }
        }

        CheckUniquePrefixes(registries);
        CheckConsistentLocations(registries);
        return new FileSettings(file, registries, search, mode, helpers, aliases);
    }

    private RegistryEntry ReadRegistry(TomlTable table)
    {
        string? prefix = null;
        string? location = null;
        bool insecure = false, blocked = false, digestOnly = false;
        var mirrors = new List<ParsedMirror>();
        foreach (var (key, value) in table.Entries)
        {
            switch (key)
            {
                case "prefix":
                    prefix = Expect<TomlString>(key, value).Value;
                    break;
                case "location":
                    location = Expect<TomlString>(key, value).Value;
                    break;
                case "insecure":
                    insecure = Expect<TomlBoolean>(key, value).Value;
                    break;
                case "blocked":
                    blocked = Expect<TomlBoolean>(key, value).Value;
                    break;
                case "mirror-by-digest-only":
                    digestOnly = Expect<TomlBoolean>(key, value).Value;
                    break;
                case "mirror":
                    mirrors.AddRange(Expect<TomlTableArray>(key, value).Tables.Select(ReadMirror));
                    break;
                case "pull-from-mirror":
                    throw Error(value.Line, "pull-from-mirror applies to a [[registry.mirror]], not to the [[registry]] itself", "move it into the mirror's table, or use mirror-by-digest-only = true here");
                default:
                    throw Error(value.Line, $"unknown key \"{key}\" in [[registry]]", "a [[registry]] table knows " + string.Join(", ", RegistryKeys));
            }
        }

        location = LocationValue(location ?? "", "location", table.Line);
        prefix = LocationValue(prefix ?? "", "prefix", table.Line);
        if (prefix.Length == 0)
        {
            if (location.Length == 0)
            {
                throw Error(table.Line, "[[registry]] has neither location nor prefix", "add location = \"HOST[:PORT][/PATH]\"");
            }

            // "As a special case, the prefix field can be missing; if so, it defaults to the value of the location field."
            prefix = location;
        }

        if (prefix.StartsWith("*.", StringComparison.Ordinal))
        {
            if (prefix.AsSpan(2).ContainsAny("/@:*"))
            {
                throw Error(table.Line, $"wildcard prefix \"{prefix}\" may only name a domain", "write it as *.example.com, without port, path, tag or another '*'");
            }
        }
        else
        {
            if (prefix.Contains('*'))
            {
                throw Error(table.Line, $"prefix \"{prefix}\": a wildcard is only allowed as a leading \"*.\"", "write *.example.com, or the full host name");
            }

            CheckName(prefix, "prefix", table.Line);
            if (location.Length == 0)
            {
                throw Error(table.Line, $"prefix \"{prefix}\" has no location", $"add location = \"{prefix}\" (only a *.example.com prefix may go without one)");
            }
        }

        if (location.Length > 0)
        {
            CheckName(location, "location", table.Line);
        }

        if (digestOnly && mirrors.FirstOrDefault(m => m.ExplicitPolicy) is { } conflicting)
        {
            throw Error(conflicting.Mirror.Line, $"pull-from-mirror is set for mirror {conflicting.Mirror.Location} while its [[registry]] (line {table.Line}) has mirror-by-digest-only = true",
                "use one of the two: the man page allows pull-from-mirror only without mirror-by-digest-only");
        }

        return new RegistryEntry(prefix, location, insecure, blocked, digestOnly, mirrors.Select(m => m.Mirror).ToList(), file, table.Line);
    }

    private ParsedMirror ReadMirror(TomlTable table)
    {
        string? location = null;
        var insecure = false;
        var policy = MirrorPullPolicy.All;
        var explicitPolicy = false;
        foreach (var (key, value) in table.Entries)
        {
            switch (key)
            {
                case "location":
                    location = Expect<TomlString>(key, value).Value;
                    break;
                case "insecure":
                    insecure = Expect<TomlBoolean>(key, value).Value;
                    break;
                case "pull-from-mirror":
                    var text = Expect<TomlString>(key, value).Value;
                    explicitPolicy = text.Length > 0;
                    policy = text switch
                    {
                        "" or "all" => MirrorPullPolicy.All,
                        "digest-only" => MirrorPullPolicy.DigestOnly,
                        "tag-only" => MirrorPullPolicy.TagOnly,
                        _ => throw Error(value.Line, $"pull-from-mirror = \"{text}\" is not a policy", "write \"all\", \"digest-only\" or \"tag-only\""),
                    };
                    break;
                default:
                    throw Error(value.Line, $"unknown key \"{key}\" in [[registry.mirror]]", "a mirror knows " + string.Join(", ", MirrorKeys));
            }
        }

        location = LocationValue(location ?? "", "location", table.Line);
        if (location.Length == 0)
        {
            throw Error(table.Line, "[[registry.mirror]] has no location", "add location = \"MIRROR-HOST[:PORT][/PATH]\"");
        }

        CheckName(location, "mirror location", table.Line);
        return new ParsedMirror(new RegistryMirror(location, insecure, policy, file, table.Line), explicitPolicy);
    }

    /// <summary>containers/image's parseLocation: trailing slashes go, URI schemes are refused.</summary>
    private string LocationValue(string value, string key, int line)
    {
        var trimmed = value.TrimEnd('/');
        if (trimmed.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw Error(line, $"{key} \"{value}\": URI schemes are not supported", "write HOST[:PORT][/PATH]; use insecure = true for plain HTTP");
        }

        return trimmed;
    }

    /// <summary>
    /// A prefix or location is <c>host[:port][/namespace…][:tag|@digest]</c>, with a host that names a registry
    /// (a '.', a ':' or localhost, as distribution/reference decides): rewriting into anything else would make a
    /// reference Docker Hub's, or no reference at all.
    /// </summary>
    private void CheckName(string name, string key, int line)
    {
        var host = name.Split('/')[0];
        if (!(host.Contains('.') || host.Contains(':') || host == "localhost" || host.StartsWith('[')))
        {
            throw Error(line, $"{key} \"{name}\" does not start with a registry host", "write a host with a domain or port, e.g. registry.example.com or 127.0.0.1:5000");
        }

        var probe = name.Contains('/') ? name : name + "/x";
        if (!ImageReference.TryParse(probe, out _, out var error))
        {
            throw Error(line, $"{key} \"{name}\" is not a registry name: {error}", "write HOST[:PORT][/PATH] in lowercase path components");
        }
    }

    private void CheckUniquePrefixes(List<RegistryEntry> registries)
    {
        foreach (var group in registries.GroupBy(r => r.Prefix).Where(g => g.Count() > 1))
        {
            var tables = group.ToList();
            throw Error(tables[1].Line, $"prefix \"{group.Key}\" is also the prefix of the [[registry]] on line {tables[0].Line}", "merge the two tables; one prefix has one table");
        }
    }

    /// <summary>containers/image refuses one location with different insecure or blocked settings in one file.</summary>
    private void CheckConsistentLocations(List<RegistryEntry> registries)
    {
        foreach (var group in registries.Where(r => r.Location.Length > 0).GroupBy(r => r.Location))
        {
            var first = group.First();
            if (group.FirstOrDefault(r => r.Insecure != first.Insecure) is { } insecure)
            {
                throw Error(insecure.Line, $"location \"{first.Location}\" is insecure = {first.Insecure.ToString().ToLowerInvariant()} on line {first.Line} and not here", "give every table of one location the same insecure setting");
            }

            if (group.FirstOrDefault(r => r.Blocked != first.Blocked) is { } blocked)
            {
                throw Error(blocked.Line, $"location \"{first.Location}\" is blocked = {first.Blocked.ToString().ToLowerInvariant()} on line {first.Line} and not here", "give every table of one location the same blocked setting");
            }
        }
    }

    private T Expect<T>(string key, TomlValue value) where T : TomlValue
    {
        if (value is T typed)
        {
            return typed;
        }

        var wanted = typeof(T) == typeof(TomlString) ? "a string in quotes"
            : typeof(T) == typeof(TomlBoolean) ? "true or false"
            : typeof(T) == typeof(TomlStringArray) ? "an array of strings, [\"a\", \"b\"]"
            : typeof(T) == typeof(TomlTableArray) ? $"[[{key}]] tables"
            : $"a [{key}] table";
        throw Error(value.Line, $"\"{key}\" is {value.Kind}", "it must be " + wanted);
    }

    private RegistriesConfigurationException Error(int line, string problem, string fix) => new(file, line, problem, fix);

    /// <summary>A mirror and whether pull-from-mirror was written at all (even "all" conflicts with mirror-by-digest-only).</summary>
    private sealed record ParsedMirror(RegistryMirror Mirror, bool ExplicitPolicy);
}
