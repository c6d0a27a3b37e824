using System.Net;

namespace EdgeForge.Oci.Registry;

public sealed record RegistryClientOptions
{
    public ICredentialProvider Credentials { get; init; } = AnonymousCredentialProvider.Instance;

    /// <summary>
    /// Registries (<c>host</c> or <c>host:port</c>) that may be reached over plain HTTP or with an unverified
    /// certificate (Docker's <c>insecure-registries</c>). Loopback registries may always fall back to HTTP.
    /// </summary>
    public IReadOnlyCollection<string> InsecureRegistries { get; init; } = [];

    /// <summary>PEM files or directories of PEM files (<c>*.pem</c>, <c>*.crt</c>) whose CA certificates are trusted besides the system's.</summary>
    public IReadOnlyList<string> CaCertificatePaths { get; init; } = [];

    public RetrySettings Retry { get; init; } = new();

    /// <summary>The proxy; null means the environment's (<see cref="EnvironmentProxy"/>).</summary>
    public IWebProxy? Proxy { get; init; }

    /// <summary>Skip the single-request (monolithic) upload and always upload in PATCH chunks of <see cref="ChunkSize"/>.</summary>
    public bool ForceChunkedUpload { get; init; }

    public int ChunkSize { get; init; } = 32 << 20;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest a registry may stay silent: before its response headers, or between two reads of a body. A transfer
    /// that keeps moving is never cut, however long it takes (<see cref="RegistryTimeoutHandler"/>).
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Registry remapping and mirrors (containers-registries.conf(5)): pulls try the mirrors of a reference's
    /// <c>[[registry]]</c> table in order, then its location; pushes go to the location. A table or mirror marked
    /// <c>insecure</c> is treated like an entry of <see cref="InsecureRegistries"/>.
    /// </summary>
    public RegistriesConfiguration Mirrors { get; init; } = RegistriesConfiguration.Empty;
}
