using System.Text.Json.Serialization;

namespace EdgeForge.Oci.Model;

/// <summary>A content descriptor (image-spec descriptor.md): what a blob is, its digest and exact size.</summary>
public sealed record Descriptor
{
    [JsonPropertyName("mediaType")]
    public required string MediaType { get; init; }

    [JsonPropertyName("digest")]
    public required Digest Digest { get; init; }

    [JsonPropertyName("size")]
    public required long Size { get; init; }

    [JsonPropertyName("urls")]
    public IReadOnlyList<string>? Urls { get; init; }

    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    [JsonPropertyName("platform")]
    public Platform? Platform { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    public static Descriptor For(string mediaType, ReadOnlySpan<byte> content) =>
        new() { MediaType = mediaType, Digest = Digest.Compute(content), Size = content.Length };

    public override string ToString() => $"{MediaType} {Digest} ({Size} bytes)";
}

/// <summary>Annotation keys of image-spec annotations.md this tool reads or writes.</summary>
public static class Annotations
{
    /// <summary>The tag of a manifest in an OCI layout's index.json (image-layout.md "Index").</summary>
    public const string RefName = "org.opencontainers.image.ref.name";

    public const string Created = "org.opencontainers.image.created";

    /// <summary>containerd's full image name annotation, which skopeo also honours.</summary>
    public const string ContainerdImageName = "io.containerd.image.name";
}
