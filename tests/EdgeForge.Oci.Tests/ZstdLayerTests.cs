using System.Security.Cryptography;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Oci.Tests;

/// <summary>Given a root filesystem, when I import it with zstd layers, then the zstd tool and the registry agree.</summary>
public class ZstdLayerTests(AnonymousRegistryFixture fixture) : IClassFixture<AnonymousRegistryFixture>, IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_zstd_layer_decompresses_with_the_zstd_tool_to_its_diff_id_and_survives_a_registry_round_trip()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var options = new ImportOptions { Layer = new LayerOptions { Compression = LayerCompression.Zstd } };
        var image = await RootFsImporter.ImportAsync(rootfs, new BlobCache(_directory.Combine("cache")), options);
        var again = await RootFsImporter.ImportAsync(rootfs, new BlobCache(_directory.Combine("cache2")), options);

        image.Layers[0].MediaType.ShouldBe(MediaTypes.OciLayerZstd);
        again.Digest.ShouldBe(image.Digest);
        await ImageValidator.ValidateAsync(image);

        var blob = ((BlobLayer)image.Layers[0]).Path;
        var tar = _directory.Combine("layer.tar");
        await ExternalTool.RunAsync("zstd", "-q", "-d", blob, "-o", tar);
        Digest.FromSha256Hash(SHA256.HashData(File.ReadAllBytes(tar))).ShouldBe(image.Layers[0].DiffId);

        using var client = new RegistryClient();
        var reference = ImageReference.Parse($"{fixture.Registry.Address}/zstd/app:v1");
        await ImageCopier.WriteAsync(image, new RegistryImageDestination(client, reference));
        var raw = await ExternalTool.RunAsync("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{reference}");
        raw.ShouldContain(MediaTypes.OciLayerZstd);
        var pulled = await SourceImage.LoadAsync(new RegistryImageSource(client, reference));
        await ImageValidator.ValidateAsync(pulled);
        var tree = await ImageFileTree.LoadAsync(pulled);
        tree.Entries.ShouldContain(e => e.Path == "etc/os-release");
    }
}
