using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeForge.Oci.Model;

/// <summary>
/// A content digest, <c>algorithm:encoded</c> (OCI image-spec descriptor.md "Digests"). sha256 and sha512 are the
/// registered algorithms this tool verifies; their encoded part must be lowercase hex of the right length.
/// </summary>
[JsonConverter(typeof(DigestJsonConverter))]
public readonly record struct Digest
{
    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    public string Algorithm { get; }

    public string Encoded { get; }

    public override string ToString() => Algorithm is null ? "" : $"{Algorithm}:{Encoded}";

    public static Digest Parse(string value) =>
        TryParse(value, out var digest, out var error) ? digest : throw new FormatException($"invalid digest \"{value}\": {error}");

    public static bool TryParse(string? value, out Digest digest) => TryParse(value, out digest, out _);

    /// <summary>Grammar from descriptor.md: <c>algorithm ":" encoded</c>, algorithm components <c>[a-z0-9]+</c> joined by <c>[+._-]</c>.</summary>
    public static bool TryParse(string? value, out Digest digest, out string error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "empty";
            return false;
        }

        var colon = value.IndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            error = "expected ALGORITHM:HEX";
            return false;
        }

        var algorithm = value[..colon];
        var encoded = value[(colon + 1)..];
        var expectedLength = algorithm switch
        {
            "sha256" => 64,
            "sha512" => 128,
            _ => -1,
        };
        if (expectedLength < 0)
        {
            error = $"unsupported algorithm \"{algorithm}\" (sha256 and sha512 are supported)";
            return false;
        }

        if (encoded.Length != expectedLength || !encoded.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
        {
            error = $"{algorithm} needs {expectedLength} lowercase hex digits";
            return false;
        }

        digest = new Digest(algorithm, encoded);
        error = "";
        return true;
    }

    public static Digest FromSha256Hash(ReadOnlySpan<byte> hash) => new("sha256", Convert.ToHexStringLower(hash));

    public static Digest Compute(ReadOnlySpan<byte> content) => FromSha256Hash(SHA256.HashData(content));

    public static Digest Compute(string algorithm, ReadOnlySpan<byte> content) => algorithm switch
    {
        "sha256" => FromSha256Hash(SHA256.HashData(content)),
        "sha512" => new Digest("sha512", Convert.ToHexStringLower(SHA512.HashData(content))),
        _ => throw new NotSupportedException($"digest algorithm {algorithm}"),
    };

    /// <summary>The incremental hash that verifies content of this digest.</summary>
    public IncrementalHash CreateHash() => Algorithm switch
    {
        "sha256" => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        "sha512" => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new InvalidOperationException("default digest"),
    };

    public Digest WithHash(ReadOnlySpan<byte> hash) => new(Algorithm, Convert.ToHexStringLower(hash));

    public bool IsDefault => Algorithm is null;
}

internal sealed class DigestJsonConverter : JsonConverter<Digest>
{
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return Digest.TryParse(text, out var digest, out var error) ? digest : throw new JsonException($"invalid digest \"{text}\": {error}");
    }

    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
