using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Tests;

public class PlatformSelectionTests
{
    private static Descriptor Entry(string platform, string digestChar, string mediaType = MediaTypes.OciManifest)
    {
        var parts = platform.Split('/');
        return new Descriptor
        {
            MediaType = mediaType,
            Digest = Digest.Parse("sha256:" + new string(digestChar[0], 64)),
            Size = 100,
            Platform = new Platform { Os = parts[0], Architecture = parts[1], Variant = parts.Length > 2 ? parts[2] : null },
        };
    }

    private static readonly ImageIndex Index = new()
    {
        MediaType = MediaTypes.OciIndex,
        Manifests =
        [
            Entry("linux/amd64", "a"),
            Entry("linux/arm/v7", "b"),
            Entry("linux/arm64", "c", MediaTypes.DockerManifest),
            Entry("unknown/unknown", "d"),
        ],
    };

    [Theory]
    [InlineData("linux/amd64", 'a')]
    [InlineData("linux/arm64", 'c')]
    [InlineData("linux/arm64/v8", 'c')]
    [InlineData("linux/arm/v7", 'b')]
    [InlineData("linux/arm", 'b')]
    public void The_entry_for_the_wanted_platform_is_chosen(string wanted, char digestChar)
    {
        Index.SelectPlatform(Platform.Parse(wanted)).Digest.Encoded[0].ShouldBe(digestChar);
    }

    [Fact]
    public void A_missing_platform_names_the_available_ones()
    {
        var error = Should.Throw<PlatformNotFoundException>(() => Index.SelectPlatform(Platform.Parse("linux/s390x")));
        error.Message.ShouldContain("linux/amd64");
        error.Message.ShouldContain("linux/arm/v7");
    }

    [Fact]
    public void A_variant_mismatch_does_not_match()
    {
        Should.Throw<PlatformNotFoundException>(() => Index.SelectPlatform(Platform.Parse("linux/arm/v6")));
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("linux/")]
    [InlineData("Linux/AMD64")]
    [InlineData("a/b/c/d")]
    public void Malformed_platforms_are_refused(string text)
    {
        Should.Throw<FormatException>(() => Platform.Parse(text));
    }

    [Fact]
    public void A_docker_manifest_list_parses_like_an_index()
    {
        var json = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":7,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":7,"platform":{"architecture":"amd64","os":"linux"}}]}
            """u8;
        var content = new ManifestContent(json.ToArray());

        content.IsIndex.ShouldBeTrue();
        content.AsIndex().SelectPlatform(Platform.LinuxAmd64).Digest.Encoded.ShouldStartWith("2222");
    }
}
