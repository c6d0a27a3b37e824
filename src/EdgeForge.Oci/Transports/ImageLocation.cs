using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Oci.Transports;

public enum TransportKind
{
    Registry,
    OciLayout,
    OciArchive,
    DockerArchive,
}

/// <summary>
/// Where an image is, in the transport syntax skopeo and containers/image use: <c>docker://REF</c>,
/// <c>oci:DIR[:TAG]</c>, <c>oci-archive:FILE[:TAG]</c>, <c>docker-archive:FILE[:REF]</c>. A bare reference without a
/// transport means the registry.
/// </summary>
public sealed record ImageLocation(TransportKind Kind, string Path, string? Tag, ImageReference? Reference)
{
    public static ImageLocation Parse(string value)
    {
        if (value.StartsWith("docker://", StringComparison.Ordinal))
        {
            return Registry(value["docker://".Length..]);
        }

        foreach (var (prefix, kind) in new[] { ("oci-archive:", TransportKind.OciArchive), ("oci:", TransportKind.OciLayout), ("docker-archive:", TransportKind.DockerArchive) })
        {
            if (!value.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = value[prefix.Length..];
            if (rest.Length == 0)
            {
                throw new FormatException($"\"{value}\": missing path after {prefix}");
            }

            if (kind == TransportKind.DockerArchive)
            {
                // docker-archive:FILE[:REF] — the reference itself may contain ':' (a tag or a port); a FILE may not
                // be followed by anything that does not parse as a reference.
                var colon = rest.IndexOf(':');
                if (colon < 0)
                {
                    return new ImageLocation(kind, rest, null, null);
                }

                var referenceText = rest[(colon + 1)..];
                return ImageReference.TryParse(referenceText, out var archiveReference, out var error)
                    ? new ImageLocation(kind, rest[..colon], null, archiveReference)
                    : throw new FormatException($"\"{value}\": bad image reference after the archive path: {error}");
            }

            var last = rest.LastIndexOf(':');
            if (last > 0 && !rest[(last + 1)..].Contains('/'))
            {
                var tag = rest[(last + 1)..];
                return new ImageLocation(kind, rest[..last], ImageReference.ValidateTag(tag), null);
            }

            return new ImageLocation(kind, rest, null, null);
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            throw new FormatException($"\"{value}\": unknown transport (use docker://, oci:, oci-archive: or docker-archive:)");
        }

        return Registry(value);
    }

    private static ImageLocation Registry(string reference) =>
        ImageReference.TryParse(reference, out var parsed, out var error)
            ? new ImageLocation(TransportKind.Registry, "", null, parsed)
            : throw new FormatException($"invalid image reference \"{reference}\": {error}");

    public IImageSource OpenSource(RegistryClient client, BlobCache? cache = null) => Kind switch
    {
        TransportKind.Registry => new RegistryImageSource(client, Reference!, cache),
        TransportKind.OciLayout => new OciLayoutImageSource(Path, Tag),
        TransportKind.OciArchive => OciArchiveImageSource.Open(Path, Tag),
        TransportKind.DockerArchive => DockerArchiveImageSource.Open(Path, Reference),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };

    public IImageDestination OpenDestination(RegistryClient client, int maxParallelBlobs = 4) => Kind switch
    {
        TransportKind.Registry => new RegistryImageDestination(client, Reference!, maxParallelBlobs),
        TransportKind.OciLayout => new OciLayoutImageDestination(Path, Tag),
        TransportKind.OciArchive => new OciArchiveImageDestination(Path, Tag),
        TransportKind.DockerArchive => new DockerArchiveImageDestination(Path, Reference),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };

    public override string ToString() => Kind switch
    {
        TransportKind.Registry => "docker://" + Reference,
        TransportKind.OciLayout => "oci:" + Path + (Tag is null ? "" : ":" + Tag),
        TransportKind.OciArchive => "oci-archive:" + Path + (Tag is null ? "" : ":" + Tag),
        _ => "docker-archive:" + Path + (Reference is null ? "" : ":" + Reference),
    };
}
