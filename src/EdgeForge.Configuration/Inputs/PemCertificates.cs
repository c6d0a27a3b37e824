using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace EdgeForge.Configuration.Inputs;

/// <summary>Checks that text holds PEM-encoded X.509 certificates (RFC 7468 §5) that really parse.</summary>
public static partial class PemCertificates
{
    /// <summary>The certificates in <paramref name="text"/>, or the reason it holds none that parse.</summary>
    public static (IReadOnlyList<X509Certificate2> Certificates, string? Problem) Parse(string text)
    {
        var blocks = CertificateBlock().Matches(text);
        if (blocks.Count == 0)
        {
            return ([], text.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal)
                ? "has a malformed PEM certificate header or footer (exactly five dashes: -----BEGIN CERTIFICATE-----)"
                : "is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)");
        }

        var certificates = new List<X509Certificate2>();
        foreach (Match block in blocks)
        {
            try
            {
                certificates.Add(X509Certificate2.CreateFromPem(block.Value));
            }
            catch (CryptographicException)
            {
                return ([], $"certificate {certificates.Count + 1} does not decode as X.509 (the base64 body is damaged or not a certificate)");
            }
        }

        return (certificates, null);
    }

    [GeneratedRegex(@"(?<![-])-----BEGIN CERTIFICATE-----(?![-])[\s\S]*?(?<![-])-----END CERTIFICATE-----(?![-])")]
    private static partial Regex CertificateBlock();
}
