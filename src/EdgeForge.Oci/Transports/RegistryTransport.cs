using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Oci.Transports;

/// <summary>
/// Reads an image from a registry (<c>docker://REF</c>). With a <see cref="BlobCache"/>, blobs are downloaded into
/// the cache once and later opened from it — what a build that reads the same layers twice (the flattened view's
/// two passes) wants; plain copies go straight through.
/// </summary>
public sealed class RegistryImageSource(RegistryClient client, ImageReference reference, BlobCache? cache = null) : IImageSource
{
    public ImageReference Reference => reference;

    public string Description => "docker://" + reference;

    public Task<ManifestContent> GetManifestAsync(CancellationToken cancellationToken = default) => client.GetManifestAsync(reference, cancellationToken);

    public Task<ManifestContent> GetManifestAsync(Descriptor descriptor, CancellationToken cancellationToken = default) =>
        client.GetManifestAsync(reference, descriptor, cancellationToken);

    public async Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        if (cache is null)
        {
            return await client.OpenBlobAsync(reference, descriptor, cancellationToken).ConfigureAwait(false);
        }

        if (cache.TryOpen(descriptor.Digest) is { } cached)
        {
            return new DigestVerifyingStream(cached, descriptor.Digest, descriptor.Size, $"cached blob {descriptor.Digest}");
        }

        await using (var download = await client.OpenBlobAsync(reference, descriptor, cancellationToken).ConfigureAwait(false))
        {
            await cache.PutAsync(descriptor.Digest, descriptor.Size, download, cancellationToken).ConfigureAwait(false);
        }

        return new DigestVerifyingStream(cache.TryOpen(descriptor.Digest)!, descriptor.Digest, descriptor.Size, $"cached blob {descriptor.Digest}");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Pushes an image to a registry (<c>docker://REF</c>): blobs that exist are skipped, others mounted or uploaded.</summary>
public sealed class RegistryImageDestination(RegistryClient client, ImageReference reference, int maxParallelBlobs = 4) : IImageDestination
{
    public ImageReference Reference => reference;

    public string Description => "docker://" + reference;

    public int MaxParallelBlobs => maxParallelBlobs;

    public Task<bool> HasBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default) => client.BlobExistsAsync(reference, descriptor, cancellationToken);

    /// <summary>Mounts from another repository of the same registry instead of uploading, when the registry agrees.</summary>
    public Task<bool> TryMountBlobAsync(Descriptor descriptor, ImageReference from, CancellationToken cancellationToken = default) =>
        from.Registry == reference.Registry && from.Repository != reference.Repository
            ? client.TryMountBlobAsync(reference, descriptor, from.Repository, cancellationToken)
            : Task.FromResult(false);

    public Task PutBlobAsync(Descriptor descriptor, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken = default) =>
        client.UploadBlobAsync(reference, descriptor, open, cancellationToken);

    public async Task PutManifestAsync(ManifestContent manifest, bool isRoot, CancellationToken cancellationToken = default)
    {
        // The root goes under the reference's tag (or its digest when the destination is pinned); children of an
        // index by digest (distribution-spec "Pushing Manifests": an index's manifests must exist first).
        var target = isRoot ? reference.Tag ?? manifest.Digest.ToString() : manifest.Digest.ToString();
        if (isRoot && reference.Digest is { } pinned && pinned != manifest.Digest)
        {
            throw new DigestMismatchException($"{Description}: destination pins {pinned} but the manifest is {manifest.Digest}");
        }

        await client.PutManifestAsync(reference, target, manifest, cancellationToken).ConfigureAwait(false);
    }

    public Task CommitAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
