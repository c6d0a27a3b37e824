using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Tests;

public class ImageReferenceTests
{
    [Theory]
    [InlineData("ubuntu", "docker.io", "library/ubuntu", "latest", null)]
    [InlineData("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", null)]
    [InlineData("spectrocloud/ubuntu:k3s-1.27.2-v4.4.12-palette-learn", "docker.io", "spectrocloud/ubuntu", "k3s-1.27.2-v4.4.12-palette-learn", null)]
    [InlineData("index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", null)]
    [InlineData("localhost/app", "localhost", "app", "latest", null)]
    [InlineData("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", null)]
    [InlineData("127.0.0.1:5000/a/b/c:tag_1", "127.0.0.1:5000", "a/b/c", "tag_1", null)]
    [InlineData("[::1]:5000/app:1", "[::1]:5000", "app", "1", null)]
    [InlineData("quay.io/kairos/ubuntu:22.04-core-amd64-generic-v2.4.3", "quay.io", "kairos/ubuntu", "22.04-core-amd64-generic-v2.4.3", null)]
    [InlineData("registry.example.com/a__b/c-d.e@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "registry.example.com", "a__b/c-d.e", null, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("ttl.sh/x:1h@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ttl.sh", "x", "1h", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Valid_references_are_parsed_and_normalised(string text, string registry, string repository, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(text);

        reference.Registry.ShouldBe(registry);
        reference.Repository.ShouldBe(repository);
        reference.Tag.ShouldBe(tag);
        reference.Digest?.ToString().ShouldBe(digest);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Ubuntu", "lowercase")]
    [InlineData("registry.example.com/UPPER/app", "lowercase")]
    [InlineData("ubuntu:", "bad tag")]
    [InlineData("ubuntu:-tag", "bad tag")]
    [InlineData("a//b", "empty path component")]
    [InlineData("example.com/app/", "empty path component")]
    [InlineData("example.com:99999/app", "port")]
    [InlineData("example.com:abc/app", "port")]
    [InlineData("exa_mple.com/app", "registry host")]
    [InlineData("app@sha256:abc", "digest")]
    [InlineData("app@md5:0123456789abcdef0123456789abcdef", "digest")]
    [InlineData("https://example.com/app", "scheme")]
    [InlineData("example.com/a..b", "path component")]
    [InlineData("example.com/-app", "path component")]
    public void Invalid_references_are_refused_with_a_reason(string text, string reason)
    {
        ImageReference.TryParse(text, out _, out var error).ShouldBeFalse();
        error.ShouldContain(reason, Case.Insensitive);
        Should.Throw<FormatException>(() => ImageReference.Parse(text)).Message.ShouldContain(text.Length == 0 ? "empty" : text);
    }

    [Fact]
    public void A_tag_longer_than_128_characters_is_refused()
    {
        ImageReference.TryParse("app:" + new string('a', 129), out _, out _).ShouldBeFalse();
        ImageReference.TryParse("app:" + new string('a', 128), out _, out _).ShouldBeTrue();
    }

    [Theory]
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("sha512:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("sha256:0123", false)]
    [InlineData("sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    public void Digests_are_validated_by_algorithm(string text, bool valid)
    {
        Digest.TryParse(text, out _).ShouldBe(valid);
    }
}
