using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeForge.Oci.Model;

/// <summary>
/// JSON settings for manifests, indexes and configs. Documents read from elsewhere are kept as the exact bytes that
/// were digested (a re-serialisation would change the digest); these settings only shape what this tool writes.
/// </summary>
public static class OciJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Keep '+' and '<' literal as Go's encoder leaves '+' (media types read better and match other tools).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        ReadCommentHandling = JsonCommentHandling.Disallow,
    };

    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Deserialize<T>(ReadOnlySpan<byte> json, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidDataException($"{what}: JSON null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what}: malformed JSON: {e.Message}", e);
        }
    }

    /// <summary>The <c>mediaType</c> field of a manifest or index document, if present.</summary>
    public static string? PeekMediaType(ReadOnlySpan<byte> json)
    {
        try
        {
            var probe = JsonSerializer.Deserialize<MediaTypeProbe>(json, Options);
            if (probe?.MediaType is { Length: > 0 } mediaType)
            {
                return mediaType;
            }

            // The mediaType field is optional in OCI documents (SHOULD, not MUST); tell them apart by shape.
            if (probe?.Manifests is not null)
            {
                return MediaTypes.OciIndex;
            }

            return probe?.Config is not null ? MediaTypes.OciManifest : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record MediaTypeProbe(
        [property: JsonPropertyName("mediaType")] string? MediaType,
        [property: JsonPropertyName("manifests")] JsonElement? Manifests,
        [property: JsonPropertyName("config")] JsonElement? Config);
}
