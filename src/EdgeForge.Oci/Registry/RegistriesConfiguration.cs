using System.Text;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Registry;

/// <summary>When a <c>[[registry.mirror]]</c> is used (containers-registries.conf(5) "pull-from-mirror").</summary>
public enum MirrorPullPolicy
{
    /// <summary>For pulls by tag and by digest (the default, also written as an empty string).</summary>
    All,

    /// <summary>Only for pulls by digest: a tag may point elsewhere on a mirror that is out of sync.</summary>
    DigestOnly,

    /// <summary>Only for pulls by tag.</summary>
    TagOnly,
}

/// <summary>One <c>[[registry.mirror]]</c> table.</summary>
public sealed record RegistryMirror(string Location, bool Insecure, MirrorPullPolicy PullFromMirror, string File, int Line);

/// <summary>
/// One <c>[[registry]]</c> table after the man page's defaults: <see cref="Prefix"/> is the location when not written;
/// <see cref="Location"/> is empty only for a wildcard prefix (then references are used as they are).
/// </summary>
public sealed record RegistryEntry(
    string Prefix,
    string Location,
    bool Insecure,
    bool Blocked,
    bool MirrorByDigestOnly,
    IReadOnlyList<RegistryMirror> Mirrors,
    string File,
    int Line)
{
    public bool IsWildcard => Prefix.StartsWith("*.", StringComparison.Ordinal);
}

/// <summary>
/// A place to pull an image from: a mirror or the primary location, with the physical reference to ask it for.
/// <see cref="ConfigurationFile"/> is the file whose <c>[[registry]]</c> table produced it (null without one).
/// </summary>
public sealed record PullSource(ImageReference Reference, bool Insecure, bool IsMirror, string? ConfigurationFile);

/// <summary>
/// Registry remapping and mirrors in the version 2 format of containers-registries.conf(5), as podman, skopeo and
/// buildah (containers/image, pkg/sysregistriesv2) read it: <c>[[registry]]</c> tables chosen by longest
/// <c>prefix</c> (with <c>*.example.com</c> subdomain wildcards), a <c>location</c> that rewrites the matched
/// prefix, <c>insecure</c>, <c>blocked</c>, and <c>[[registry.mirror]]</c> tables tried in order before the
/// primary location, filtered by <c>mirror-by-digest-only</c> and per-mirror <c>pull-from-mirror</c>.
/// <para>
/// <c>unqualified-search-registries</c>, <c>short-name-mode</c> and <c>[aliases]</c> only resolve short names
/// (<c>alpine</c>, <c>fedora</c>); edgeforge references are always fully qualified (a name without a registry is
/// Docker Hub's, as in Docker), so these are parsed and kept for display but change nothing.
/// <c>credential-helpers</c> is parsed and not used: edgeforge's credentials come from the Docker config and its
/// credential helpers (<see cref="DockerConfigFile"/>) or <c>--creds</c>, and the man page's default,
/// <c>containers-auth.json</c>, names a file format edgeforge does not read.
/// </para>
/// </summary>
public sealed class RegistriesConfiguration
{
    /// <summary>Where podman and skopeo look for the system-wide file (containers-registries.conf(5) "DESCRIPTION").</summary>
    public const string SystemPath = "/etc/containers/registries.conf";

    private const string DropInDirectoryName = "registries.conf.d";

    private RegistriesConfiguration(
        IReadOnlyList<string> files,
        IReadOnlyList<RegistryEntry> registries,
        IReadOnlyList<string> unqualifiedSearchRegistries,
        string shortNameMode,
        IReadOnlyDictionary<string, string> aliases,
        IReadOnlyList<string> credentialHelpers)
    {
        Files = files;
        Registries = registries;
        UnqualifiedSearchRegistries = unqualifiedSearchRegistries;
        ShortNameMode = shortNameMode;
        Aliases = aliases;
        CredentialHelpers = credentialHelpers;
    }

    /// <summary>No file: every reference is pulled from and pushed to the registry it names.</summary>
    public static RegistriesConfiguration Empty { get; } = new([], [], [], "", new Dictionary<string, string>(), []);

    /// <summary>The files read, in the order they were applied (the main file first, then drop-ins).</summary>
    public IReadOnlyList<string> Files { get; }

    public IReadOnlyList<RegistryEntry> Registries { get; }

    /// <summary>Parsed for completeness; short names only (see the class remarks).</summary>
    public IReadOnlyList<string> UnqualifiedSearchRegistries { get; }

    /// <summary>Parsed for completeness (<c>enforcing</c>, <c>permissive</c>, <c>disabled</c> or empty); short names only.</summary>
    public string ShortNameMode { get; }

    /// <summary>Parsed for completeness; short names only.</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; }

    /// <summary>Parsed and not used (see the class remarks).</summary>
    public IReadOnlyList<string> CredentialHelpers { get; }

    /// <summary>True when no <c>[[registry]]</c> table applies to anything: pulls and pushes go where references say.</summary>
    public bool IsEmpty => Registries.Count == 0;

    /// <summary>One file's text, without drop-ins (what a test or a caller holding the text wants).</summary>
    public static RegistriesConfiguration Parse(string text, string file) => Merge([ParseFile(text, file)]);

    /// <summary>
    /// A file and then the <c>*.conf</c> files of the <c>registries.conf.d</c> directory next to it, in
    /// alphanumerical order (containers-registries.conf.d(5) "CONFIGURATION PRECEDENCE"). The file must exist.
    /// </summary>
    public static RegistriesConfiguration Load(string path) =>
        LoadFrom(path, required: true, [Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, DropInDirectoryName)]);

    /// <summary>
    /// The configuration podman would use, given <c>--registries-conf</c>: <paramref name="explicitPath"/>, else
    /// <c>$CONTAINERS_REGISTRIES_CONF</c> (both must exist, with the drop-in directory next to them), else
    /// <c>$XDG_CONFIG_HOME/containers/registries.conf</c> (or <c>~/.config/…</c>) when it exists, with only the
    /// per-user drop-in directory, else <see cref="SystemPath"/> with the system drop-in directory and then the
    /// per-user one (containers-registries.conf.d(5)). Neither file present means <see cref="Empty"/> plus drop-ins.
    /// </summary>
    public static RegistriesConfiguration LoadDefault(string? explicitPath, Func<string, string?> environment) =>
        LoadDefault(explicitPath, environment, SystemPath);

    internal static RegistriesConfiguration LoadDefault(string? explicitPath, Func<string, string?> environment, string systemPath)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return Load(explicitPath);
        }

        if (environment("CONTAINERS_REGISTRIES_CONF") is { Length: > 0 } fromEnvironment)
        {
            if (!File.Exists(fromEnvironment))
            {
                throw new RegistriesConfigurationException(fromEnvironment, 0, "does not exist (named by $CONTAINERS_REGISTRIES_CONF)", "fix or unset CONTAINERS_REGISTRIES_CONF");
            }

            return Load(fromEnvironment);
        }

        var configHome = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(environment("HOME") is { Length: > 0 } home ? home : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        var userDirectory = Path.Combine(configHome, "containers");
        var userFile = Path.Combine(userDirectory, "registries.conf");
        var userDropIns = Path.Combine(userDirectory, DropInDirectoryName);
        if (File.Exists(userFile))
        {
            return LoadFrom(userFile, required: true, [userDropIns]);
        }

        return LoadFrom(systemPath, required: false, [Path.Combine(Path.GetDirectoryName(systemPath)!, DropInDirectoryName), userDropIns]);
    }

    private static RegistriesConfiguration LoadFrom(string path, bool required, IReadOnlyList<string> dropInDirectories)
    {
        var files = new List<FileSettings>();
        if (File.Exists(path))
        {
            files.Add(ReadFile(path));
        }
        else if (required)
        {
            throw new RegistriesConfigurationException(path, 0, "does not exist", "check the path given to --registries-conf");
        }

        foreach (var directory in dropInDirectories.Where(Directory.Exists))
        {
            // "only files with the .conf suffix are loaded, other files and sub-directories are ignored", in
            // alpha-numerical order — Go's os.ReadDir order, i.e. by the bytes of the name.
            var dropIns = Directory.EnumerateFiles(directory, "*.conf")
                .Where(f => f.EndsWith(".conf", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal);
            files.AddRange(dropIns.Select(ReadFile));
        }

        return Merge(files);
    }

    private static FileSettings ReadFile(string path)
    {
        string text;
        try
        {
            // TOML 1.0: "A TOML file must be a valid UTF-8 encoded Unicode document."
            text = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException)
        {
            throw new RegistriesConfigurationException(path, 0, "is not valid UTF-8", "save it as UTF-8 text");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RegistriesConfigurationException(path, 0, $"cannot be read: {e.Message}", "check the path and its permissions");
        }

        return ParseFile(text, path);
    }

    /// <summary>
    /// Later files win (containers-registries.conf.d(5)): a <c>[[registry]]</c> with a prefix already known replaces
    /// that table, others are added; the global keys replace earlier values when a later file sets them; an alias
    /// set to "" is erased.
    /// </summary>
    private static RegistriesConfiguration Merge(IReadOnlyList<FileSettings> files)
    {
        if (files.Count == 0)
        {
            return Empty;
        }

        var registries = new List<RegistryEntry>();
        IReadOnlyList<string> search = [];
        var mode = "";
        IReadOnlyList<string> helpers = [];
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var entry in file.Registries)
            {
                var index = registries.FindIndex(r => r.Prefix == entry.Prefix);
                if (index >= 0)
                {
                    registries[index] = entry;
                }
                else
                {
                    registries.Add(entry);
                }
            }

            search = file.UnqualifiedSearchRegistries ?? search;
            mode = file.ShortNameMode is { Length: > 0 } m ? m : mode;
            helpers = file.CredentialHelpers ?? helpers;
            foreach (var (name, value) in file.Aliases)
            {
                if (value.Length == 0)
                {
                    aliases.Remove(name);
                }
                else
                {
                    aliases[name] = value;
                }
            }
        }

        return new RegistriesConfiguration(files.Select(f => f.File).ToList(), registries, search, mode, aliases, helpers);
    }

    /// <summary>
    /// The <c>[[registry]]</c> table for a reference: the one with the longest prefix that the reference's name
    /// (registry/repository, without tag or digest, as containers/image's FindRegistry takes it) starts with,
    /// followed by ':', '/', '@' or its end; a <c>*.example.com</c> prefix matches any subdomain of example.com.
    /// </summary>
    public RegistryEntry? FindRegistry(ImageReference reference)
    {
        RegistryEntry? best = null;
        foreach (var entry in Registries)
        {
            if (MatchLength(reference.Name, entry.Prefix) >= 0 && (best is null || entry.Prefix.Length > best.Prefix.Length))
            {
                best = entry;
            }
        }

        return best;
    }

    /// <summary>
    /// Where to pull a reference from, in order: the mirrors of its <c>[[registry]]</c> table that apply (all of them,
    /// or by <c>mirror-by-digest-only</c> / <c>pull-from-mirror</c> only for a reference with or without a digest),
    /// then the primary location. A reference no table matches is its own single source.
    /// </summary>
    /// <exception cref="RegistryBlockedException">The matching table has <c>blocked = true</c>.</exception>
    public IReadOnlyList<PullSource> PullSources(ImageReference reference)
    {
        if (FindRegistry(reference) is not { } entry)
        {
            return [new PullSource(reference, false, false, null)];
        }

        if (entry.Blocked)
        {
            throw new RegistryBlockedException(reference, entry.Prefix, entry.File, entry.Line);
        }

        var byDigest = reference.Digest is not null;
        var sources = new List<PullSource>();
        foreach (var mirror in entry.Mirrors)
        {
            var applies = entry.MirrorByDigestOnly
                ? byDigest
                : mirror.PullFromMirror switch
                {
                    MirrorPullPolicy.DigestOnly => byDigest,
                    MirrorPullPolicy.TagOnly => !byDigest,
                    _ => true,
                };
            if (applies)
            {
                sources.Add(new PullSource(Rewrite(reference, entry, mirror.Location, mirror.File, mirror.Line), mirror.Insecure, true, mirror.File));
            }
        }

        sources.Add(new PullSource(Rewrite(reference, entry, entry.Location, entry.File, entry.Line), entry.Insecure, false, entry.File));
        return sources;
    }

    /// <summary>
    /// Where a push of the reference goes: its <c>location</c> rewrite, never a mirror. Note that podman and skopeo
    /// apply neither to pushes (the man page: "Redirection and mirrors are currently processed only when reading
    /// images"); edgeforge applies the rewrite so that an air-gapped site that maps an upstream name onto its own
    /// registry pushes there too. <c>blocked</c> concerns pulls only, as the man page says.
    /// </summary>
    public ImageReference PushDestination(ImageReference reference) =>
        FindRegistry(reference) is { } entry ? Rewrite(reference, entry, entry.Location, entry.File, entry.Line) : reference;

    /// <summary>
    /// Whether a registry (<c>host[:port]</c>) is the location of a table or mirror marked <c>insecure = true</c>, or
    /// matches an insecure wildcard table without location: plain HTTP and unverified certificates are then allowed.
    /// </summary>
    public bool IsInsecureRegistry(string registry)
    {
        foreach (var entry in Registries)
        {
            if (entry.Insecure && (entry.Location.Length > 0
                    ? SameRegistry(RegistryOf(entry.Location), registry)
                    : MatchLength(registry, entry.Prefix) >= 0))
            {
                return true;
            }

            if (entry.Mirrors.Any(m => m.Insecure && SameRegistry(RegistryOf(m.Location), registry)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// <see cref="IsInsecureRegistry"/> for a bare host name, as a TLS certificate check sees it (no port): true when
    /// any insecure location or mirror is on that host.
    /// </summary>
    internal bool IsInsecureHost(string host)
    {
        foreach (var entry in Registries)
        {
            if (entry.Insecure && (entry.Location.Length > 0
                    ? SameRegistry(HostOf(RegistryOf(entry.Location)), host)
                    : MatchLength(host, entry.Prefix) >= 0))
            {
                return true;
            }

            if (entry.Mirrors.Any(m => m.Insecure && SameRegistry(HostOf(RegistryOf(m.Location)), host)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>For logs and plans: where a pull of the reference is tried, in order, and which file said so.</summary>
    public string Describe(ImageReference reference)
    {
        IReadOnlyList<PullSource> sources;
        try
        {
            sources = PullSources(reference);
        }
        catch (RegistryBlockedException e)
        {
            return e.Message;
        }

        return string.Join(", then ", sources.Select(s =>
        {
            var notes = new List<string>();
            if (s.IsMirror)
            {
                notes.Add("mirror");
            }
            else if (s.Reference != reference)
            {
                notes.Add("location");
            }

            if (s.Insecure)
            {
                notes.Add("insecure");
            }

            if (s.ConfigurationFile is { } file && notes.Count > 0)
            {
                notes.Add("from " + file);
            }

            return s.Reference + (notes.Count > 0 ? $" ({string.Join(", ", notes)})" : "");
        }));
    }

    /// <summary>
    /// containers/image's rewriteReference: the part of the reference after the matched prefix is appended to the
    /// location; an empty location (wildcard prefixes only) keeps the reference as it is.
    /// </summary>
    private static ImageReference Rewrite(ImageReference reference, RegistryEntry entry, string location, string file, int line)
    {
        if (location.Length == 0)
        {
            return reference;
        }

        var full = reference.ToString();
        var matched = MatchLength(full, entry.Prefix);
        var rewritten = location + full[matched..];
        // containers/image parses the result with reference.ParseNamed, which insists on a canonical name: a
        // location "bar.local" for the prefix "example.com/foo/bar" gives "bar.local:1", a Docker Hub name.
        if (!ImageReference.TryParse(rewritten, out var result, out var error) || !SameRegistry(RegistryOf(rewritten), result.Registry))
        {
            error = error.Length > 0 ? error : "its registry part is missing";
            throw new RegistriesConfigurationException(file, line, $"{reference} rewritten for prefix \"{entry.Prefix}\" is \"{rewritten}\", not an image reference ({error})", "fix the location");
        }

        return result;
    }

    /// <summary>
    /// containers/image's refMatchingPrefix: the length of <paramref name="name"/> the prefix covers, or -1. A plain
    /// prefix must be followed by ':', '/', '@' or the end of the name; <c>*.example.com</c> matches a host that
    /// ends in ".example.com", before the first '/'.
    /// </summary>
    internal static int MatchLength(string name, string prefix)
    {
        if (prefix.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = prefix[1..];
            var index = name.IndexOf(suffix, StringComparison.Ordinal);
            if (index < 0 || name.AsSpan(0, index).Contains('/'))
            {
                return -1;
            }

            index += suffix.Length;
            return index == name.Length || name[index] is ':' or '/' or '@' ? index : -1;
        }

        if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return -1;
        }

        return name.Length == prefix.Length || name[prefix.Length] is ':' or '/' or '@' ? prefix.Length : -1;
    }

    private static string RegistryOf(string location)
    {
        var slash = location.IndexOf('/');
        return slash < 0 ? location : location[..slash];
    }

    private static string HostOf(string registry)
    {
        if (registry.StartsWith('['))
        {
            var close = registry.IndexOf(']');
            return close > 0 ? registry[1..close] : registry;
        }

        var colon = registry.LastIndexOf(':');
        return colon > 0 ? registry[..colon] : registry;
    }

    private static bool SameRegistry(string a, string b) =>
        string.Equals(Normalise(a), Normalise(b), StringComparison.OrdinalIgnoreCase);

    // Docker Hub answers at registry-1.docker.io (ImageReference.RegistryApiHost); the configuration names docker.io.
    private static string Normalise(string registry) => registry is "registry-1.docker.io" or "index.docker.io" ? "docker.io" : registry;

    private static FileSettings ParseFile(string text, string file) => new RegistriesFileReader(file).Read(RegistriesTomlReader.Parse(text, file));
}

/// <summary>What one file says, before it is merged with the files before it.</summary>
internal sealed record FileSettings(
    string File,
    IReadOnlyList<RegistryEntry> Registries,
    IReadOnlyList<string>? UnqualifiedSearchRegistries,
    string? ShortNameMode,
    IReadOnlyList<string>? CredentialHelpers,
    IReadOnlyList<KeyValuePair<string, string>> Aliases);
