using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Oci.Tests;

/// <summary>
/// Registries that lie by never ending: one that accepts the connection and says nothing, one that sends headers and
/// then stalls, one that streams a manifest forever. Each request fails with a clear error, in bounded time and memory.
/// </summary>
public sealed class SilentAndEndlessRegistryTests
{
    private static readonly RegistryClientOptions Impatient = new()
    {
        IdleTimeout = TimeSpan.FromSeconds(1),
        Retry = new RetrySettings { MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(10) },
    };

    public static TheoryData<string> Behaviours() => ["silent", "stalls in the body", "endless manifest"];

    [Theory]
    [MemberData(nameof(Behaviours))]
    public async Task A_registry_that_never_ends_fails_the_request_in_bounded_time(string behaviour)
    {
        await using var server = new MisbehavingServer(behaviour);
        using var client = new RegistryClient(Impatient);
        var reference = ImageReference.Parse($"127.0.0.1:{server.Port}/edge/image:1");

        var started = DateTime.UtcNow;
        var error = await Should.ThrowAsync<Exception>(client.GetManifestAsync(reference).WaitAsync(TimeSpan.FromSeconds(60)));

        error.ShouldNotBeOfType<TimeoutException>("the client itself must give up, not the test");
        (error is IOException or InvalidDataException or HttpRequestException).ShouldBeTrue(error.ToString());
        error.Message.ShouldContain(behaviour == "endless manifest" ? "larger than" : "127.0.0.1", Case.Insensitive, error.ToString());
        (DateTime.UtcNow - started).ShouldBeLessThan(TimeSpan.FromSeconds(30));
    }

    /// <summary>Answers every connection the same wrong way; loopback HTTP, as a local registry is reached.</summary>
    private sealed class MisbehavingServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serving;

        public MisbehavingServer(string behaviour)
        {
            _listener.Start();
            _serving = ServeAsync(behaviour);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        private async Task ServeAsync(string behaviour)
        {
            var open = new List<TcpClient>();
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    open.Add(client);
                    _ = AnswerAsync(client.GetStream(), behaviour);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                open.ForEach(c => c.Dispose());
            }
        }

        private async Task AnswerAsync(NetworkStream stream, string behaviour)
        {
            try
            {
                var head = new byte[4096];
                _ = await stream.ReadAsync(head, _stop.Token);
                if (behaviour == "silent")
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                var type = MediaTypes.OciManifest;
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: {type}\r\nTransfer-Encoding: chunked\r\n\r\n"), _stop.Token);
                var chunk = Encoding.ASCII.GetBytes("10000\r\n" + new string(' ', 0x10000) + "\r\n");
                while (true)
                {
                    if (behaviour == "stalls in the body")
                    {
                        await stream.WriteAsync(Encoding.ASCII.GetBytes("1\r\n{\r\n"), _stop.Token);
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                    }

                    await stream.WriteAsync(chunk, _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // The client gave up (as it should) or the test ended.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _serving;
        }
    }
}
