using System.Collections.Concurrent;
using System.Net;

namespace EdgeForge.Testing;

/// <summary>
/// Files served over plain HTTP on 127.0.0.1: a download source such as a mirror of release binaries, which a build
/// site would run. Unknown paths are 404; every request path is recorded.
/// </summary>
public sealed class StaticFileServer : LoopbackHttpServer
{
    private readonly IReadOnlyDictionary<string, string> _files;

    /// <param name="files">URL path (e.g. <c>/kine/v0.15.0/kine-amd64</c>) → local file.</param>
    public StaticFileServer(IReadOnlyDictionary<string, string> files)
    {
        _files = files;
        Start();
    }

    public ConcurrentQueue<string> Requests { get; } = new();

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;
        Requests.Enqueue(path);
        if (!_files.TryGetValue(path, out var file))
        {
            context.Response.StatusCode = 404;
            return;
        }

        // One request per connection: apt pipelines requests on a kept-alive connection, and HttpListener answers the
        // queued ones only after a stall of seconds each.
        context.Response.KeepAlive = false;
        context.Response.ContentLength64 = new FileInfo(file).Length;
        await using var input = File.OpenRead(file);
        await input.CopyToAsync(context.Response.OutputStream);
    }
}
