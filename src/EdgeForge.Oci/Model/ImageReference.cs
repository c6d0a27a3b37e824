using System.Text.RegularExpressions;

namespace EdgeForge.Oci.Model;

/// <summary>
/// An image reference <c>[registry[:port]/]path[:tag][@digest]</c>, parsed by the grammar of
/// distribution/reference (reference.go) with Docker's normalisation: no registry → <c>docker.io</c>, a single
/// path component on Docker Hub → <c>library/NAME</c>, neither tag nor digest → <c>latest</c>.
/// </summary>
public sealed partial record ImageReference
{
    public const string DockerHubDomain = "docker.io";
    private const int MaxNameLength = 255;

    private ImageReference(string registry, string repository, string? tag, Digest? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry host with optional port, e.g. <c>docker.io</c>, <c>localhost:5000</c>, <c>[::1]:5000</c>.</summary>
    public string Registry { get; }

    /// <summary>The repository path inside the registry, e.g. <c>library/ubuntu</c>.</summary>
    public string Repository { get; }

    public string? Tag { get; }

    public Digest? Digest { get; }

    /// <summary>What a registry's manifest endpoint takes: the digest when pinned (it wins over a tag), else the tag.</summary>
    public string Identifier => Digest?.ToString() ?? Tag ?? "latest";

    /// <summary>The host the registry API is served from: Docker Hub's API lives at registry-1.docker.io.</summary>
    public string RegistryApiHost => Registry == DockerHubDomain ? "registry-1.docker.io" : Registry;

    public string Name => $"{Registry}/{Repository}";

    public ImageReference WithTag(string tag) => new(Registry, Repository, ValidateTag(tag), null);

    public ImageReference WithDigest(Digest digest) => new(Registry, Repository, Tag, digest);

    public ImageReference WithRepository(string repository) => Parse($"{Registry}/{repository}:{Tag ?? "latest"}");

    public override string ToString() => Name + (Tag is null ? "" : ":" + Tag) + (Digest is { } d ? "@" + d : "");

    public static ImageReference Parse(string value) =>
        TryParse(value, out var reference, out var error) ? reference : throw new FormatException($"invalid image reference \"{value}\": {error}");

    public static bool TryParse(string? value, out ImageReference reference, out string error)
    {
        reference = null!;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "empty";
            return false;
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            error = "a reference has no scheme (write registry.example.com/repo:tag)";
            return false;
        }

        var rest = value;
        Digest? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            if (!Model.Digest.TryParse(rest[(at + 1)..], out var parsed, out var digestError))
            {
                error = $"bad digest: {digestError}";
                return false;
            }

            digest = parsed;
            rest = rest[..at];
        }

        // The tag is after the last ':' that follows the last '/': a ':' before it belongs to a registry port.
        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var lastColon = rest.LastIndexOf(':');
        if (lastColon > lastSlash)
        {
            tag = rest[(lastColon + 1)..];
            rest = rest[..lastColon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"bad tag \"{tag}\" (up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-')";
                return false;
            }
        }

        string registry;
        string path;
        var firstSlash = rest.IndexOf('/');
        var first = firstSlash < 0 ? rest : rest[..firstSlash];
        // Docker's rule (normalize.go splitDockerDomain): the first component names a registry when it has a '.' or
        // a ':' or is "localhost"; otherwise the whole name is a Docker Hub repository.
        if (firstSlash >= 0 && (first.Contains('.') || first.Contains(':') || first == "localhost" || first.StartsWith('[')))
        {
            registry = first;
            path = rest[(firstSlash + 1)..];
            if (!IsValidDomain(registry, out var domainError))
            {
                error = domainError;
                return false;
            }
        }
        else
        {
            registry = DockerHubDomain;
            path = rest;
        }

        if (registry == "index.docker.io")
        {
            registry = DockerHubDomain;
        }

        if (registry == DockerHubDomain && !path.Contains('/'))
        {
            path = "library/" + path;
        }

        if (path.Length == 0)
        {
            error = "missing repository name";
            return false;
        }

        foreach (var component in path.Split('/'))
        {
            if (component.Length == 0)
            {
                error = "empty path component (double or trailing '/')";
                return false;
            }

            if (component.Any(char.IsUpper))
            {
                error = $"repository name must be lowercase (\"{component}\")";
                return false;
            }

            if (!PathComponentPattern().IsMatch(component))
            {
                error = $"bad path component \"{component}\" (lowercase letters and digits separated by '.', '_', '__' or dashes)";
                return false;
            }
        }

        if (registry.Length + 1 + path.Length > MaxNameLength)
        {
            error = $"name longer than {MaxNameLength} characters";
            return false;
        }

        if (tag is null && digest is null)
        {
            tag = "latest";
        }

        reference = new ImageReference(registry, path, tag, digest);
        error = "";
        return true;
    }

    private static bool IsValidDomain(string domain, out string error)
    {
        error = "";
        string host;
        string? port = null;
        if (domain.StartsWith('['))
        {
            var close = domain.IndexOf(']');
            if (close < 0 || !System.Net.IPAddress.TryParse(domain[1..close], out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                error = $"bad IPv6 registry address \"{domain}\"";
                return false;
            }

            host = domain[..(close + 1)];
            if (close + 1 < domain.Length)
            {
                if (domain[close + 1] != ':')
                {
                    error = $"bad registry \"{domain}\"";
                    return false;
                }

                port = domain[(close + 2)..];
            }
        }
        else
        {
            var colon = domain.IndexOf(':');
            host = colon < 0 ? domain : domain[..colon];
            port = colon < 0 ? null : domain[(colon + 1)..];
            if (!host.Split('.').All(label => DomainComponentPattern().IsMatch(label)))
            {
                error = $"bad registry host \"{host}\" (letters, digits and '-' in dot-separated labels)";
                return false;
            }
        }

        if (port is not null && (port.Length == 0 || !port.All(char.IsAsciiDigit) || !int.TryParse(port, out var number) || number is < 1 or > 65535))
        {
            error = $"bad registry port \"{port}\"";
            return false;
        }

        return true;
    }

    internal static string ValidateTag(string tag) =>
        TagPattern().IsMatch(tag) ? tag : throw new FormatException($"invalid tag \"{tag}\"");

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex PathComponentPattern();

    [GeneratedRegex(@"^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$")]
    private static partial Regex DomainComponentPattern();
}
