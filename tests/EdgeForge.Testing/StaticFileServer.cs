using System.Collections.Concurrent;
using System.Net;

namespace EdgeForge.Testing;

/// <summary>
/// Files served over plain HTTP on 127.0.0.1 (an <see cref="HttpListener"/>): a download source such as a mirror of
/// release binaries, which a build site would run. Unknown paths are 404; every request path is recorded.
/// </summary>
public sealed class StaticFileServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly IReadOnlyDictionary<string, string> _files;
    private readonly Task _loop;

    /// <param name="files">URL path (e.g. <c>/kine/v0.15.0/kine-amd64</c>) → local file.</param>
    public StaticFileServer(IReadOnlyDictionary<string, string> files)
    {
        _files = files;
        var port = RegistryProcess.FreePort();
        Address = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Address + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string Address { get; }

    public ConcurrentQueue<string> Requests { get; } = new();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                var path = context.Request.Url!.AbsolutePath;
                Requests.Enqueue(path);
                if (_files.TryGetValue(path, out var file))
                {
                    context.Response.ContentLength64 = new FileInfo(file).Length;
                    await using var input = File.OpenRead(file);
                    await input.CopyToAsync(context.Response.OutputStream);
                }
                else
                {
                    context.Response.StatusCode = 404;
                }
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // The client went away: nothing to answer.
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
