namespace EdgeForge.Oci.Registry;

/// <summary>
/// Bounds how long a registry may stay silent: the response headers must arrive within <c>idle</c>, and once a body
/// streams, no read may wait longer than <c>idle</c> for its next bytes. A server that accepts the connection and then
/// says nothing (a dead proxy, a half-open connection, a hostile endpoint) fails the request with a
/// <see cref="RegistryTimeoutException"/> instead of hanging the build forever; a slow but moving transfer never does,
/// however long it takes. The HTTP client's own whole-request timeout stays off for that reason (a 10 GiB layer).
/// </summary>
internal sealed class RegistryTimeoutHandler(TimeSpan idle) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        headers.CancelAfter(idle);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, headers.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryTimeoutException($"{request.RequestUri?.GetLeftPart(UriPartial.Authority)} sent no answer within {idle.TotalSeconds:0} s ({request.Method} {request.RequestUri?.AbsolutePath})");
        }

        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var bounded = new StreamContent(new IdleTimeoutStream(body, idle, request.RequestUri));
        foreach (var header in response.Content.Headers)
        {
            bounded.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = bounded;
        return response;
    }

    /// <summary>A response body whose every read must see bytes within the idle time.</summary>
    private sealed class IdleTimeoutStream(Stream inner, TimeSpan idle, Uri? uri) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            quiet.CancelAfter(idle);
            try
            {
                return await inner.ReadAsync(buffer, quiet.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RegistryTimeoutException($"{uri?.GetLeftPart(UriPartial.Authority)} stopped sending for {idle.TotalSeconds:0} s in the middle of {uri?.AbsolutePath}");
            }
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A registry went silent past the idle timeout (no answer, or a body that stopped): the operation failed (exit 1).</summary>
public sealed class RegistryTimeoutException(string message) : IOException(message);
