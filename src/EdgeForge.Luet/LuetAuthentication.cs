using System.Text;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Luet;

/// <summary>
/// The <c>auth:</c> map of a luet repository (pkg/api/core/types/repository.go LuetRepository.Authentication,
/// <c>yaml:"auth"</c>; CanvOS appends it from <c>spectro-luet-auth.yaml</c>) as an EdgeForge registry credential.
/// luet's docker client (pkg/installer/client/docker.go NewDockerClient) turns the map into Docker's
/// <c>registry.AuthConfig</c> through JSON, so its keys are that struct's JSON names — <c>username</c>,
/// <c>password</c>, <c>auth</c>, <c>identitytoken</c>, <c>registrytoken</c>, <c>serveraddress</c>, <c>email</c> — matched
/// case-insensitively as Go's encoding/json does; pkg/helpers/docker/docker.go staticAuth hands username, password,
/// auth, identitytoken and registrytoken to go-containerregistry for every registry the repository's images are on.
/// </summary>
public static class LuetAuthentication
{
    /// <summary>
    /// The credential the map describes, or null when it names none (anonymous, as luet with an empty map). A
    /// username with a password wins over <c>auth</c> (base64 of <c>USER:PASSWORD</c>, Docker config style), which wins
    /// over an <c>identitytoken</c> (an OAuth2 refresh token). <c>registrytoken</c> (a ready bearer token) is refused
    /// with a clear message: EdgeForge obtains its own tokens from the credential.
    /// </summary>
    public static RegistryCredential? FromAuthMap(IReadOnlyDictionary<string, string> auth)
    {
        ArgumentNullException.ThrowIfNull(auth);
        string? Field(string name) =>
            auth.FirstOrDefault(kv => string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)).Value is { Length: > 0 } value ? value : null;

        var username = Field("username");
        var password = Field("password");
        if (username is not null || password is not null)
        {
            if (username is null || password is null)
            {
                throw new ArgumentException($"luet repository auth: \"{(username is null ? "password" : "username")}\" is set but \"{(username is null ? "username" : "password")}\" is not");
            }

            return new RegistryCredential(username, password);
        }

        if (Field("auth") is { } encoded)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                throw new ArgumentException("luet repository auth: \"auth\" is not base64 (it holds base64 of USER:PASSWORD, as in a Docker config)");
            }

            if (!decoded.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException("luet repository auth: \"auth\" does not decode to USER:PASSWORD");
            }

            return RegistryCredential.ParseUserPassword(decoded);
        }

        if (Field("identitytoken") is { } identityToken)
        {
            return RegistryCredential.FromIdentityToken(identityToken);
        }

        if (Field("registrytoken") is not null)
        {
            throw new ArgumentException("luet repository auth: \"registrytoken\" (a pre-issued bearer token) is not supported; give username and password, auth, or identitytoken");
        }

        return null;
    }

    /// <summary>A provider that answers with the map's credential for the repository's registry and asks <paramref name="inner"/> otherwise.</summary>
    public static ICredentialProvider CreateProvider(ImageReference repository, IReadOnlyDictionary<string, string> auth, ICredentialProvider? inner = null)
    {
        ArgumentNullException.ThrowIfNull(repository);
        inner ??= AnonymousCredentialProvider.Instance;
        return FromAuthMap(auth) is { } credential ? new LuetRepositoryCredentialProvider(repository.Registry, credential, inner) : inner;
    }
}

/// <summary>
/// The luet repository's credential for its registry host[:port]; every other registry is the inner provider's (a
/// luet auth map is per repository, while the registry client serves every image of a build).
/// </summary>
public sealed class LuetRepositoryCredentialProvider(string registry, RegistryCredential credential, ICredentialProvider inner) : ICredentialProvider
{
    public string Registry => registry;

    public Task<RegistryCredential?> GetCredentialAsync(string forRegistry, CancellationToken cancellationToken = default) =>
        string.Equals(forRegistry, registry, StringComparison.OrdinalIgnoreCase)
            ? Task.FromResult<RegistryCredential?>(credential)
            : inner.GetCredentialAsync(forRegistry, cancellationToken);
}
