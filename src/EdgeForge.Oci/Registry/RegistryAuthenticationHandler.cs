using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace EdgeForge.Oci.Registry;

/// <summary>
/// Authenticates registry requests, invisibly to the registry code (go-containerregistry's transport.bearer/basic):
/// on a 401 it reads the <c>WWW-Authenticate</c> challenge and either sends Basic credentials or obtains a bearer
/// token from the challenge's realm for the request's scopes (distribution docs, "Token Authentication
/// Specification"), then resends. Tokens are cached per realm, service and scope set until they expire; a 401 with
/// a cached token drops it and fetches a fresh one once. Without credentials the token request is anonymous, as
/// public registries expect.
/// </summary>
public sealed class RegistryAuthenticationHandler : DelegatingHandler
{
    private readonly ICredentialProvider _credentials;
    private readonly HttpMessageInvoker _tokenTransport;
    private readonly ConcurrentDictionary<string, AuthenticationChallenge> _challenges = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<CachedToken>>> _inFlight = new(StringComparer.Ordinal);

    /// <param name="tokenTransport">Sends token requests; must not include this handler (the realm is another server).</param>
    public RegistryAuthenticationHandler(ICredentialProvider credentials, HttpMessageInvoker tokenTransport)
    {
        _credentials = credentials;
        _tokenTransport = tokenTransport;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var registry = request.RequestUri!.Authority;
        var scopes = request.Options.TryGetValue(RegistryRequestOptions.Scopes, out var s) ? s : [];
        var usedCachedAuthorization = false;
        if (_challenges.TryGetValue(registry, out var known))
        {
            usedCachedAuthorization = await AuthorizeAsync(request, registry, known, scopes, forceRefresh: false, cancellationToken).ConfigureAwait(false);
        }

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        var challenge = PickChallenge(response);
        if (challenge is null)
        {
            return response;
        }

        _challenges[registry] = challenge;
        // Resend at most once: a second 401 is the registry's final word (bad credentials, or no access).
        var authorized = await AuthorizeAsync(request, registry, challenge, scopes, forceRefresh: usedCachedAuthorization || known is not null, cancellationToken).ConfigureAwait(false);
        if (!authorized)
        {
            return response;
        }

        response.Dispose();
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static AuthenticationChallenge? PickChallenge(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("WWW-Authenticate", out var values))
        {
            return null;
        }

        var challenges = values.SelectMany(v => AuthenticationChallenge.Parse(v)).ToList();
        return challenges.FirstOrDefault(c => c.IsBearer && c.Realm is not null) ?? challenges.FirstOrDefault(c => c.IsBasic);
    }

    /// <summary>Adds an Authorization header for the challenge; false when there is nothing to add.</summary>
    private async Task<bool> AuthorizeAsync(HttpRequestMessage request, string registry, AuthenticationChallenge challenge, IReadOnlyList<RegistryScope> scopes, bool forceRefresh, CancellationToken cancellationToken)
    {
        var credential = await _credentials.GetCredentialAsync(RegistryHostOf(registry), cancellationToken).ConfigureAwait(false);
        if (challenge.IsBasic)
        {
            if (credential is null || credential.IdentityToken is not null)
            {
                return false;
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicAuthorizationValue);
            return true;
        }

        var token = await GetTokenAsync(challenge, credential, scopes, forceRefresh, cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return true;
    }

    // Credentials are stored per registry name; Docker Hub's API host answers for docker.io.
    private static string RegistryHostOf(string authority) => authority == "registry-1.docker.io" ? "docker.io" : authority;

    private async Task<string> GetTokenAsync(AuthenticationChallenge challenge, RegistryCredential? credential, IReadOnlyList<RegistryScope> scopes, bool forceRefresh, CancellationToken cancellationToken)
    {
        // The challenge's own scope (if any) is what the registry asked for; add the scopes this request needs.
        var scopeStrings = scopes.Select(s => s.ToString()).ToList();
        if (challenge.Scope is { Length: > 0 } challengeScope)
        {
            scopeStrings.AddRange(challengeScope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }

        scopeStrings = scopeStrings.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var key = $"{challenge.Realm}|{challenge.Service}|{credential?.Username}|{string.Join(' ', scopeStrings)}";
        if (!forceRefresh && _tokens.TryGetValue(key, out var cached) && cached.ExpiresAt > DateTimeOffset.UtcNow)
        {
            return cached.Token;
        }

        // Concurrent requests that all met the same 401 share one token request instead of each asking.
        var fetch = _inFlight.GetOrAdd(key, _ => new Lazy<Task<CachedToken>>(() => FetchTokenAsync(challenge, credential, scopeStrings, cancellationToken)));
        try
        {
            var fresh = await fetch.Value.ConfigureAwait(false);
            _tokens[key] = fresh;
            return fresh.Token;
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<CachedToken>>>(key, fetch));
        }
    }

    private async Task<CachedToken> FetchTokenAsync(AuthenticationChallenge challenge, RegistryCredential? credential, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || realm.Scheme is not ("https" or "http"))
        {
            throw new RegistryAuthenticationException($"the registry's token realm \"{challenge.Realm}\" is not an http(s) URL");
        }

        using var request = new HttpRequestMessage();
        if (credential?.IdentityToken is { } refreshToken)
        {
            // OAuth2 refresh-token grant (distribution docs, "OAuth2 Token Authentication").
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "refresh_token"),
                new("refresh_token", refreshToken),
                new("client_id", "edgeforge"),
            };
            if (challenge.Service is { } service)
            {
                form.Add(new("service", service));
            }

            if (scopes.Count > 0)
            {
                form.Add(new("scope", string.Join(' ', scopes)));
            }

            request.Method = HttpMethod.Post;
            request.RequestUri = realm;
            request.Content = new FormUrlEncodedContent(form);
        }
        else
        {
            var query = new List<string>();
            if (challenge.Service is { } service)
            {
                query.Add("service=" + Uri.EscapeDataString(service));
            }

            query.AddRange(scopes.Select(scope => "scope=" + Uri.EscapeDataString(scope)));
            var builder = new UriBuilder(realm);
            var existing = builder.Query.TrimStart('?');
            builder.Query = string.Join('&', new[] { existing }.Where(q => q.Length > 0).Concat(query));
            request.Method = HttpMethod.Get;
            request.RequestUri = builder.Uri;
            if (credential is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicAuthorizationValue);
            }
        }

        using var response = await _tokenTransport.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var reason = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? credential is null ? "anonymous access was refused (log in first)" : "the credentials were refused"
                : $"HTTP {(int)response.StatusCode}";
            throw new RegistryAuthenticationException($"token service {realm.GetLeftPart(UriPartial.Path)}: {reason}");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
        var root = document.RootElement;
        // "token" is the spec's field; "access_token" the OAuth2 name some services use instead (or also).
        var token = root.TryGetProperty("token", out var t) && t.GetString() is { Length: > 0 } tokenValue ? tokenValue
            : root.TryGetProperty("access_token", out var a) && a.GetString() is { Length: > 0 } accessValue ? accessValue
            : throw new RegistryAuthenticationException($"token service {realm.GetLeftPart(UriPartial.Path)} returned no token");
        // expires_in defaults to 60 s (spec); refresh 10 s early so a token never expires in flight.
        var lifetime = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) && seconds > 0 ? seconds : 60;
        return new CachedToken(token, DateTimeOffset.UtcNow.AddSeconds(Math.Max(lifetime - 10, 5)));
    }

    private sealed record CachedToken(string Token, DateTimeOffset ExpiresAt);
}

/// <summary>Authentication with a registry or its token service failed. The message never contains a secret.</summary>
public sealed class RegistryAuthenticationException(string message) : IOException(message);
