using System.Net;
using System.Text.Json;

namespace EdgeForge.Oci.Registry;

/// <summary>
/// A registry answered with an error. The message carries the method, the registry and path (never the query
/// string, which for uploads holds opaque state, nor any header) and the codes of the distribution-spec error body
/// ("Error Codes": NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN, DENIED, …).
/// </summary>
public class RegistryException(string message, HttpStatusCode statusCode, IReadOnlyList<string> errorCodes) : IOException(message)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    public IReadOnlyList<string> ErrorCodes { get; } = errorCodes;

    internal static async Task<RegistryException> FromResponseAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var codes = new List<string>();
        var details = new List<string>();
        try
        {
            var body = await RegistryClient.ReadBoundedAsync(response.Content, 65535, what + ": the error body", cancellationToken).ConfigureAwait(false);
            if (body.Length > 0)
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
                {
                    foreach (var error in errors.EnumerateArray())
                    {
                        var code = error.TryGetProperty("code", out var c) ? c.GetString() ?? "" : "";
                        var text = error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
                        codes.Add(code);
                        details.Add(text.Length > 0 ? $"{code}: {text}" : code);
                    }
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            // Not a distribution-spec error body (a proxy's HTML page, an endless or stalled body); the status code says enough.
        }

        var status = $"HTTP {(int)response.StatusCode}";
        var message = details.Count > 0 ? $"{what}: {status} {string.Join("; ", details)}" : $"{what}: {status} {response.ReasonPhrase}";
        return response.StatusCode == HttpStatusCode.Unauthorized
            ? new RegistryUnauthorizedException(message + " (check the credentials: edgeforge login REGISTRY or --creds)", codes)
            : new RegistryException(message, response.StatusCode, codes);
    }
}

public sealed class RegistryUnauthorizedException(string message, IReadOnlyList<string> codes)
    : RegistryException(message, HttpStatusCode.Unauthorized, codes);
