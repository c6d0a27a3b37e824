using System.Net;

namespace EdgeForge.Testing;

/// <summary>
/// An <see cref="HttpListener"/> on a free port of 127.0.0.1 that answers each request with <see cref="HandleAsync"/>
/// and closes the response; the base of the toolkit's small HTTP services (token server, file source).
/// </summary>
public abstract class LoopbackHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private Task? _loop;

    protected LoopbackHttpServer()
    {
        var port = RegistryProcess.FreePort();
        Address = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Address + "/");
    }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string Address { get; }

    /// <summary>Starts answering; called by the subclass once its own state is ready.</summary>
    protected void Start()
    {
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    protected abstract Task HandleAsync(HttpListenerContext context);

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
                await HandleAsync(context);
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

    public virtual async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        if (_loop is not null)
        {
            await _loop;
        }

        GC.SuppressFinalize(this);
    }
}
