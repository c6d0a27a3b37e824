namespace EdgeForge.Oci.Model;

/// <summary>Media types of the OCI image-spec (media-types.md) and of Docker's Image Manifest V2, Schema 2.</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string OciLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    public const string DockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";

    /// <summary>What a registry client accepts when fetching a manifest by tag: every manifest and index type.</summary>
    public static readonly IReadOnlyList<string> AcceptedManifests = [OciManifest, OciIndex, DockerManifest, DockerManifestList];

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsImageManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    public static LayerCompression CompressionOf(string mediaType) => mediaType switch
    {
        OciLayer or DockerLayer => LayerCompression.None,
        OciLayerGzip or DockerLayerGzip or DockerForeignLayerGzip or OciLayerNondistributableGzip => LayerCompression.Gzip,
        OciLayerZstd or DockerLayerZstd => LayerCompression.Zstd,
        _ when mediaType.EndsWith("+gzip", StringComparison.Ordinal) || mediaType.EndsWith(".gzip", StringComparison.Ordinal) => LayerCompression.Gzip,
        _ when mediaType.EndsWith("+zstd", StringComparison.Ordinal) || mediaType.EndsWith(".zstd", StringComparison.Ordinal) => LayerCompression.Zstd,
        _ when mediaType.EndsWith(".tar", StringComparison.Ordinal) => LayerCompression.None,
        _ => throw new NotSupportedException($"unknown layer media type {mediaType}"),
    };

    /// <summary>The layer media type of the manifest family (OCI or Docker) for a compression.</summary>
    public static string LayerMediaType(LayerCompression compression, bool docker = false) => (compression, docker) switch
    {
        (LayerCompression.None, false) => OciLayer,
        (LayerCompression.Gzip, false) => OciLayerGzip,
        (LayerCompression.Zstd, false) => OciLayerZstd,
        (LayerCompression.None, true) => DockerLayer,
        (LayerCompression.Gzip, true) => DockerLayerGzip,
        (LayerCompression.Zstd, true) => DockerLayerZstd,
        _ => throw new ArgumentOutOfRangeException(nameof(compression)),
    };
}

public enum LayerCompression
{
    None,
    Gzip,
    Zstd,
}
