using EdgeForge.Testing;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace EdgeForge.Oci.Tests.Support;

/// <summary>
/// A reverse proxy on 127.0.0.1 (Kestrel) in front of a registry that fails a share of requests before forwarding
/// them: with 500, 503 or 429 (Retry-After: 0), or by resetting the connection without any answer. Everything else
/// is forwarded with its body streamed both ways and the Host header kept, so the registry's Location URLs name the
/// proxy.
/// </summary>
public sealed class FaultInjectingProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Upgrade", "Proxy-Connection",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _upstream;
    private readonly Uri _target;
    private readonly double _failureRate;
    private readonly Random _random;
    private readonly Lock _lock = new();
    private int _faults;
    private int _requests;

    private FaultInjectingProxy(string targetAuthority, double failureRate, int seed)
    {
        _target = new Uri($"http://{targetAuthority}/");
        _failureRate = failureRate;
        _random = new Random(seed);
        _upstream = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(5) };
        Port = RegistryProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, Port);
            options.Limits.MaxRequestBodySize = null;
        });
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public static async Task<FaultInjectingProxy> StartAsync(string targetAuthority, double failureRate, int seed)
    {
        var proxy = new FaultInjectingProxy(targetAuthority, failureRate, seed);
        await proxy._app.StartAsync();
        return proxy;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public int FaultsInjected => Volatile.Read(ref _faults);

    public int RequestsSeen => Volatile.Read(ref _requests);

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        int fault;
        lock (_lock)
        {
            fault = _random.NextDouble() < _failureRate ? _random.Next(4) : -1;
        }

        if (fault >= 0)
        {
            Interlocked.Increment(ref _faults);
            if (fault == 3)
            {
                // A reset connection: the client sees no status line at all.
                context.Abort();
                return;
            }

            context.Response.StatusCode = fault switch { 0 => 500, 1 => 503, _ => 429 };
            context.Response.Headers.RetryAfter = "0";
            return;
        }

        var incoming = context.Request;
        using var request = new HttpRequestMessage(new HttpMethod(incoming.Method), new Uri(_target, incoming.Path.ToUriComponent() + incoming.QueryString.ToUriComponent()));
        request.Headers.Host = Address;
        if (incoming.ContentLength is > 0 || incoming.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(incoming.Body);
            if (incoming.ContentLength is { } length)
            {
                request.Content.Headers.ContentLength = length;
            }
        }
        else if (incoming.ContentLength == 0)
        {
            request.Content = new ByteArrayContent([]);
        }

        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        using var response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        if (response.Content.Headers.ContentLength is { } responseLength)
        {
            context.Response.ContentLength = responseLength;
        }

        if (!HttpMethods.IsHead(incoming.Method))
        {
            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            await body.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
