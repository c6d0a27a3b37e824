using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeForge.Testing;

/// <summary>
/// A forward HTTP proxy on 127.0.0.1 that sends every connection to one target (a local registry) whatever host the
/// client named, and records the hosts named in each connection's first request line (<c>GET http://HOST:PORT/… HTTP/1.1</c>).
/// A client that reaches a made-up host name through it proves it used the proxy: without it the name does not resolve.
/// Made <c>held</c>, it accepts connections but relays nothing until <see cref="Release"/>: a client's network step is
/// then running for as long as a test needs to see it running, however fast the machine.
/// </summary>
/// <remarks>
/// Only plain-HTTP forwarding (absolute-form request targets, RFC 9112 §3.2.2) is served; the rest of a connection is
/// relayed byte for byte, which Go's net/http server (docker-registry) accepts since it takes absolute-form targets too.
/// </remarks>
public sealed class ForwardingHttpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _hosts = new();
    private readonly Task _accepting;
    private int _connections;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ForwardingHttpProxy(IPEndPoint target, bool held = false)
    {
        _target = target;
        if (!held)
        {
            _released.SetResult();
        }

        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy URL for HTTP_PROXY.</summary>
    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Lets a held proxy relay: connections waiting since they were accepted go on.</summary>
    public void Release() => _released.TrySetResult();

    /// <summary>How many connections it has accepted.</summary>
    public int Connections => _connections;

    /// <summary>The <c>host:port</c> of every connection's first request, in order.</summary>
    public IReadOnlyList<string> Hosts => [.. _hosts];

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var downstream = client.GetStream();
            // Read up to the end of the request line to learn which host the client asked for.
            var head = new MemoryStream();
            var buffer = new byte[1];
            while (head.Length < 8192 && await downstream.ReadAsync(buffer, _stop.Token) == 1)
            {
                head.WriteByte(buffer[0]);
                if (buffer[0] == '\n')
                {
                    break;
                }
            }

            var requestLine = Encoding.ASCII.GetString(head.ToArray()).Split(' ');
            if (requestLine.Length >= 2 && Uri.TryCreate(requestLine[1], UriKind.Absolute, out var target))
            {
                _hosts.Enqueue(target.Authority);
            }

            await _released.Task.WaitAsync(_stop.Token);
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(_target, _stop.Token);
            var upstreamStream = upstream.GetStream();
            await upstreamStream.WriteAsync(head.ToArray(), _stop.Token);
            var up = downstream.CopyToAsync(upstreamStream, _stop.Token);
            var down = upstreamStream.CopyToAsync(downstream, _stop.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A connection the client or registry closed: nothing to relay any more.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
