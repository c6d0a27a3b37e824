using System.Collections.Concurrent;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Build.Composition;

/// <summary>An upstream image resolved once per build: the reference as configured, the key that set it, and the digest it had.</summary>
public sealed record PinnedImage(string Role, string Reference, string SetBy, Digest Digest, IImage Image)
{
    /// <summary>The reference with its digest: what <c>plan.lock.json</c> records and <c>--locked</c> pulls.</summary>
    public string PinnedReference => Reference.Contains('@', StringComparison.Ordinal) || !IsRegistry(Reference)
        ? Reference
        : ImageReference.Parse(Reference).WithDigest(Digest).ToString();

    internal static bool IsRegistry(string reference) =>
        !reference.StartsWith("oci:", StringComparison.Ordinal) && !reference.StartsWith("oci-archive:", StringComparison.Ordinal) &&
        !reference.StartsWith("docker-archive:", StringComparison.Ordinal);
}

/// <summary>
/// Pulls upstream images for the build's platform into the blob cache, once each, and pins them: every later step
/// reads the cached, digest-verified blobs, so a tag that moves during the build cannot give the installer a different
/// base than the provider images. A wrong platform, a missing image or a refused pull is an error that names the
/// image and the <c>.arg</c> key that chose it.
/// </summary>
public sealed class UpstreamPuller(RegistryClient registry, BlobCache blobs, Platform platform, Func<ITransferProgress?>? progress = null)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<PinnedImage>>> _pinned = new(StringComparer.Ordinal);

    /// <summary>The registry repository each pulled layer came from, so a push to the same registry can mount it instead of uploading.</summary>
    public ConcurrentDictionary<Digest, ImageReference> Origins { get; } = new();

    public IReadOnlyCollection<PinnedImage> Pinned => _pinned.Values.Where(v => v.IsValueCreated && v.Value.IsCompletedSuccessfully).Select(v => v.Value.Result).ToList();

    /// <summary>The image, pulled for the build's platform; with <paramref name="locked"/> exactly that digest.</summary>
    public Task<PinnedImage> PinAsync(string role, string reference, string setBy, Digest? locked = null, CancellationToken cancellationToken = default) =>
        _pinned.GetOrAdd(role + "\n" + reference, _ => new Lazy<Task<PinnedImage>>(() => PullAsync(role, reference, setBy, locked, cancellationToken))).Value;

    private async Task<PinnedImage> PullAsync(string role, string reference, string setBy, Digest? locked, CancellationToken cancellationToken)
    {
        var what = $"the {role} image {reference} (set by {setBy})";
        var transfer = progress?.Invoke();
        IImage image;
        ImageLocation location;
        try
        {
            var source = locked is { } digest && PinnedImage.IsRegistry(reference) && !reference.Contains('@', StringComparison.Ordinal)
                ? ImageReference.Parse(reference).WithDigest(digest).ToString()
                : reference;
            location = ImageLocation.Parse(source.Contains("://", StringComparison.Ordinal) || !PinnedImage.IsRegistry(source) ? source : "docker://" + source);
            // Without the cache underneath: the layer loop below stores each blob itself, so its bytes are seen as they arrive.
            image = await SourceImage.LoadAsync(location.OpenSource(registry), platform, cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformNotFoundException e)
        {
            throw new UpstreamImageException($"{what} has no {platform} variant ({e.Message}); set {setBy} to an image built for ARCH={platform.Architecture}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or FormatException or ArgumentException)
        {
            throw new UpstreamImageException($"{what} could not be fetched: {e.Message} — check {setBy}, the registry credentials " +
                "(edgeforge login) and, on a site without internet, a registries.conf mirror (--registries-conf)", e);
        }

        // A single-platform manifest says nothing about its platform; its config does (image-spec config.md).
        if (image.Config.Architecture is { Length: > 0 } architecture && (architecture != platform.Architecture || (image.Config.Os ?? "linux") != platform.Os))
        {
            throw new UpstreamImageException($"{what} is built for {image.Config.Os}/{architecture}, not {platform}; " +
                $"set {setBy} to an image for ARCH={platform.Architecture} (a multi-platform index is fine)");
        }

        if (locked is { } expected && image.Digest != expected && !reference.Contains('@', StringComparison.Ordinal))
        {
            throw new UpstreamImageException($"{what}: plan.lock.json pins {expected}, the registry serves {image.Digest}");
        }

        if (location.Kind == TransportKind.Registry && location.Reference is { } origin)
        {
            foreach (var layer in image.Layers)
            {
                Origins.TryAdd(layer.Digest, origin);
            }
        }

        // Into the local blob cache once, verified, so every later read (flattening, the matrix, the push) is local.
        var layers = new List<ILayer>();
        try
        {
            // Up to three layers at once; each one's tar headers are read from its bytes as they arrive (the build
            // looks at them next), so the download and the decompression overlap instead of following each other.
            await Parallel.ForEachAsync(image.Layers.Where(l => !blobs.Contains(l.Digest)).DistinctBy(l => l.Digest),
                new ParallelOptions { MaxDegreeOfParallelism = 3, CancellationToken = cancellationToken }, async (layer, token) =>
                {
                    transfer?.BlobStarted(layer.Descriptor);
                    var headers = new LayerHeaderTee(layer);
                    var verified = false;
                    try
                    {
                        await using var blob = headers.Wrap(await layer.OpenCompressedAsync(token).ConfigureAwait(false));
                        await using var counted = transfer is null ? blob : new ProgressReadStream(blob, transfer.BytesTransferred);
                        await blobs.PutAsync(layer.Digest, layer.Size, counted, token).ConfigureAwait(false);
                        verified = true;
                    }
                    finally
                    {
                        await headers.CompleteAsync(verified).ConfigureAwait(false);
                    }

                    transfer?.BlobFinished(layer.Descriptor, skipped: false);
                }).ConfigureAwait(false);
            layers.AddRange(image.Layers.Select(layer => new BlobLayer(blobs.PathOf(layer.Digest), layer.Descriptor, layer.DiffId)));
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new UpstreamImageException($"{what}: a layer could not be fetched: {e.Message}", e);
        }

        // The cached copy re-serialises the manifest (same config, same layers); Digest keeps what the registry served.
        return new PinnedImage(role, reference, setBy, image.Digest, BuiltImage.Create(image.Config, layers, image.Manifest.Annotations));
    }
}

/// <summary>An upstream image cannot be used: not found, refused, or for another platform. The message names the image, the key and a fix.</summary>
public sealed class UpstreamImageException(string message, Exception? inner = null) : Exception(message, inner);
