using System.Net;
using EdgeForge.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EdgeForge.Oci.Tests.Support;

/// <summary>
/// A "registry" on 127.0.0.1 (Kestrel) that answers every manifest request, by tag or digest, with the same small
/// OCI manifest: a mirror that is out of sync or hostile. Whatever digest a client asks for, these bytes hash to
/// something else.
/// </summary>
public sealed class LyingRegistry : IAsyncDisposable
{
    public const string Manifest = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}""";

    private readonly WebApplication _app;

    private LyingRegistry()
    {
        Port = RegistryProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, Port));
        _app = builder.Build();
        _app.Run(async context =>
        {
            if (context.Request.Path.Value?.Contains("/manifests/", StringComparison.Ordinal) == true)
            {
                context.Response.ContentType = "application/vnd.oci.image.manifest.v1+json";
                await context.Response.WriteAsync(Manifest);
                return;
            }

            context.Response.StatusCode = context.Request.Path.Value is "/v2/" or "/v2" ? 200 : 404;
        });
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public static async Task<LyingRegistry> StartAsync()
    {
        var registry = new LyingRegistry();
        await registry._app.StartAsync();
        return registry;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
