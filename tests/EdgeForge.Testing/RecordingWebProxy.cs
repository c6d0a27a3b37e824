using System.Collections.Concurrent;
using System.Net;

namespace EdgeForge.Testing;

/// <summary>
/// A proxy setting that proxies nothing and remembers every URL the HTTP stack asked it about — one question per
/// request (SocketsHttpHandler asks <see cref="IsBypassed"/> before each send) — so that a test can say which hosts a
/// client contacted, and that it never contacted one.
/// </summary>
public sealed class RecordingWebProxy : IWebProxy
{
    private readonly ConcurrentQueue<Uri> _requests = new();

    public IReadOnlyList<Uri> Requests => [.. _requests];

    public ICredentials? Credentials { get; set; }

    public Uri? GetProxy(Uri destination) => null;

    public bool IsBypassed(Uri host)
    {
        _requests.Enqueue(host);
        return true;
    }
}
