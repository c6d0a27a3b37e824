using EdgeForge.Content.Bundles;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Content.Tests;

/// <summary>
/// Given two images of 1 GiB of incompressible data each in a registry, when the CLI builds a content bundle of
/// them, then the bundle is over 2 GiB and the process (measured by /usr/bin/time -v, the kernel's maxrss) never held
/// more than 300 MiB: blobs stream from the cache through tar and zstd to disk.
/// </summary>
[Trait("Tier", "Heavy")]
public sealed class LargeBundleMemoryTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const long Limit = 300L << 20;
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Building_a_2_GiB_bundle_stays_under_300_MiB_of_memory()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var client = new RegistryClient();
        var store = new BlobCache(_directory.Combine("source-cache"));
        var list = new List<string>();
        foreach (var name in new[] { "one", "two" })
        {
            var rootfs = _directory.Combine("rootfs-" + name);
            Directory.CreateDirectory(rootfs);
            await ExternalTool.RunAsync("sh", "-c", $"head -c {1L << 30} /dev/urandom > '{Path.Combine(rootfs, "big.bin")}'");
            var image = await RootFsImporter.ImportAsync(rootfs, store, new ImportOptions { Layer = new LayerOptions { Compression = LayerCompression.None } });
            Directory.Delete(rootfs, recursive: true);
            var reference = $"{registry.Address}/large/{name}:v1";
            await ImageCopier.WriteAsync(image, new RegistryImageDestination(client, ImageReference.Parse(reference)));
            list.Add(reference);
        }

        Directory.Delete(_directory.Combine("source-cache"), recursive: true);
        var imageList = _directory.Combine("images.txt");
        await File.WriteAllLinesAsync(imageList, list);
        var environment = new Dictionary<string, string> { ["EDGEFORGE_CACHE"] = _directory.Combine("cache"), ["DOCKER_CONFIG"] = _directory.Combine("docker") };

        var build = await EdgeforgeCli.RunMeasuredAsync(environment, "content", "build", "--images", imageList, "-o", _directory.Combine("out"), "--name", "large", "--level", "1");

        build.ExitCode.ShouldBe(0, build.Output);
        var bundle = Directory.GetFiles(_directory.Combine("out"), "large.zst", SearchOption.AllDirectories).Single();
        new FileInfo(bundle).Length.ShouldBeGreaterThan(2L << 30);
        build.PeakRssBytes.ShouldBeLessThan(Limit, $"peak RSS {build.PeakRssBytes >> 20} MiB");
        output.WriteLine($"bundle {new FileInfo(bundle).Length >> 20} MiB, peak RSS {build.PeakRssBytes >> 20} MiB");
        await ExternalTool.RunAsync("zstd", "-t", "-q", bundle);
        var definition = await ContentBundleReader.ReadDefinitionAsync(bundle);
        definition.Totals.BlobBytes.ShouldBeGreaterThan(2L << 30);
    }
}
