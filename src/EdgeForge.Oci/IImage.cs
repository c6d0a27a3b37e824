using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci;

/// <summary>
/// A manifest or index document exactly as stored: the bytes are what the digest covers, so they are passed on
/// untouched (re-serialising JSON would change the digest).
/// </summary>
public sealed class ManifestContent
{
    public ManifestContent(ReadOnlyMemory<byte> bytes, string? mediaType = null)
    {
        Bytes = bytes;
        MediaType = mediaType ?? OciJson.PeekMediaType(bytes.Span)
            ?? throw new InvalidDataException("manifest has no mediaType and is neither a manifest nor an index");
        Digest = Digest.Compute(bytes.Span);
    }

    public ReadOnlyMemory<byte> Bytes { get; }

    public string MediaType { get; }

    public Digest Digest { get; }

    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    public Descriptor Descriptor => new() { MediaType = MediaType, Digest = Digest, Size = Bytes.Length };

    public ImageManifest AsManifest() => IsIndex
        ? throw new InvalidDataException($"{Digest} is an index ({MediaType}), not an image manifest")
        : ImageManifest.Parse(Bytes.Span);

    public ImageIndex AsIndex() => IsIndex
        ? ImageIndex.Parse(Bytes.Span)
        : throw new InvalidDataException($"{Digest} is an image manifest ({MediaType}), not an index");

    /// <summary>Checks the bytes against a descriptor that names them (digest, size and, when given, media type).</summary>
    public ManifestContent VerifiedAgainst(Descriptor expected)
    {
        if (Digest != expected.Digest || Bytes.Length != expected.Size)
        {
            throw new DigestMismatchException($"manifest {expected.Digest}: got {Digest} ({Bytes.Length} bytes), expected {expected.Size} bytes");
        }

        return this;
    }
}

/// <summary>
/// An image: its manifest, its config and its ordered layers. Every transport produces one and every builder and
/// writer consumes one (go-containerregistry's v1.Image, in C#).
/// </summary>
public interface IImage
{
    ManifestContent RawManifest { get; }

    ImageManifest Manifest { get; }

    ReadOnlyMemory<byte> RawConfig { get; }

    ImageConfig Config { get; }

    /// <summary>Layers bottom to top, paired with the config's diff-ids.</summary>
    IReadOnlyList<ILayer> Layers { get; }

    Digest Digest => RawManifest.Digest;
}

/// <summary>One layer: a (usually compressed) tar blob and the digest of its uncompressed tar, the diff-id.</summary>
public interface ILayer
{
    Descriptor Descriptor { get; }

    Digest Digest => Descriptor.Digest;

    Digest DiffId { get; }

    long Size => Descriptor.Size;

    string MediaType => Descriptor.MediaType;

    /// <summary>The blob as stored; the stream verifies digest and size as it is read and throws at the end on a mismatch.</summary>
    Task<Stream> OpenCompressedAsync(CancellationToken cancellationToken = default);

    /// <summary>The tar inside the blob, decompressed as it is read.</summary>
    Task<Stream> OpenUncompressedAsync(CancellationToken cancellationToken = default);
}
