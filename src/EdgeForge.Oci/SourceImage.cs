using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci;

/// <summary>An image read from any <see cref="IImageSource"/>: manifest and config in memory, layers opened on demand.</summary>
public sealed class SourceImage : IImage
{
    private SourceImage(ManifestContent rawManifest, ImageManifest manifest, ReadOnlyMemory<byte> rawConfig, ImageConfig config, IReadOnlyList<ILayer> layers)
    {
        RawManifest = rawManifest;
        Manifest = manifest;
        RawConfig = rawConfig;
        Config = config;
        Layers = layers;
    }

    public ManifestContent RawManifest { get; }

    public Digest Digest => RawManifest.Digest;

    public ImageManifest Manifest { get; }

    public ReadOnlyMemory<byte> RawConfig { get; }

    public ImageConfig Config { get; }

    public IReadOnlyList<ILayer> Layers { get; }

    /// <summary>
    /// Loads the image a source names. An index is resolved to the manifest for <paramref name="platform"/>
    /// (default: linux on the host architecture).
    /// </summary>
    public static async Task<SourceImage> LoadAsync(IImageSource source, Platform? platform = null, CancellationToken cancellationToken = default)
    {
        var manifest = await source.GetManifestAsync(cancellationToken).ConfigureAwait(false);
        // Nested indexes are legal (image-index.md: manifests MAY reference other indexes); follow them.
        for (var depth = 0; manifest.IsIndex; depth++)
        {
            if (depth > 4)
            {
                throw new InvalidDataException($"{source.Description}: indexes nested too deep");
            }

            var chosen = manifest.AsIndex().SelectPlatform(platform ?? Platform.Host);
            manifest = await source.GetManifestAsync(chosen, cancellationToken).ConfigureAwait(false);
        }

        return await FromManifestAsync(source, manifest, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<SourceImage> FromManifestAsync(IImageSource source, ManifestContent rawManifest, CancellationToken cancellationToken = default)
    {
        var manifest = rawManifest.AsManifest();
        byte[] rawConfig;
        await using (var configStream = await source.OpenBlobAsync(manifest.Config, cancellationToken).ConfigureAwait(false))
        {
            rawConfig = await ReadSmallBlobAsync(configStream, manifest.Config, cancellationToken).ConfigureAwait(false);
        }

        var config = ImageConfig.Parse(rawConfig);
        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
        {
            throw new InvalidDataException(
                $"{source.Description}: manifest {rawManifest.Digest} has {manifest.Layers.Count} layers but its config lists {config.RootFs.DiffIds.Count} diff-ids");
        }

        var layers = manifest.Layers.Select((descriptor, i) => (ILayer)new SourceLayer(source, descriptor, config.RootFs.DiffIds[i])).ToList();
        return new SourceImage(rawManifest, manifest, rawConfig, config, layers);
    }

    /// <summary>Reads a config-sized blob fully (configs and manifests are small; layers are never read this way).</summary>
    internal static async Task<byte[]> ReadSmallBlobAsync(Stream stream, Descriptor descriptor, CancellationToken cancellationToken)
    {
        const long limit = 64L << 20;
        if (descriptor.Size > limit)
        {
            throw new InvalidDataException($"{descriptor.Digest}: {descriptor.Size} bytes is too large for a {descriptor.MediaType}");
        }

        var buffer = new byte[descriptor.Size];
        await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        // Reading one more byte makes a verifying stream see the end and check the digest.
        if (await stream.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) != 0)
        {
            throw new DigestMismatchException($"{descriptor.Digest}: longer than {descriptor.Size} bytes");
        }

        if (Digest.Compute(descriptor.Digest.Algorithm, buffer) != descriptor.Digest)
        {
            throw new DigestMismatchException($"{descriptor.Digest}: content does not match its digest");
        }

        return buffer;
    }

    private sealed class SourceLayer(IImageSource source, Descriptor descriptor, Digest diffId) : ILayer
    {
        public Descriptor Descriptor => descriptor;

        public Digest DiffId => diffId;

        public Task<Stream> OpenCompressedAsync(CancellationToken cancellationToken = default) => source.OpenBlobAsync(descriptor, cancellationToken);

        public async Task<Stream> OpenUncompressedAsync(CancellationToken cancellationToken = default)
        {
            var compressed = await source.OpenBlobAsync(descriptor, cancellationToken).ConfigureAwait(false);
            var tar = LayerCompressionCodec.Decompress(compressed, MediaTypes.CompressionOf(descriptor.MediaType));
            return new DigestVerifyingStream(tar, diffId, -1, $"layer {descriptor.Digest} (uncompressed)");
        }
    }
}
