using System.Text.Json;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Oci.Tests;

/// <summary>Given the CNCF registry on loopback, when edgeforge pushes and pulls, then skopeo agrees byte for byte.</summary>
public class RegistryTransportTests(AnonymousRegistryFixture fixture) : IClassFixture<AnonymousRegistryFixture>, IDisposable
{
    private readonly TestDirectory _directory = new();
    private readonly RegistryClient _client = new(new RegistryClientOptions { Retry = new RetrySettings { BaseDelay = TimeSpan.FromMilliseconds(50) } });

    public void Dispose()
    {
        _client.Dispose();
        _directory.Dispose();
    }

    private string Registry => fixture.Registry.Address;

    private async Task<BuiltImage> ImportAsync(string name = "rootfs", string arch = "amd64")
    {
        var rootfs = RootFsFixtures.Create(_directory.Path, name);
        File.WriteAllText(Path.Combine(rootfs, "etc", "arch"), arch);
        return await RootFsImporter.ImportAsync(rootfs, new BlobCache(_directory.Combine("cache")), new ImportOptions { Platform = Platform.Parse("linux/" + arch) });
    }

    [Fact]
    public async Task A_pushed_image_is_seen_by_skopeo_with_the_same_digest_and_pulls_back_valid()
    {
        var image = await ImportAsync();
        var reference = ImageReference.Parse($"{Registry}/edge/base:v1");

        var pushed = await ImageCopier.WriteAsync(image, new RegistryImageDestination(_client, reference));

        pushed.ManifestDigest.ShouldBe(image.Digest);
        var inspect = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{reference}"));
        inspect.RootElement.GetProperty("Digest").GetString().ShouldBe(image.Digest.ToString());
        inspect.RootElement.GetProperty("Architecture").GetString().ShouldBe("amd64");
        var raw = await ExternalTool.RunAsync("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{reference}");
        Digest.Compute(System.Text.Encoding.UTF8.GetBytes(raw.TrimEnd('\n'))).ShouldBe(image.Digest);

        var pulled = await SourceImage.LoadAsync(new RegistryImageSource(_client, reference), Platform.LinuxAmd64);
        pulled.Digest.ShouldBe(image.Digest);
        await ImageValidator.ValidateAsync(pulled);

        // skopeo copies what we pushed into its own layout, and umoci-independent: we read that layout back.
        var skopeoLayout = _directory.Combine("skopeo-layout");
        await ExternalTool.RunAsync("skopeo", "copy", "--src-tls-verify=false", $"docker://{reference}", $"oci:{skopeoLayout}:copied");
        var fromSkopeo = await SourceImage.LoadAsync(new OciLayoutImageSource(skopeoLayout, "copied"));
        await ImageValidator.ValidateAsync(fromSkopeo);
        fromSkopeo.Layers.Select(l => l.DiffId).ShouldBe(image.Layers.Select(l => l.DiffId));
    }

    [Fact]
    public async Task An_image_skopeo_pushed_in_docker_format_is_pulled_and_validated()
    {
        var image = await ImportAsync();
        var layout = _directory.Combine("layout");
        await ImageCopier.WriteAsync(image, new OciLayoutImageDestination(layout, "src"));
        var reference = ImageReference.Parse($"{Registry}/skopeo/pushed:v2s2");

        await ExternalTool.RunAsync("skopeo", "copy", "--dest-tls-verify=false", "--format", "v2s2", $"oci:{layout}:src", $"docker://{reference}");

        var pulledManifest = await _client.GetManifestAsync(reference);
        pulledManifest.MediaType.ShouldBe(MediaTypes.DockerManifest);
        var pulled = await SourceImage.LoadAsync(new RegistryImageSource(_client, reference));
        await ImageValidator.ValidateAsync(pulled);
        var copy = _directory.Combine("copy");
        await ImageCopier.CopyAsync(new RegistryImageSource(_client, reference), new OciLayoutImageDestination(copy, "pulled"));
        await ImageValidator.ValidateAsync(await SourceImage.LoadAsync(new OciLayoutImageSource(copy, "pulled")));
    }

    [Fact]
    public async Task A_multi_platform_index_is_copied_whole_with_all_and_one_platform_without()
    {
        var amd64 = await ImportAsync("amd", "amd64");
        var arm64 = await ImportAsync("arm", "arm64");
        var layout = _directory.Combine("multi");
        await ImageCopier.WriteAsync(amd64, new OciLayoutImageDestination(layout, "amd64"));
        await ImageCopier.WriteAsync(arm64, new OciLayoutImageDestination(layout, "arm64"));
        var index = new ImageIndex
        {
            MediaType = MediaTypes.OciIndex,
            Manifests =
            [
                amd64.RawManifest.Descriptor with { Platform = Platform.Parse("linux/amd64") },
                arm64.RawManifest.Descriptor with { Platform = Platform.Parse("linux/arm64") },
            ],
        };
        var indexContent = new ManifestContent(OciJson.Serialize(index), MediaTypes.OciIndex);
        var indexDestination = new OciLayoutImageDestination(layout, "multi");
        await indexDestination.PutManifestAsync(indexContent, isRoot: true);
        await indexDestination.CommitAsync();
        var reference = ImageReference.Parse($"{Registry}/edge/multi:all");

        await ImageCopier.CopyAsync(new OciLayoutImageSource(layout, "multi"), new RegistryImageDestination(_client, reference), new CopyOptions { AllPlatforms = true });

        var inspect = await ExternalTool.RunAsync("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{reference}");
        new ManifestContent(System.Text.Encoding.UTF8.GetBytes(inspect.TrimEnd('\n'))).Digest.ShouldBe(indexContent.Digest);
        var armOnly = await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "--override-arch", "arm64", $"docker://{reference}");
        JsonDocument.Parse(armOnly).RootElement.GetProperty("Architecture").GetString().ShouldBe("arm64");

        var single = _directory.Combine("single");
        var result = await ImageCopier.CopyAsync(new RegistryImageSource(_client, reference), new OciLayoutImageDestination(single, "arm"), new CopyOptions { Platform = Platform.Parse("linux/arm64") });
        result.ManifestDigest.ShouldBe(arm64.Digest);
        var armImage = await SourceImage.LoadAsync(new OciLayoutImageSource(single, "arm"));
        armImage.Config.Architecture.ShouldBe("arm64");
        await ImageValidator.ValidateAsync(armImage);
    }

    [Fact]
    public async Task Copying_within_a_registry_mounts_blobs_instead_of_uploading_them()
    {
        var image = await ImportAsync();
        var first = ImageReference.Parse($"{Registry}/mount/source:v1");
        var second = ImageReference.Parse($"{Registry}/mount/target:v1");
        await ImageCopier.WriteAsync(image, new RegistryImageDestination(_client, first));

        var result = await ImageCopier.CopyAsync(new RegistryImageSource(_client, first), new RegistryImageDestination(_client, second));

        result.BlobsTransferred.ShouldBe(0);
        result.BlobsSkipped.ShouldBe(2);
        (await _client.BlobExistsAsync(second, image.Layers[0].Descriptor)).ShouldBeTrue();
        await ImageValidator.ValidateAsync(await SourceImage.LoadAsync(new RegistryImageSource(_client, second)));
    }

    [Fact]
    public async Task Chunked_uploads_are_accepted_by_the_registry()
    {
        using var chunked = new RegistryClient(new RegistryClientOptions { ForceChunkedUpload = true, ChunkSize = 64 * 1024 });
        var image = await ImportAsync();
        image.Layers[0].Size.ShouldBeGreaterThan(64 * 1024);
        var reference = ImageReference.Parse($"{Registry}/chunked/app:v1");

        await ImageCopier.WriteAsync(image, new RegistryImageDestination(chunked, reference));

        await ImageValidator.ValidateAsync(await SourceImage.LoadAsync(new RegistryImageSource(_client, reference)));
    }

    [Fact]
    public async Task A_missing_tag_is_a_clear_registry_error()
    {
        var error = await Should.ThrowAsync<RegistryException>(() => _client.GetManifestAsync(ImageReference.Parse($"{Registry}/nothing/here:v0")));

        error.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
        error.Message.ShouldContain("nothing/here");
        error.ErrorCodes.ShouldContain(c => c == "MANIFEST_UNKNOWN" || c == "NAME_UNKNOWN");
    }

    [Fact]
    public async Task Pulled_blobs_are_verified_while_streaming()
    {
        var image = await ImportAsync();
        var reference = ImageReference.Parse($"{Registry}/verify/app:v1");
        await ImageCopier.WriteAsync(image, new RegistryImageDestination(_client, reference));
        // Ask for the layer under a descriptor that claims the config's digest: the registry serves other bytes.
        var lying = image.Layers[0].Descriptor with { Digest = image.Manifest.Config.Digest, Size = image.Manifest.Config.Size };

        await using var stream = await _client.OpenBlobAsync(reference, image.Layers[0].Descriptor with { Size = image.Layers[0].Size - 1 });
        await Should.ThrowAsync<DigestMismatchException>(() => stream.CopyToAsync(Stream.Null));
        await using var honest = await _client.OpenBlobAsync(reference, lying);
        await honest.CopyToAsync(Stream.Null);
    }
}
