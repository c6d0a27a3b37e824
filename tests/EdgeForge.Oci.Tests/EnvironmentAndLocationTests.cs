using System.Net;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Oci.Tests;

public class EnvironmentAndLocationTests
{
    [Theory]
    [InlineData("https://registry.example.com/v2/", "http://proxy:3128/")]
    [InlineData("https://sub.internal.example/v2/", null)]
    [InlineData("https://internal.example/v2/", null)]
    [InlineData("https://notinternal.example/v2/", "http://proxy:3128/")]
    [InlineData("https://10.1.2.3/v2/", null)]
    [InlineData("https://10.2.0.1/v2/", "http://proxy:3128/")]
    [InlineData("https://registry.lab:5000/v2/", null)]
    [InlineData("https://registry.lab:443/v2/", "http://proxy:3128/")]
    [InlineData("http://127.0.0.1:5000/v2/", null)]
    [InlineData("http://localhost:5000/v2/", null)]
    [InlineData("http://[::1]:5000/v2/", null)]
    [InlineData("http://plain.example/v2/", "http://plainproxy:8080/")]
    public void Proxies_follow_the_scheme_and_no_proxy_rules(string destination, string? expected)
    {
        var proxy = new EnvironmentProxy("plainproxy:8080", "http://proxy:3128", ".internal.example, 10.1.0.0/16, registry.lab:5000");

        proxy.GetProxy(new Uri(destination))?.ToString().ShouldBe(expected);
    }

    [Fact]
    public void Proxy_credentials_come_from_the_url_and_a_star_disables_proxying()
    {
        var proxy = new EnvironmentProxy(null, "http://user%40corp:p%3Ass@proxy:3128", null);
        var credential = proxy.Credentials.ShouldBeOfType<NetworkCredential>();
        credential.UserName.ShouldBe("user@corp");
        credential.Password.ShouldBe("p:ss");

        new EnvironmentProxy("http://p:1", "http://p:1", "*").GetProxy(new Uri("https://anything.example/")).ShouldBeNull();
    }

    [Theory]
    [InlineData("docker://localhost:5000/a/b:v1", TransportKind.Registry, "", null, "localhost:5000/a/b:v1")]
    [InlineData("ubuntu:22.04", TransportKind.Registry, "", null, "docker.io/library/ubuntu:22.04")]
    [InlineData("oci:/tmp/layout:v1", TransportKind.OciLayout, "/tmp/layout", "v1", null)]
    [InlineData("oci:/tmp/layout", TransportKind.OciLayout, "/tmp/layout", null, null)]
    [InlineData("oci:relative/dir", TransportKind.OciLayout, "relative/dir", null, null)]
    [InlineData("oci-archive:/tmp/a.tar:latest", TransportKind.OciArchive, "/tmp/a.tar", "latest", null)]
    [InlineData("docker-archive:/tmp/s.tar", TransportKind.DockerArchive, "/tmp/s.tar", null, null)]
    [InlineData("docker-archive:/tmp/s.tar:busybox:1.36", TransportKind.DockerArchive, "/tmp/s.tar", null, "docker.io/library/busybox:1.36")]
    public void Transport_locations_are_parsed(string text, TransportKind kind, string path, string? tag, string? reference)
    {
        var location = ImageLocation.Parse(text);

        location.Kind.ShouldBe(kind);
        location.Path.ShouldBe(path);
        location.Tag.ShouldBe(tag);
        location.Reference?.ToString().ShouldBe(reference);
    }

    [Theory]
    [InlineData("ftp://host/x")]
    [InlineData("oci:")]
    [InlineData("oci:/tmp/layout:-bad")]
    [InlineData("docker://UPPER/case")]
    public void Bad_locations_are_refused(string text)
    {
        Should.Throw<FormatException>(() => ImageLocation.Parse(text));
    }
}
