using System.Text.Json;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Tests.Support;
using EdgeForge.Oci.Transports;
using EdgeForge.Testing;

namespace EdgeForge.Oci.Tests;

/// <summary>
/// An air-gapped site: two CNCF registries on loopback stand in for local mirrors, one empty and one holding the
/// Palette image under its real name, and a third port where nothing listens. us-docker.pkg.dev is unreachable here.
/// </summary>
public sealed class MirrorSiteFixture : IAsyncLifetime
{
    public const string Upstream = "us-docker.pkg.dev/palette-images/edge/foo:1";

    private readonly TestDirectory _directory = new();

    public RegistryProcess Empty { get; private set; } = null!;

    public RegistryProcess Full { get; private set; } = null!;

    /// <summary>A loopback port nothing listens on: a mirror that is down.</summary>
    public int DownPort { get; } = RegistryProcess.FreePort();

    public Digest ImageDigest { get; private set; }

    public BuiltImage Image { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Empty = await RegistryProcess.StartAsync();
        Full = await RegistryProcess.StartAsync();
        var rootfs = RootFsFixtures.Create(_directory.Path);
        Image = await RootFsImporter.ImportAsync(rootfs, new BlobCache(_directory.Combine("cache")), new ImportOptions { Platform = Platform.LinuxAmd64 });
        using var client = new RegistryClient();
        var served = ImageReference.Parse($"{Full.Address}/palette-images/edge/foo:1");
        ImageDigest = (await ImageCopier.WriteAsync(Image, new RegistryImageDestination(client, served))).ManifestDigest;
    }

    public async Task DisposeAsync()
    {
        await Empty.DisposeAsync();
        await Full.DisposeAsync();
        _directory.Dispose();
    }
}

/// <summary>Given a registries.conf with mirrors, when edgeforge pulls and pushes, then it goes where podman and skopeo would.</summary>
public class RegistryMirrorTests(MirrorSiteFixture site) : IClassFixture<MirrorSiteFixture>, IDisposable
{
    private readonly TestDirectory _directory = new();
    private readonly RecordingWebProxy _proxy = new();

    public void Dispose() => _directory.Dispose();

    private static ImageReference Upstream => ImageReference.Parse(MirrorSiteFixture.Upstream);

    private string WriteConfiguration(string text)
    {
        var path = _directory.Combine("registries.conf");
        File.WriteAllText(path, text);
        return path;
    }

    private RegistryClient Client(string configurationPath) => new(new RegistryClientOptions
    {
        Mirrors = RegistriesConfiguration.Load(configurationPath),
        Proxy = _proxy,
        Retry = new RetrySettings { BaseDelay = TimeSpan.FromMilliseconds(20) },
        ConnectTimeout = TimeSpan.FromSeconds(5),
    });

    private IEnumerable<Uri> RequestsTo(string address) => _proxy.Requests.Where(u => u.Authority == address);

    private string ThreeMirrors => $"""
        [[registry]]
        prefix = "us-docker.pkg.dev"
        location = "us-docker.pkg.dev"
        [[registry.mirror]]
        location = "127.0.0.1:{site.DownPort}"
        insecure = true
        [[registry.mirror]]
        location = "{site.Empty.Address}"
        insecure = true
        [[registry.mirror]]
        location = "{site.Full.Address}"
        insecure = true
        """;

    [Fact]
    public async Task A_pull_passes_a_down_and_an_empty_mirror_and_gets_the_image_from_the_one_that_has_it_as_skopeo_does()
    {
        var configuration = WriteConfiguration(ThreeMirrors);
        using var client = Client(configuration);

        var pulled = await SourceImage.LoadAsync(new RegistryImageSource(client, Upstream), Platform.LinuxAmd64);

        pulled.Digest.ShouldBe(site.ImageDigest);
        await ImageValidator.ValidateAsync(pulled);
        var source = client.LastSourceFor(Upstream).ShouldNotBeNull();
        source.IsMirror.ShouldBeTrue();
        source.Reference.ToString().ShouldBe($"{site.Full.Address}/palette-images/edge/foo:1");
        source.ConfigurationFile.ShouldBe(configuration);
        // The upstream registry is never contacted, and the blobs come from the mirror that served the manifest.
        _proxy.Requests.ShouldNotContain(u => u.Host == "us-docker.pkg.dev");
        RequestsTo(site.Empty.Address).ShouldContain(u => u.AbsolutePath.Contains("/manifests/"));
        RequestsTo(site.Empty.Address).ShouldNotContain(u => u.AbsolutePath.Contains("/blobs/"));
        RequestsTo($"127.0.0.1:{site.DownPort}").ShouldNotContain(u => u.AbsolutePath.Contains("/blobs/"));
        RequestsTo(site.Full.Address).ShouldContain(u => u.AbsolutePath.Contains("/blobs/"));

        (await client.HeadManifestAsync(Upstream)).ShouldNotBeNull().Digest.ShouldBe(site.ImageDigest);
        (await client.ListTagsAsync(Upstream)).ShouldBe(["1"]);
        var byDigest = await client.GetManifestAsync(Upstream.WithDigest(site.ImageDigest));
        byDigest.Digest.ShouldBe(site.ImageDigest);

        // --no-tags: skopeo lists tags from the primary registry only (containers/image's GetRepositoryTags ignores
        // mirrors), and us-docker.pkg.dev is unreachable here; the manifest and config come through the mirrors.
        var skopeo = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "--registries-conf", configuration, "inspect", "--no-tags", "--tls-verify=false", "docker://" + MirrorSiteFixture.Upstream));
        skopeo.RootElement.GetProperty("Digest").GetString().ShouldBe(site.ImageDigest.ToString());
    }

    [Fact]
    public async Task When_no_source_has_the_image_the_error_is_the_primarys_and_lists_the_mirrors_tried()
    {
        var configuration = WriteConfiguration($"""
            [[registry]]
            prefix = "us-docker.pkg.dev"
            location = "{site.Empty.Address}"
            [[registry.mirror]]
            location = "127.0.0.1:{site.DownPort}"
            [[registry.mirror]]
            location = "{site.Empty.Address}/other"
            """);
        using var client = Client(configuration);

        var error = await Should.ThrowAsync<RegistryException>(() => client.GetManifestAsync(Upstream));

        error.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
        error.Message.ShouldContain($"{site.Empty.Address}/palette-images/edge/foo");
        error.Message.ShouldContain($"127.0.0.1:{site.DownPort}/palette-images/edge/foo");
        error.Message.ShouldContain($"{site.Empty.Address}/other/palette-images/edge/foo");
        (await client.HeadManifestAsync(Upstream)).ShouldBeNull();
    }

    [Fact]
    public async Task A_mirror_that_refuses_our_credentials_gives_way_to_the_next()
    {
        var htpasswd = _directory.Combine("htpasswd");
        await File.WriteAllTextAsync(htpasswd, await ExternalTool.RunAsync("htpasswd", "-Bbn", "site", "secret"));
        await using var locked = await RegistryProcess.StartAsync(new RegistrySettings { HtpasswdFile = htpasswd });
        var configuration = WriteConfiguration($"""
            [[registry]]
            location = "us-docker.pkg.dev"
            [[registry.mirror]]
            location = "{locked.Address}"
            [[registry.mirror]]
            location = "{site.Full.Address}"
            """);
        using var client = Client(configuration);

        var manifest = await client.GetManifestAsync(Upstream);

        manifest.Digest.ShouldBe(site.ImageDigest);
        RequestsTo(locked.Address).ShouldContain(u => u.AbsolutePath.Contains("/manifests/"));
        client.LastSourceFor(Upstream).ShouldNotBeNull().Reference.Registry.ShouldBe(site.Full.Address);
    }

    [Fact]
    public async Task A_digest_only_mirror_is_skipped_for_a_tag_pull_and_used_for_a_digest_pull()
    {
        var configuration = WriteConfiguration($"""
            [[registry]]
            prefix = "us-docker.pkg.dev/palette-images"
            location = "127.0.0.1:{site.DownPort}/palette-images"
            [[registry.mirror]]
            location = "{site.Full.Address}/palette-images"
            pull-from-mirror = "digest-only"
            """);
        using var client = Client(configuration);

        await Should.ThrowAsync<HttpRequestException>(() => client.GetManifestAsync(Upstream));
        RequestsTo(site.Full.Address).ShouldBeEmpty();

        var pinned = Upstream.WithDigest(site.ImageDigest);
        var pulled = await SourceImage.LoadAsync(new RegistryImageSource(client, pinned), Platform.LinuxAmd64);
        pulled.Digest.ShouldBe(site.ImageDigest);
        client.LastSourceFor(pinned).ShouldNotBeNull().IsMirror.ShouldBeTrue();
    }

    [Fact]
    public async Task A_mirror_that_serves_other_bytes_for_a_digest_fails_the_pull_instead_of_falling_through()
    {
        await using var liar = await LyingRegistry.StartAsync();
        var configuration = WriteConfiguration($"""
            [[registry]]
            prefix = "us-docker.pkg.dev"
            location = "{site.Full.Address}"
            [[registry.mirror]]
            location = "{liar.Address}"
            """);
        using var client = Client(configuration);

        var error = await Should.ThrowAsync<DigestMismatchException>(() => client.GetManifestAsync(Upstream.WithDigest(site.ImageDigest)));

        error.Message.ShouldContain($"mirror {liar.Address}/palette-images/edge/foo");
        RequestsTo(site.Full.Address).ShouldNotContain(u => u.AbsolutePath.Contains("/manifests/"));
        // By tag, a mirror's answer is the answer (the man page's reason for digest-only mirrors).
        (await client.GetManifestAsync(Upstream)).Bytes.ToArray().ShouldBe(System.Text.Encoding.UTF8.GetBytes(LyingRegistry.Manifest));
    }

    [Fact]
    public async Task A_blocked_registry_is_refused_before_any_request()
    {
        var configuration = WriteConfiguration($"""
            [[registry]]
            prefix = "us-docker.pkg.dev/palette-images"
            location = "{site.Full.Address}/palette-images"
            blocked = true
            """);
        using var client = Client(configuration);

        var error = await Should.ThrowAsync<RegistryBlockedException>(() => client.GetManifestAsync(Upstream));

        error.Message.ShouldContain(MirrorSiteFixture.Upstream);
        error.Message.ShouldContain(configuration + ":1");
        await Should.ThrowAsync<RegistryBlockedException>(() => client.OpenBlobAsync(Upstream, site.Image.Layers[0].Descriptor));
        _proxy.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_push_goes_to_the_rewritten_location_and_never_to_a_mirror()
    {
        var configuration = WriteConfiguration($"""
            [[registry]]
            prefix = "edge.example.com/team"
            location = "{site.Full.Address}/rewritten/team"
            [[registry.mirror]]
            location = "{site.Empty.Address}/team"
            """);
        using var client = Client(configuration);
        var logical = ImageReference.Parse("edge.example.com/team/app:1");

        var pushed = await ImageCopier.WriteAsync(site.Image, new RegistryImageDestination(client, logical));

        pushed.ManifestDigest.ShouldBe(site.ImageDigest);
        RequestsTo(site.Empty.Address).ShouldBeEmpty();
        _proxy.Requests.ShouldNotContain(u => u.Host == "edge.example.com");
        var skopeo = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{site.Full.Address}/rewritten/team/app:1"));
        skopeo.RootElement.GetProperty("Digest").GetString().ShouldBe(site.ImageDigest.ToString());
    }

    [Fact]
    public async Task The_cli_honours_registries_conf_and_exits_2_on_a_bad_one_with_file_and_line()
    {
        var environment = new Dictionary<string, string>
        {
            ["EDGEFORGE_CACHE"] = _directory.Combine("cache"),
            ["DOCKER_CONFIG"] = _directory.Combine("docker"),
        };
        var good = WriteConfiguration(ThreeMirrors);
        var bad = _directory.Combine("bad.conf");
        File.WriteAllText(bad, "[[registry]]\nlocation = \"us-docker.pkg.dev\"\ninsecure = yes\n");

        var inspect = await EdgeforgeCli.RunAsync(environment, null, "image", "inspect", "--json", "--registries-conf", good, "docker://" + MirrorSiteFixture.Upstream);
        var refused = await EdgeforgeCli.RunAsync(environment, null, "image", "inspect", "--registries-conf", bad, "docker://" + MirrorSiteFixture.Upstream);

        inspect.ExitCode.ShouldBe(0, inspect.Error);
        JsonDocument.Parse(inspect.Output).RootElement.GetProperty("Digest").GetString().ShouldBe(site.ImageDigest.ToString());
        refused.ExitCode.ShouldBe(2, refused.Error);
        refused.Error.ShouldStartWith($"edgeforge: {bad}:3: ");
    }
}
