using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeForge.Testing;

/// <summary>How a test registry authenticates and serves.</summary>
public sealed record RegistrySettings
{
    /// <summary>htpasswd file for Basic authentication.</summary>
    public string? HtpasswdFile { get; init; }

    public TokenService? TokenService { get; init; }

    public (string Certificate, string Key)? Tls { get; init; }
}

/// <summary>
/// The CNCF Distribution registry (<c>docker-registry serve CONFIG</c>, Debian package docker-registry) on
/// 127.0.0.1 with a free port and temporary storage, stopped at dispose.
/// </summary>
public sealed class RegistryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TestDirectory _directory;

    private RegistryProcess(Process process, TestDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The registry's filesystem storage (<c>docker/registry/v2/…</c>), for tests that tamper with stored blobs.</summary>
    public string StorageDirectory => _directory.Combine("storage");

    /// <summary>host:port of the registry, as a reference's registry part.</summary>
    public string Address => $"127.0.0.1:{Port}";

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<RegistryProcess> StartAsync(RegistrySettings? settings = null)
    {
        settings ??= new RegistrySettings();
        var binary = ExternalTool.Require("docker-registry");
        var directory = new TestDirectory();
        var port = FreePort();
        var config = $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {directory.Combine("storage")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              secret: edgeforge-test-secret

            """;
        if (settings.Tls is { } tls)
        {
            config += $"""
                  tls:
                    certificate: {tls.Certificate}
                    key: {tls.Key}

                """;
        }

        if (settings.HtpasswdFile is { } htpasswd)
        {
            config += $"""
                auth:
                  htpasswd:
                    realm: edgeforge-test
                    path: {htpasswd}

                """;
        }
        else if (settings.TokenService is { } tokens)
        {
            config += $"""
                auth:
                  token:
                    realm: {tokens.Realm}
                    service: {TokenService.Service}
                    issuer: {TokenService.Issuer}
                    rootcertbundle: {tokens.CertificateBundlePath}

                """;
        }

        var configPath = directory.Combine("config.yml");
        await File.WriteAllTextAsync(configPath, config);
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(configPath);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new RegistryProcess(process, directory, port);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with {process.ExitCode} at start");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return registry;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _directory.Dispose();
    }
}
