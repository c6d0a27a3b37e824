using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Testing;

/// <summary>
/// A debootstrap Debian (<see cref="DebianRootfs"/>) imported and pushed as <c>REGISTRY/base/debian:bookworm</c>, with
/// the blob cache and a registry client that also reaches the fixture CanvOS upstreams: the base of the heavy tests
/// that run real apt in the RUN sandbox.
/// </summary>
public sealed class DebianBaseImage : IDisposable
{
    private DebianBaseImage(BlobCache blobs, RegistryClient client, string reference) => (Blobs, Client, Reference) = (blobs, client, reference);

    public BlobCache Blobs { get; }

    public RegistryClient Client { get; }

    /// <summary><c>REGISTRY/base/debian:bookworm</c>.</summary>
    public string Reference { get; }

    public static async Task<DebianBaseImage> PushAsync(RegistryProcess registry, TestDirectory work)
    {
        var rootfs = work.Combine("debian");
        await DebianRootfs.CreateAsync(rootfs);
        var blobs = new BlobCache(work.Combine("cache"));
        var upstreams = await Upstreams.CanvosUpstreams.SharedAsync();
        var client = new RegistryClient(new RegistryClientOptions { Mirrors = RegistriesConfiguration.Load(upstreams.RegistriesConf) });
        var reference = $"{registry.Address}/base/debian:{DebianRootfs.Suite}";
        var image = await RootFsImporter.ImportAsync(rootfs, blobs);
        await using (var destination = ImageLocation.Parse("docker://" + reference).OpenDestination(client))
        {
            await ImageCopier.WriteAsync(image, destination);
        }

        return new DebianBaseImage(blobs, client, reference);
    }

    public void Dispose() => Client.Dispose();
}
