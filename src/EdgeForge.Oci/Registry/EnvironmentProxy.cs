using System.Net;

namespace EdgeForge.Oci.Registry;

/// <summary>
/// The proxy settings of the environment, with the conventions of Go's httpproxy package (which Docker, skopeo and
/// go-containerregistry use): <c>HTTPS_PROXY</c> for https URLs, <c>HTTP_PROXY</c> for http, lowercase names too;
/// <c>NO_PROXY</c> is a comma list of host names (a leading '.' or none both match subdomains), <c>host:port</c>,
/// IP addresses, CIDR ranges, or <c>*</c>. Loopback destinations are never proxied.
/// </summary>
public sealed class EnvironmentProxy : IWebProxy
{
    private readonly Uri? _httpProxy;
    private readonly Uri? _httpsProxy;
    private readonly IReadOnlyList<string> _noProxy;

    public EnvironmentProxy(string? httpProxy, string? httpsProxy, string? noProxy)
    {
        _httpProxy = ParseProxy(httpProxy);
        _httpsProxy = ParseProxy(httpsProxy);
        _noProxy = (noProxy ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(e => e.ToLowerInvariant()).ToList();
        // http://user:password@proxy:3128 — credentials for the proxy itself (407 challenges).
        var withUser = new[] { _httpsProxy, _httpProxy }.FirstOrDefault(p => p is not null && p.UserInfo.Length > 0);
        if (withUser is not null)
        {
            var colon = withUser.UserInfo.IndexOf(':');
            Credentials = colon < 0
                ? new NetworkCredential(Uri.UnescapeDataString(withUser.UserInfo), "")
                : new NetworkCredential(Uri.UnescapeDataString(withUser.UserInfo[..colon]), Uri.UnescapeDataString(withUser.UserInfo[(colon + 1)..]));
        }
    }

    public static EnvironmentProxy FromEnvironment() => new(
        Env("HTTP_PROXY") ?? Env("http_proxy"),
        Env("HTTPS_PROXY") ?? Env("https_proxy"),
        Env("NO_PROXY") ?? Env("no_proxy"));

    public bool IsConfigured => _httpProxy is not null || _httpsProxy is not null;

    public ICredentials? Credentials { get; set; }

    public Uri? GetProxy(Uri destination)
    {
        var proxy = destination.Scheme == Uri.UriSchemeHttps ? _httpsProxy : _httpProxy;
        return proxy is null || IsBypassed(destination) ? null : proxy;
    }

    public bool IsBypassed(Uri host)
    {
        var name = host.IdnHost.ToLowerInvariant().Trim('[', ']');
        if (name == "localhost" || (IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address)))
        {
            return true;
        }

        foreach (var entry in _noProxy)
        {
            if (entry == "*")
            {
                return true;
            }

            var pattern = entry;
            int? port = null;
            var colon = pattern.LastIndexOf(':');
            if (colon > 0 && !pattern.Contains('/') && pattern.Count(c => c == ':') == 1 && int.TryParse(pattern[(colon + 1)..], out var p))
            {
                port = p;
                pattern = pattern[..colon];
            }

            if (port is not null && port != host.Port)
            {
                continue;
            }

            if (pattern.Contains('/') && address is not null && InCidr(address, pattern))
            {
                return true;
            }

            if (IPAddress.TryParse(pattern.Trim('[', ']'), out var entryAddress))
            {
                if (address is not null && address.Equals(entryAddress))
                {
                    return true;
                }

                continue;
            }

            var domain = pattern.TrimStart('*').TrimStart('.');
            if (domain.Length > 0 && (name == domain || name.EndsWith("." + domain, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool InCidr(IPAddress address, string cidr)
    {
        var slash = cidr.IndexOf('/');
        if (!IPAddress.TryParse(cidr[..slash], out var network) || !int.TryParse(cidr[(slash + 1)..], out var prefix) || network.AddressFamily != address.AddressFamily)
        {
            return false;
        }

        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        for (var bit = 0; bit < prefix && bit < a.Length * 8; bit++)
        {
            var mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }

    private static Uri? ParseProxy(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        // Go accepts a bare host:port and assumes http://.
        var text = value.Contains("://", StringComparison.Ordinal) ? value : "http://" + value;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : throw new FormatException("the proxy URL in the environment is malformed");
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
