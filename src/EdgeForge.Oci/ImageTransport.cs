using EdgeForge.Oci.Model;

namespace EdgeForge.Oci;

/// <summary>
/// The read side of a transport (registry, OCI layout, archive): the manifest the reference names, manifests by
/// digest and blobs by descriptor. Streams returned verify their content against the descriptor while read.
/// </summary>
public interface IImageSource : IAsyncDisposable
{
    /// <summary>What this source is, for messages (never with credentials).</summary>
    string Description { get; }

    /// <summary>The manifest or index the reference names.</summary>
    Task<ManifestContent> GetManifestAsync(CancellationToken cancellationToken = default);

    /// <summary>A manifest or index by descriptor (a child of an index).</summary>
    Task<ManifestContent> GetManifestAsync(Descriptor descriptor, CancellationToken cancellationToken = default);

    Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default);
}

/// <summary>
/// The write side of a transport. Blobs first, then manifests bottom-up (children before the index that lists
/// them), then <see cref="CommitAsync"/> — the order registries require (distribution-spec "Pushing manifests":
/// a registry MAY reject a manifest whose blobs it does not have).
/// </summary>
public interface IImageDestination : IAsyncDisposable
{
    string Description { get; }

    /// <summary>How many blobs may be written at once; 1 for sinks that write one sequential stream.</summary>
    int MaxParallelBlobs { get; }

    Task<bool> HasBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a blob. <paramref name="open"/> may be called more than once (a retried upload opens the content again),
    /// and every stream it returns is disposed by the destination.
    /// </summary>
    Task PutBlobAsync(Descriptor descriptor, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken = default);

    /// <summary>Stores a manifest; <paramref name="isRoot"/> marks the one the destination reference (tag) names.</summary>
    Task PutManifestAsync(ManifestContent manifest, bool isRoot, CancellationToken cancellationToken = default);

    Task CommitAsync(CancellationToken cancellationToken = default);
}
