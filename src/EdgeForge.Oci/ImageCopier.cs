using EdgeForge.Oci.Model;
using EdgeForge.Oci.Transports;
using Polly;
using Polly.Retry;

namespace EdgeForge.Oci;

public sealed record CopyOptions
{
    /// <summary>The platform chosen from an index; null means the host's (linux/ARCH).</summary>
    public Platform? Platform { get; init; }

    /// <summary>Copy an index with every platform it lists instead of choosing one.</summary>
    public bool AllPlatforms { get; init; }

    /// <summary>Blobs transferred at once (bounded further by the destination).</summary>
    public int MaxParallelBlobs { get; init; } = 4;

    public ITransferProgress? Progress { get; init; }
}

/// <summary>What a copy produced: the digest the destination reference now names.</summary>
public sealed record CopyResult(Digest ManifestDigest, string MediaType, long BytesTransferred, int BlobsTransferred, int BlobsSkipped);

/// <summary>Receives transfer progress (bytes as they move, blobs as they finish).</summary>
public interface ITransferProgress
{
    void BlobStarted(Descriptor blob);

    void BytesTransferred(long count);

    void BlobFinished(Descriptor blob, bool skipped);
}

/// <summary>
/// Copies images between any two transports: blobs first (bounded parallelism, existing blobs skipped, registry
/// blobs mounted across repositories when possible), then manifests bottom-up. Manifests and configs are copied
/// byte for byte, so digests are preserved. A blob whose transfer broke mid-stream (connection reset, truncated
/// body caught by digest verification) is transferred again from the start.
/// </summary>
public static class ImageCopier
{
    private static readonly ResiliencePipeline BlobTransferRetry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 4,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            ShouldHandle = new PredicateBuilder().Handle<IOException>(e => e is not FileNotFoundException and not DirectoryNotFoundException).Handle<HttpRequestException>(),
        })
        .Build();

    public static async Task<CopyResult> CopyAsync(IImageSource source, IImageDestination destination, CopyOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CopyOptions();
        var state = new CopyState(source, destination, options);
        var root = await source.GetManifestAsync(cancellationToken).ConfigureAwait(false);
        if (root.IsIndex && options.AllPlatforms)
        {
            await CopyIndexAsync(state, root, cancellationToken).ConfigureAwait(false);
            await destination.PutManifestAsync(root, isRoot: true, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var manifest = root;
            while (manifest.IsIndex)
            {
                var chosen = manifest.AsIndex().SelectPlatform(options.Platform ?? Platform.Host);
                manifest = await source.GetManifestAsync(chosen, cancellationToken).ConfigureAwait(false);
            }

            var config = await CopyImageBlobsAsync(state, manifest, cancellationToken).ConfigureAwait(false);
            if (destination is OciLayoutImageDestination layout && config is not null)
            {
                layout.RootPlatform = config.Platform;
            }

            await destination.PutManifestAsync(manifest, isRoot: true, cancellationToken).ConfigureAwait(false);
            root = manifest;
        }

        await destination.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new CopyResult(root.Digest, root.MediaType, state.Bytes, state.Transferred, state.Skipped);
    }

    /// <summary>Writes an image built or read in memory (an <see cref="IImage"/>) to a destination.</summary>
    public static Task<CopyResult> WriteAsync(IImage image, IImageDestination destination, CopyOptions? options = null, CancellationToken cancellationToken = default) =>
        CopyAsync(new ImageAsSource(image), destination, options, cancellationToken);

    private static async Task CopyIndexAsync(CopyState state, ManifestContent index, CancellationToken cancellationToken)
    {
        foreach (var child in index.AsIndex().Manifests)
        {
            var manifest = await state.Source.GetManifestAsync(child, cancellationToken).ConfigureAwait(false);
            if (manifest.IsIndex)
            {
                await CopyIndexAsync(state, manifest, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await CopyImageBlobsAsync(state, manifest, cancellationToken).ConfigureAwait(false);
            }

            await state.Destination.PutManifestAsync(manifest, isRoot: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<ImageConfig?> CopyImageBlobsAsync(CopyState state, ManifestContent content, CancellationToken cancellationToken)
    {
        var manifest = content.AsManifest();
        var blobs = new List<Descriptor> { manifest.Config };
        blobs.AddRange(manifest.Layers);
        var parallelism = Math.Max(1, Math.Min(state.Options.MaxParallelBlobs, state.Destination.MaxParallelBlobs));
        await Parallel.ForEachAsync(
            blobs.DistinctBy(b => b.Digest),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (blob, ct) => await CopyBlobAsync(state, blob, ct).ConfigureAwait(false)).ConfigureAwait(false);
        try
        {
            await using var configStream = await state.Source.OpenBlobAsync(manifest.Config, cancellationToken).ConfigureAwait(false);
            return manifest.Config.MediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig
                ? ImageConfig.Parse(await SourceImage.ReadSmallBlobAsync(configStream, manifest.Config, cancellationToken).ConfigureAwait(false))
                : null;
        }
        catch (InvalidDataException)
        {
            // An artifact's config need not be an image config; the platform annotation is then just left out.
            return null;
        }
    }

    private static async Task CopyBlobAsync(CopyState state, Descriptor blob, CancellationToken cancellationToken)
    {
        if (blob.Urls is { Count: > 0 } && blob.MediaType is MediaTypes.DockerForeignLayerGzip or MediaTypes.OciLayerNondistributableGzip)
        {
            // Foreign layers live at their URLs, not in registries (image-spec layer.md "Non-distributable").
            return;
        }

        state.Progress?.BlobStarted(blob);
        var skipped = false;
        await BlobTransferRetry.ExecuteAsync(async ct =>
        {
            // Checked again on each attempt: a push whose response was lost may well have completed.
            if (await state.Destination.HasBlobAsync(blob, ct).ConfigureAwait(false))
            {
                skipped = true;
                return;
            }

            if (state.Destination is RegistryImageDestination registry && state.Source is RegistryImageSource from
                && await registry.TryMountBlobAsync(blob, from.Reference, ct).ConfigureAwait(false))
            {
                skipped = true;
                return;
            }

            if (state.Destination is OciLayoutImageDestination layout && state.Source is ImageAsSource image
                && image.LocalPathOf(blob) is { } localPath && layout.TryLinkBlob(blob, localPath))
            {
                return;
            }

            await state.Destination.PutBlobAsync(blob, async innerCt =>
            {
                var stream = await state.Source.OpenBlobAsync(blob, innerCt).ConfigureAwait(false);
                return state.Progress is null ? stream : new Blobs.ProgressReadStream(stream, n =>
                {
                    Interlocked.Add(ref state.Bytes, n);
                    state.Progress.BytesTransferred(n);
                });
            }, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        if (skipped)
        {
            Interlocked.Increment(ref state.Skipped);
        }
        else
        {
            Interlocked.Increment(ref state.Transferred);
        }

        state.Progress?.BlobFinished(blob, skipped);
    }

    private sealed class CopyState(IImageSource source, IImageDestination destination, CopyOptions options)
    {
        public IImageSource Source { get; } = source;
        public IImageDestination Destination { get; } = destination;
        public CopyOptions Options { get; } = options;
        public ITransferProgress? Progress { get; } = options.Progress;
        public long Bytes;
        public int Transferred;
        public int Skipped;
    }
}

/// <summary>Presents an <see cref="IImage"/> as a source, so images built in memory go through the same copier.</summary>
public sealed class ImageAsSource(IImage image) : IImageSource
{
    public string Description => $"image {image.Digest}";

    public Task<ManifestContent> GetManifestAsync(CancellationToken cancellationToken = default) => Task.FromResult(image.RawManifest);

    public Task<ManifestContent> GetManifestAsync(Descriptor descriptor, CancellationToken cancellationToken = default) =>
        descriptor.Digest == image.Digest ? Task.FromResult(image.RawManifest) : throw new FileNotFoundException($"{Description}: no manifest {descriptor.Digest}");

    public Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        if (descriptor.Digest == image.Manifest.Config.Digest)
        {
            return Task.FromResult<Stream>(new MemoryStream(image.RawConfig.ToArray(), writable: false));
        }

        var layer = image.Layers.FirstOrDefault(l => l.Digest == descriptor.Digest)
            ?? throw new FileNotFoundException($"{Description}: no blob {descriptor.Digest}");
        return layer.OpenCompressedAsync(cancellationToken);
    }

    /// <summary>The local file of a blob when the image's layer is a blob-cache file (verified when it was stored).</summary>
    public string? LocalPathOf(Descriptor descriptor) =>
        image.Layers.FirstOrDefault(l => l.Digest == descriptor.Digest) is Layers.BlobLayer blobLayer ? blobLayer.Path : null;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
