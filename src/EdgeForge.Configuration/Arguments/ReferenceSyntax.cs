using System.Net;
using System.Text.RegularExpressions;

namespace EdgeForge.Configuration.Arguments;

/// <summary>
/// Syntax checks for registry hosts, repositories, tags and image references, following the distribution project's
/// reference grammar (docker/distribution <c>reference/regexp.go</c>): lowercase path components separated by
/// <c>.</c>, <c>_</c>, <c>__</c> or dashes; tags <c>[\w][\w.-]{0,127}</c>; a domain is DNS labels (or <c>[IPv6]</c>)
/// with an optional port.
/// </summary>
public static partial class ReferenceSyntax
{
    public const int MaxTagLength = 128;

    public static bool IsTag(string tag) => TagPattern().IsMatch(tag);

    public static bool IsRepositoryPath(string path) => path.Split('/').All(c => PathComponentPattern().IsMatch(c));

    /// <summary>Why <paramref name="value"/> is not a valid <c>host[:port][/namespace]</c>, or null when it is.</summary>
    public static string? RegistryProblem(string value)
    {
        if (value.Contains("://", StringComparison.Ordinal))
        {
            return "must not contain a scheme (write ttl.sh, not https://ttl.sh)";
        }

        if (value.EndsWith('/'))
        {
            return "must not end with '/'";
        }

        var slash = value.IndexOf('/');
        var first = slash < 0 ? value : value[..slash];
        var rest = slash < 0 ? null : value[(slash + 1)..];
        if (LooksLikeDomain(first))
        {
            if (DomainProblem(first) is { } domainProblem)
            {
                return domainProblem;
            }
        }
        else
        {
            // No dot, port or "localhost": a Docker Hub namespace such as "spectrocloud".
            rest = value;
        }

        if (rest is not null && !IsRepositoryPath(rest))
        {
            return rest.Contains('_') && slash < 0
                ? "a registry host may not contain '_' (DNS rules)"
                : $"'{rest}' is not a valid namespace (lowercase letters, digits, and '.', '_', '-' between them)";
        }

        return null;
    }

    /// <summary>Why <paramref name="reference"/> is not a valid image reference, or null when it is.</summary>
    public static string? ImageReferenceProblem(string reference)
    {
        if (reference.Length == 0)
        {
            return "is empty";
        }

        if (reference.Contains("://", StringComparison.Ordinal))
        {
            return "must not contain a scheme (write registry.example.com/os/image:tag)";
        }

        var name = reference;
        var at = name.IndexOf('@');
        if (at >= 0)
        {
            if (!DigestPattern().IsMatch(name[(at + 1)..]))
            {
                return $"'{name[(at + 1)..]}' is not a valid digest (sha256:<64 hex digits>)";
            }

            name = name[..at];
        }

        var lastSlash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        if (colon > lastSlash)
        {
            var tag = name[(colon + 1)..];
            if (!IsTag(tag))
            {
                return $"'{tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128 characters)";
            }

            name = name[..colon];
        }

        var slash = name.IndexOf('/');
        if (slash > 0 && LooksLikeDomain(name[..slash]))
        {
            if (DomainProblem(name[..slash]) is { } domainProblem)
            {
                return domainProblem;
            }

            name = name[(slash + 1)..];
        }

        return IsRepositoryPath(name) ? null : $"'{name}' is not a valid repository (lowercase letters, digits, and '.', '_', '-' between them)";
    }

    private static bool LooksLikeDomain(string component) =>
        component.Contains('.') || component.Contains(':') || component == "localhost" || component.StartsWith('[') ||
        component.Any(char.IsUpper);

    private static string? DomainProblem(string domain)
    {
        var host = domain;
        string? port = null;
        if (domain.StartsWith('['))
        {
            var close = domain.IndexOf(']');
            if (close < 0 || !IPAddress.TryParse(domain[1..close], out _))
            {
                return $"'{domain}' is not a valid [IPv6] host";
            }

            host = "";
            port = close + 1 < domain.Length ? domain[(close + 1)..].TrimStart(':') : null;
        }
        else if (domain.IndexOf(':') is var colon and >= 0)
        {
            (host, port) = (domain[..colon], domain[(colon + 1)..]);
        }

        if (host.Length > 0 && !HostPattern().IsMatch(host))
        {
            return host.Contains('_')
                ? $"host '{host}' may not contain '_' (DNS rules)"
                : $"'{host}' is not a valid host name (DNS labels of letters, digits and '-')";
        }

        if (port is not null && (!int.TryParse(port, out var number) || number is < 1 or > 65535))
        {
            return $"'{port}' is not a valid port (1-65535)";
        }

        return null;
    }

    [GeneratedRegex(@"^[\w][\w.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex PathComponentPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*$")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$")]
    private static partial Regex DigestPattern();
}
