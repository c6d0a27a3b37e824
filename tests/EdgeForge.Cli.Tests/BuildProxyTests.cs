using System.Net;
using EdgeForge.Testing;

namespace EdgeForge.Cli.Tests;

/// <summary>
/// The project's HTTP_PROXY/NO_PROXY carry edgeforge's own registry traffic, not only RUN steps: a push to a registry
/// name that only the proxy can reach succeeds through it, the same push with that name in NO_PROXY goes direct and
/// fails, and the proxy URL is never written to the lock.
/// </summary>
public sealed class BuildProxyTests
{
    private const string ProxiedHost = "registry.edge.test";

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task Pushes_go_through_the_project_proxy_and_NO_PROXY_sends_them_direct()
    {
        await using var fixture = await ProviderImageFixture.StartAsync(ProviderImageFixture.Versions);
        var registry = IPEndPoint.Parse(fixture.Registry.Address);
        await using var proxy = new ForwardingHttpProxy(registry);
        var proxiedRegistry = $"{ProxiedHost}:{registry.Port}";
        var arg = Path.Combine(fixture.Project, ".arg");
        var original = File.ReadAllText(arg);

        File.WriteAllText(arg, original.Replace($"IMAGE_REGISTRY={fixture.Registry.Address}/edge", $"IMAGE_REGISTRY={proxiedRegistry}/edge")
            .Replace("HTTP_PROXY=http://proxy.internal:3128", $"HTTP_PROXY=http://user:s3cret@{proxy.Url["http://".Length..]}"));
        var through = await CliResult.RunAsync("build", "provider-images", fixture.Project, "--push", "--k8s-version", "1.30.1",
            "--insecure-registry", proxiedRegistry, "--cache-dir", fixture.Work.Combine("proxy-cache"));

        through.ShouldNotCrash();
        through.ExitCode.ShouldBe(0, through.All);
        proxy.Hosts.ShouldContain(proxiedRegistry);
        var pushed = await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{fixture.Registry.Address}/edge/ubuntu:k3s-1.30.1-v4.10.0-rc.2-lab");
        pushed.ShouldContain("\"Digest\"");
        var lockFile = File.ReadAllText(Path.Combine(fixture.Project, "build", "plan.lock.json"));
        lockFile.ShouldNotContain("s3cret");
        lockFile.ShouldNotContain("HTTP_PROXY");
        through.All.ShouldNotContain("s3cret");

        File.WriteAllText(arg, File.ReadAllText(arg).Replace("NO_PROXY=127.0.0.1,localhost", $"NO_PROXY=127.0.0.1,localhost,.edge.test"));
        var seen = proxy.Hosts.Count;
        var direct = await CliResult.RunAsync("build", "provider-images", fixture.Project, "--push", "--k8s-version", "1.30.1",
            "--insecure-registry", proxiedRegistry, "--cache-dir", fixture.Work.Combine("proxy-cache"));

        direct.ShouldNotCrash();
        direct.ExitCode.ShouldBe(1, direct.All);
        direct.Error.ShouldContain(ProxiedHost);
        proxy.Hosts.Count.ShouldBe(seen, "NO_PROXY sends the push direct, past the proxy");
    }
}
