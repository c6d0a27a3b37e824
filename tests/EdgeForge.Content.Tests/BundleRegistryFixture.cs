using System.Security.Cryptography;
using System.Text;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Content.Tests;

/// <summary>
/// A real CNCF registry on 127.0.0.1 holding what a site's bundle is built from: a two-platform index
/// (<c>multi/app:v1</c>, linux/amd64 + linux/arm64), a single-arch image (<c>single/tool:1.0</c>), an image list,
/// and a profile file with an infra and an add-on profile, a local Helm chart and a manifest.
/// </summary>
public sealed class BundleRegistryFixture : IAsyncLifetime
{
    public TestDirectory Directory { get; } = new();

    public RegistryProcess Registry { get; private set; } = null!;

    public string MultiArch => $"{Registry.Address}/multi/app:v1";

    public string SingleArch => $"{Registry.Address}/single/tool:1.0";

    public Digest MultiArchDigest { get; private set; }

    public Digest Amd64Digest { get; private set; }

    public Digest SingleArchDigest { get; private set; }

    /// <summary>A Helm chart stored as an OCI artifact (Helm 3.8+ "helm push"): not an image, no platform.</summary>
    public string OciChart => $"{Registry.Address}/charts/hello:0.1.0";

    public Digest OciChartDigest { get; private set; }

    public string ImageList => Directory.Combine("inputs", "images.txt");

    public string Profile => Directory.Combine("inputs", "profile.yaml");

    public string Chart => Directory.Combine("inputs", "charts", "hello-0.1.0.tgz");

    public async Task InitializeAsync()
    {
        // The in-process CLI uses the default cache and Docker config; both point into this fixture's directory.
        Environment.SetEnvironmentVariable("EDGEFORGE_CACHE", Directory.Combine("cli-cache"));
        Environment.SetEnvironmentVariable("DOCKER_CONFIG", Directory.Combine("docker"));
        Registry = await RegistryProcess.StartAsync();
        using var client = new RegistryClient();
        var store = new BlobCache(Directory.Combine("source-cache"));

        var amd64 = await ImportAsync(store, "amd64", Platform.LinuxAmd64);
        var arm64 = await ImportAsync(store, "arm64", new Platform { Os = "linux", Architecture = "arm64" });
        await ImageCopier.WriteAsync(amd64, new RegistryImageDestination(client, ImageReference.Parse($"{Registry.Address}/multi/app:amd64")));
        await ImageCopier.WriteAsync(arm64, new RegistryImageDestination(client, ImageReference.Parse($"{Registry.Address}/multi/app:arm64")));
        var index = new ImageIndex
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciIndex,
            Manifests =
            [
                amd64.RawManifest.Descriptor with { Platform = Platform.LinuxAmd64 },
                arm64.RawManifest.Descriptor with { Platform = new Platform { Os = "linux", Architecture = "arm64" } },
            ],
        };
        var indexContent = new ManifestContent(OciJson.Serialize(index));
        await new RegistryImageDestination(client, ImageReference.Parse(MultiArch)).PutManifestAsync(indexContent, isRoot: true);
        MultiArchDigest = indexContent.Digest;
        Amd64Digest = amd64.Digest;

        var single = await ImportAsync(store, "single", Platform.LinuxAmd64);
        SingleArchDigest = (await ImageCopier.WriteAsync(single, new RegistryImageDestination(client, ImageReference.Parse(SingleArch)))).ManifestDigest;

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Chart)!);
        var chartSource = Directory.Combine("chart-src", "hello");
        System.IO.Directory.CreateDirectory(Path.Combine(chartSource, "templates"));
        await File.WriteAllTextAsync(Path.Combine(chartSource, "Chart.yaml"), "apiVersion: v2\nname: hello\nversion: 0.1.0\n");
        await File.WriteAllTextAsync(Path.Combine(chartSource, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n");
        await ExternalTool.RunAsync("tar", "-czf", Chart, "-C", Directory.Combine("chart-src"), "hello");
        OciChartDigest = await PushHelmChartAsync(client, await File.ReadAllBytesAsync(Chart));

        System.IO.Directory.CreateDirectory(Directory.Combine("inputs", "manifests"));
        await File.WriteAllTextAsync(Directory.Combine("inputs", "manifests", "namespace.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: edge\n");
        await File.WriteAllTextAsync(ImageList, $"# images every site needs\n{SingleArch}\n\n");
        await File.WriteAllTextAsync(Profile, $"""
            profiles:
              - name: edge-infra
                type: infra
                packs:
                  - name: base
                    version: 1.0.0
                    images:
                      - {MultiArch}
                    charts:
                      - charts/hello-0.1.0.tgz
                    manifests:
                      - manifests/namespace.yaml
              - name: monitoring
                type: add-on
                packs:
                  - name: tools
                    images:
                      - {SingleArch}
                    charts:
                      - oci://{OciChart}

            """);
    }

    /// <summary>Pushes a chart the way <c>helm push</c> does: a manifest with Helm's config and chart-content media types.</summary>
    private async Task<Digest> PushHelmChartAsync(RegistryClient client, byte[] chart)
    {
        var destination = new RegistryImageDestination(client, ImageReference.Parse(OciChart));
        var config = """{"name":"hello","version":"0.1.0","apiVersion":"v2"}"""u8.ToArray();
        var configDescriptor = Descriptor.For("application/vnd.cncf.helm.config.v1+json", config);
        var layerDescriptor = Descriptor.For("application/vnd.cncf.helm.chart.content.v1.tar+gzip", chart);
        await destination.PutBlobAsync(configDescriptor, _ => Task.FromResult<Stream>(new MemoryStream(config)));
        await destination.PutBlobAsync(layerDescriptor, _ => Task.FromResult<Stream>(new MemoryStream(chart)));
        var manifest = new ImageManifest { SchemaVersion = 2, MediaType = MediaTypes.OciManifest, Config = configDescriptor, Layers = [layerDescriptor] };
        var content = new ManifestContent(OciJson.Serialize(manifest));
        await destination.PutManifestAsync(content, isRoot: true);
        return content.Digest;
    }

    /// <summary>A small image whose content differs per <paramref name="name"/> (random bytes, so layers are distinct and incompressible).</summary>
    private async Task<IImage> ImportAsync(BlobCache store, string name, Platform platform)
    {
        var rootfs = Directory.Combine("rootfs-" + name);
        System.IO.Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "image-name"), name + "\n", Encoding.UTF8);
        await File.WriteAllBytesAsync(Path.Combine(rootfs, "payload.bin"), RandomNumberGenerator.GetBytes(200_000));
        return await RootFsImporter.ImportAsync(rootfs, store, new ImportOptions { Platform = platform });
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        Directory.Dispose();
    }
}
