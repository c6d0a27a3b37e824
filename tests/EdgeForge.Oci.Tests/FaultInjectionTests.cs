using EdgeForge.Oci.Tests.Support;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Oci.Tests;

/// <summary>
/// Given a registry behind a proxy that fails about one request in ten (500, 503, 429 or a dropped connection),
/// when edgeforge pushes and pulls twenty times in a row, then every round trip succeeds and every blob verifies.
/// </summary>
public class FaultInjectionTests(AnonymousRegistryFixture fixture) : IClassFixture<AnonymousRegistryFixture>, IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Twenty_push_and_pull_round_trips_through_a_faulty_proxy_all_succeed()
    {
        var store = new BlobCache(_directory.Combine("cache"));
        var layers = new List<ILayer>();
        for (var i = 0; i < 3; i++)
        {
            var tar = RootFsFixtures.WriteTar(_directory.Combine($"l{i}.tar"), ($"data/layer{i}.txt", Convert.ToBase64String(RootFsFixtures.RandomBytes(200_000, seed: i))));
            await using var stream = File.OpenRead(tar);
            layers.Add(await LayerWriter.FromTarAsync(stream, store));
        }

        var image = BuiltImage.Create(new ImageConfig { Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = [] } }, layers);
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Registry.Address, failureRate: 0.1, seed: 20261122);
        using var client = new RegistryClient(new RegistryClientOptions { Retry = new RetrySettings { BaseDelay = TimeSpan.FromMilliseconds(20), MaxRetries = 8 } });

        for (var round = 0; round < 20; round++)
        {
            var reference = ImageReference.Parse($"{proxy.Address}/fault/round{round}:v1");
            var pushed = await ImageCopier.WriteAsync(image, new RegistryImageDestination(client, reference));
            pushed.ManifestDigest.ShouldBe(image.Digest);

            var layout = _directory.Combine($"pulled{round}");
            await ImageCopier.CopyAsync(new RegistryImageSource(client, reference), new OciLayoutImageDestination(layout, "v1"));
            var pulled = await SourceImage.LoadAsync(new OciLayoutImageSource(layout, "v1"));
            pulled.Digest.ShouldBe(image.Digest);
            await ImageValidator.ValidateAsync(pulled);
        }

        // The proxy must really have failed requests, or this test proved nothing.
        proxy.FaultsInjected.ShouldBeGreaterThan(10);
        proxy.RequestsSeen.ShouldBeGreaterThan(200);
    }
}
