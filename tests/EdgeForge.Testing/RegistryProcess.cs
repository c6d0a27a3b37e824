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

    /// <summary>
    /// Starts the registry on a free port. The port is free when picked but another process may take it before the
    /// registry binds it; a start that fails so (the registry exits saying the address is in use, or the port never
    /// becomes the registry's) is retried on a new port.
    /// </summary>
    public static async Task<RegistryProcess> StartAsync(RegistrySettings? settings = null)
    {
        settings ??= new RegistrySettings();
        var failures = new List<string>();
        for (var attempt = 1; attempt <= StartAttempts; attempt++)
        {
            var directory = new TestDirectory("edgeforge-registry-");
            var port = FreePort();
            var configPath = directory.Combine("config.yml");
            await File.WriteAllTextAsync(configPath, Configuration(settings, directory.Combine("storage"), port));
            var log = new System.Text.StringBuilder();
            var process = Process.Start(ExternalTool.StartInfo("docker-registry", ["serve", configPath]))!;
            process.OutputDataReceived += (_, e) => Append(log, e.Data);
            process.ErrorDataReceived += (_, e) => Append(log, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.StandardInput.Close();
            var failure = await WaitUntilServingAsync(process, port, log);
            if (failure is null)
            {
                return new RegistryProcess(process, directory, port);
            }

            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            process.Dispose();
            directory.Dispose();
            failures.Add($"port {port}: {failure.Reason}");
            if (!failure.PortTaken)
            {
                break;
            }
        }

        throw new InvalidOperationException("docker-registry did not start: " + string.Join("; ", failures));
    }

    private const int StartAttempts = 5;

    /// <summary>Why a start failed, and whether it is the port race (worth another port) rather than the registry itself.</summary>
    private sealed record StartFailure(string Reason, bool PortTaken);

    private static void Append(System.Text.StringBuilder log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }
    }

    /// <summary>Null once the registry itself listens on the port.</summary>
    private static async Task<StartFailure?> WaitUntilServingAsync(Process process, int port, System.Text.StringBuilder log)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                string said;
                lock (log)
                {
                    said = log.ToString();
                }

                return new StartFailure($"exited with {process.ExitCode}: {said.Trim()}", said.Contains("address already in use", StringComparison.Ordinal));
            }

            // Connecting is not enough: the process that took the port would answer too.
            if (LoopbackListeners.Owns(process.Id, port))
            {
                return null;
            }

            await Task.Delay(100);
        }

        return new StartFailure("not listening after 30 s", PortTaken: true);
    }

    private static string Configuration(RegistrySettings settings, string storage, int port)
    {
        var config = $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {storage}
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

        return config;
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
