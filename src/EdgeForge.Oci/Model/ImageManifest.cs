using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeForge.Oci.Model;

/// <summary>
/// An image manifest (image-spec manifest.md), which is also the shape of Docker's Image Manifest V2 Schema 2:
/// the two differ only in media types.
/// </summary>
public sealed record ImageManifest
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 2;

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("config")]
    public required Descriptor Config { get; init; }

    [JsonPropertyName("layers")]
    public required IReadOnlyList<Descriptor> Layers { get; init; }

    [JsonPropertyName("subject")]
    public Descriptor? Subject { get; init; }

    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }

    public static ImageManifest Parse(ReadOnlySpan<byte> json)
    {
        var manifest = OciJson.Deserialize<ImageManifest>(json, "image manifest");
        if (manifest.SchemaVersion != 2)
        {
            throw new InvalidDataException($"image manifest: schemaVersion {manifest.SchemaVersion} is not supported (only 2)");
        }

        return manifest;
    }
}

/// <summary>An image index (image-index.md) or a Docker manifest list: manifests per platform.</summary>
public sealed record ImageIndex
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 2;

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("manifests")]
    public required IReadOnlyList<Descriptor> Manifests { get; init; }

    [JsonPropertyName("subject")]
    public Descriptor? Subject { get; init; }

    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }

    public static ImageIndex Parse(ReadOnlySpan<byte> json)
    {
        var index = OciJson.Deserialize<ImageIndex>(json, "image index");
        if (index.SchemaVersion != 2)
        {
            throw new InvalidDataException($"image index: schemaVersion {index.SchemaVersion} is not supported (only 2)");
        }

        return index;
    }

    /// <summary>
    /// The manifest for a platform. Entries without a platform and attestation manifests (buildkit marks them
    /// <c>vnd.docker.reference.type</c>, platform unknown/unknown) never match.
    /// </summary>
    public Descriptor SelectPlatform(Platform wanted)
    {
        var candidates = Manifests.Where(m => MediaTypes.IsImageManifest(m.MediaType) || MediaTypes.IsIndex(m.MediaType)).ToList();
        var exact = candidates.FirstOrDefault(m => wanted.IsSatisfiedBy(m.Platform));
        if (exact is not null)
        {
            return exact;
        }

        var available = string.Join(", ", candidates.Where(m => m.Platform is not null).Select(m => m.Platform!.ToString()).Distinct());
        throw new PlatformNotFoundException(wanted, available.Length == 0 ? "none" : available);
    }
}

public sealed class PlatformNotFoundException(Platform wanted, string available)
    : Exception($"no manifest for platform {wanted} in the index (available: {available})")
{
    public Platform Wanted { get; } = wanted;
}
