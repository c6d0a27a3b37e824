using System.Net;

namespace EdgeForge.Oci.Tests.Support;

/// <summary>
/// A reverse proxy on 127.0.0.1 in front of a registry that fails a share of requests before forwarding them: with
/// 500, 503 or 429 (Retry-After: 0), or by dropping the connection without an answer. Everything else is forwarded
/// with its body streamed both ways and the Host header kept, so the registry's Location URLs name the proxy.
/// </summary>
public sealed class FaultInjectingProxy : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream;
    private readonly Uri _target;
    private readonly double _failureRate;
    private readonly Random _random;
    private readonly Lock _lock = new();
    private readonly Task _loop;
    private int _faults;
    private int _requests;

    public FaultInjectingProxy(string targetAuthority, double failureRate, int seed)
    {
        _target = new Uri($"http://{targetAuthority}/");
        _failureRate = failureRate;
        _random = new Random(seed);
        _upstream = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(5) };
        Port = RegistryProcess.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public System.Collections.Concurrent.ConcurrentQueue<string> Log { get; } = new();

    public string Address => $"127.0.0.1:{Port}";

    public int FaultsInjected => Volatile.Read(ref _faults);

    public int RequestsSeen => Volatile.Read(ref _requests);

    private async Task AcceptAsync()
    {
        var inFlight = new List<Task>();
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                break;
            }

            inFlight.RemoveAll(t => t.IsCompleted);
            inFlight.Add(Task.Run(() => HandleAsync(context)));
        }

        await Task.WhenAll(inFlight);
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        Interlocked.Increment(ref _requests);
        int fault;
        lock (_lock)
        {
            fault = _random.NextDouble() < _failureRate ? _random.Next(4) : -1;
        }

        try
        {
            if (fault >= 0)
            {
                Interlocked.Increment(ref _faults);
                Log.Enqueue($"{context.Request.HttpMethod} {context.Request.RawUrl} -> FAULT {fault}");
                if (fault == 3)
                {
                    context.Response.Abort();
                    return;
                }

                context.Response.StatusCode = fault switch { 0 => 500, 1 => 503, _ => 429 };
                context.Response.AddHeader("Retry-After", "0");
                context.Response.Close();
                return;
            }

            await ForwardAsync(context);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or HttpRequestException or ObjectDisposedException)
        {
            context.Response.Abort();
        }
    }

    private async Task ForwardAsync(HttpListenerContext context)
    {
        var incoming = context.Request;
        using var request = new HttpRequestMessage(new HttpMethod(incoming.HttpMethod), new Uri(_target, incoming.RawUrl));
        request.Headers.Host = Address;
        if (incoming.HasEntityBody)
        {
            request.Content = new StreamContent(incoming.InputStream);
            if (incoming.ContentLength64 >= 0)
            {
                request.Content.Headers.ContentLength = incoming.ContentLength64;
            }
        }

        foreach (var name in incoming.Headers.AllKeys)
        {
            if (name is null || name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var values = incoming.Headers.GetValues(name) ?? [];
            if (!request.Headers.TryAddWithoutValidation(name, values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values);
            }
        }

        using var response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Log.Enqueue($"{incoming.HttpMethod} {incoming.RawUrl} -> {(int)response.StatusCode}");
        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var value in values)
            {
                outgoing.AppendHeader(name, value);
            }
        }

        if (response.Content.Headers.ContentLength is { } length)
        {
            outgoing.ContentLength64 = length;
        }

        if (incoming.HttpMethod != "HEAD")
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.CopyToAsync(outgoing.OutputStream);
        }

        outgoing.Close();
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
        _upstream.Dispose();
    }
}
