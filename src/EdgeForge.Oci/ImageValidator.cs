using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci;

/// <summary>
/// Checks an image end to end, as go-containerregistry's validate package does: the manifest parses and names the
/// config by its true digest and size, the config's diff-ids pair with the layers, and every layer blob has the
/// digest and size its descriptor claims and decompresses to a tar with the diff-id the config claims. Layers are
/// streamed once each, compressed digest and diff-id computed in the same pass.
/// </summary>
public static class ImageValidator
{
    public static async Task ValidateAsync(IImage image, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var manifest = image.Manifest;
        if (!MediaTypes.IsImageManifest(image.RawManifest.MediaType))
        {
            problems.Add($"manifest media type {image.RawManifest.MediaType} is not an image manifest");
        }

        if (manifest.MediaType is not null && manifest.MediaType != image.RawManifest.MediaType)
        {
            problems.Add($"manifest mediaType field {manifest.MediaType} differs from {image.RawManifest.MediaType}");
        }

        var configDigest = Digest.Compute(manifest.Config.Digest.Algorithm, image.RawConfig.Span);
        if (configDigest != manifest.Config.Digest)
        {
            problems.Add($"config digest is {configDigest}, manifest says {manifest.Config.Digest}");
        }

        if (image.RawConfig.Length != manifest.Config.Size)
        {
            problems.Add($"config is {image.RawConfig.Length} bytes, manifest says {manifest.Config.Size}");
        }

        var diffIds = image.Config.RootFs.DiffIds;
        if (diffIds.Count != manifest.Layers.Count)
        {
            problems.Add($"manifest has {manifest.Layers.Count} layers, config has {diffIds.Count} diff-ids");
        }

        if (image.Layers.Count != manifest.Layers.Count)
        {
            problems.Add($"image exposes {image.Layers.Count} layers, manifest lists {manifest.Layers.Count}");
        }

        if (image.Config.History is { } history)
        {
            var nonEmpty = history.Count(h => h.EmptyLayer != true);
            if (nonEmpty != diffIds.Count)
            {
                problems.Add($"config history has {nonEmpty} non-empty entries for {diffIds.Count} layers");
            }
        }

        for (var i = 0; i < Math.Min(image.Layers.Count, manifest.Layers.Count); i++)
        {
            var layer = image.Layers[i];
            var described = manifest.Layers[i];
            if (layer.Digest != described.Digest || layer.Size != described.Size)
            {
                problems.Add($"layer {i}: exposes {layer.Digest} ({layer.Size} bytes), manifest lists {described.Digest} ({described.Size} bytes)");
            }

            if (i < diffIds.Count && layer.DiffId != diffIds[i])
            {
                problems.Add($"layer {i}: diff-id {layer.DiffId}, config lists {diffIds[i]}");
            }

            LayerCompression compression;
            try
            {
                compression = MediaTypes.CompressionOf(described.MediaType);
            }
            catch (NotSupportedException e)
            {
                problems.Add($"layer {i}: {e.Message}");
                continue;
            }

            var (digest, size, diffId) = await MeasureLayerAsync(layer, compression, cancellationToken).ConfigureAwait(false);
            if (digest != described.Digest)
            {
                problems.Add($"layer {i}: blob digest is {digest}, manifest says {described.Digest}");
            }

            if (size != described.Size)
            {
                problems.Add($"layer {i}: blob is {size} bytes, manifest says {described.Size}");
            }

            if (i < diffIds.Count && diffId != diffIds[i])
            {
                problems.Add($"layer {i}: uncompressed digest is {diffId}, config diff-id is {diffIds[i]}");
            }
        }

        if (problems.Count > 0)
        {
            throw new ImageValidationException(image.Digest, problems);
        }
    }

    private static async Task<(Digest Digest, long Size, Digest DiffId)> MeasureLayerAsync(ILayer layer, LayerCompression compression, CancellationToken cancellationToken)
    {
        // The blob stream of a transport verifies itself and would throw on a mismatch before we could report it
        // with context; catching that turns it into a finding.
        try
        {
            await using var blob = await layer.OpenCompressedAsync(cancellationToken).ConfigureAwait(false);
            using var compressed = new HashingReadStream(blob, layer.Digest.Algorithm, leaveOpen: true);
            using (var uncompressed = new HashingReadStream(LayerCompressionCodec.Decompress(compressed, compression), "sha256", leaveOpen: compression == LayerCompression.None))
            {
                await uncompressed.DrainAsync(cancellationToken).ConfigureAwait(false);
                await compressed.DrainAsync(cancellationToken).ConfigureAwait(false);
                return (compressed.Digest, compressed.BytesRead, uncompressed.Digest);
            }
        }
        catch (Exception e) when (e is DigestMismatchException or InvalidDataException)
        {
            // A corrupt compressed stream fails in the decompressor before any digest can be compared.
            throw new ImageValidationException(layer.Digest, [$"layer {layer.Digest}: {e.Message}"]);
        }
    }
}

public sealed class ImageValidationException(Digest digest, IReadOnlyList<string> problems)
    : Exception($"image {digest} is invalid: {string.Join("; ", problems)}")
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
