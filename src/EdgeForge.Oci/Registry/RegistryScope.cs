namespace EdgeForge.Oci.Registry;

/// <summary>
/// A resource scope of the token authentication spec (distribution docs, "Token Scope Documentation"):
/// <c>repository:NAME:ACTION[,ACTION]</c>.
/// </summary>
public sealed record RegistryScope(string Repository, string Actions)
{
    public static RegistryScope Pull(string repository) => new(repository, "pull");

    public static RegistryScope PullPush(string repository) => new(repository, "pull,push");

    public override string ToString() => $"repository:{Repository}:{Actions}";
}

/// <summary>What the registry code tells the handler chain about a request, through <see cref="HttpRequestMessage.Options"/>.</summary>
internal static class RegistryRequestOptions
{
    /// <summary>The scopes a bearer token for this request needs.</summary>
    public static readonly HttpRequestOptionsKey<IReadOnlyList<RegistryScope>> Scopes = new("edgeforge.registry.scopes");

    /// <summary>Set on probe requests (the HTTPS-or-HTTP ping) that must fail fast instead of being retried.</summary>
    public static readonly HttpRequestOptionsKey<bool> NoRetry = new("edgeforge.registry.no-retry");
}

/// <summary>
/// Request content that opens its stream anew each time it is sent, so the retry and auth handlers can resend a
/// blob upload after a failure or a 401 without buffering the blob.
/// </summary>
internal sealed class ReopenableStreamContent : HttpContent
{
    private readonly Func<CancellationToken, Task<Stream>> _open;
    private readonly long _length;

    public ReopenableStreamContent(Func<CancellationToken, Task<Stream>> open, long length, string contentType = "application/octet-stream")
    {
        _open = open;
        _length = length;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        Headers.ContentLength = length;
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        await using var source = await _open(cancellationToken).ConfigureAwait(false);
        await source.CopyToAsync(stream, 1 << 16, cancellationToken).ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
