using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeForge.Configuration.Tests;

internal static class TestCertificates
{
    public static string SelfSignedPem(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        return certificate.ExportCertificatePem() + "\n";
    }
}
