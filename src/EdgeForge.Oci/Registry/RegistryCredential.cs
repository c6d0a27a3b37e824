namespace EdgeForge.Oci.Registry;

/// <summary>
/// A user name and secret for a registry, or an identity (OAuth2 refresh) token. <see cref="ToString"/> never
/// shows the secret, so a credential can't leak through a log line or an exception message by accident.
/// </summary>
public sealed class RegistryCredential
{
    public RegistryCredential(string username, string password)
    {
        Username = username;
        Password = password;
    }

    private RegistryCredential(string identityToken)
    {
        Username = "<token>";
        Password = "";
        IdentityToken = identityToken;
    }

    public string Username { get; }

    public string Password { get; }

    /// <summary>An OAuth2 refresh token (docker config <c>identitytoken</c>), exchanged at the token endpoint by POST.</summary>
    public string? IdentityToken { get; }

    public static RegistryCredential FromIdentityToken(string token) => new(token);

    /// <summary>Parses <c>USER:PASSWORD</c> (the password may contain ':').</summary>
    public static RegistryCredential ParseUserPassword(string value)
    {
        var colon = value.IndexOf(':');
        if (colon <= 0)
        {
            throw new FormatException("credentials must be USER:PASSWORD");
        }

        return new RegistryCredential(value[..colon], value[(colon + 1)..]);
    }

    public string BasicAuthorizationValue => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    public override string ToString() => $"credential for {Username} (secret hidden)";
}

/// <summary>Where credentials for a registry come from (a --creds flag, the Docker config, credential helpers).</summary>
public interface ICredentialProvider
{
    /// <summary>The credential for a registry host[:port], or null for anonymous access.</summary>
    Task<RegistryCredential?> GetCredentialAsync(string registry, CancellationToken cancellationToken = default);
}

/// <summary>The same credential for one registry (or for every registry when <c>registry</c> is null), then a fallback.</summary>
public sealed class StaticCredentialProvider(RegistryCredential credential, string? registry = null, ICredentialProvider? fallback = null) : ICredentialProvider
{
    public Task<RegistryCredential?> GetCredentialAsync(string forRegistry, CancellationToken cancellationToken = default) =>
        registry is null || string.Equals(registry, forRegistry, StringComparison.OrdinalIgnoreCase)
            ? Task.FromResult<RegistryCredential?>(credential)
            : fallback?.GetCredentialAsync(forRegistry, cancellationToken) ?? Task.FromResult<RegistryCredential?>(null);
}

public sealed class AnonymousCredentialProvider : ICredentialProvider
{
    public static AnonymousCredentialProvider Instance { get; } = new();

    public Task<RegistryCredential?> GetCredentialAsync(string registry, CancellationToken cancellationToken = default) => Task.FromResult<RegistryCredential?>(null);
}
