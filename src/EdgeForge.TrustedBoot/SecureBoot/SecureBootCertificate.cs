using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>The self-signed certificates of a key set, and the checks a certificate and key given by the user must pass.</summary>
public static class SecureBootCertificate
{
    /// <summary>
    /// A self-signed X.509 v3 certificate for <paramref name="commonName"/>, as AuroraBoot's genkey makes it with
    /// <c>openssl req -x509 -subj /CN=NAME/ -days N</c> (subject and issuer CN only, UTF8String, SHA-256 with RSA,
    /// basicConstraints critical CA:TRUE, subjectKeyIdentifier, authorityKeyIdentifier keyid) plus a critical keyUsage of
    /// digitalSignature (it signs .auth updates and, for db, Authenticode images) and keyCertSign/cRLSign (it is a CA).
    /// No extendedKeyUsage: firmware does not require one and it would only narrow what the key may sign.
    /// The serial is 16 random bytes, positive, as RFC 5280 §4.1.2.2 allows up to 20.
    /// </summary>
    public static X509Certificate2 CreateSelfSigned(string commonName, RSA key, DateTimeOffset notBefore, int validityDays)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(commonName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var subjectKeyIdentifier = new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(subjectKeyIdentifier);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKeyIdentifier));

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40); // positive, and no leading zero byte to drop
        var start = TruncateToSeconds(notBefore);
        using var certificate = request.Create(subject.Build(), X509SignatureGenerator.CreateForRSA(key, RSASignaturePadding.Pkcs1), start, start.AddDays(validityDays), serial);
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>Whether <paramref name="key"/> is the private half of <paramref name="certificate"/>'s RSA public key.</summary>
    public static bool Matches(X509Certificate2 certificate, RSA key)
    {
        using var publicKey = certificate.GetRSAPublicKey();
        if (publicKey is null)
        {
            return false;
        }

        var expected = publicKey.ExportParameters(includePrivateParameters: false);
        var actual = key.ExportParameters(includePrivateParameters: false);
        return expected.Modulus.AsSpan().SequenceEqual(actual.Modulus) && expected.Exponent.AsSpan().SequenceEqual(actual.Exponent);
    }

    /// <summary>Loads an unencrypted PEM RSA private key (PKCS#8 or PKCS#1), or explains why it cannot.</summary>
    public static RSA LoadPrivateKey(string path)
    {
        if (!File.Exists(path))
        {
            throw new SecureBootKeyException($"{path}: no such file (a PEM RSA private key is expected here)");
        }

        var pem = File.ReadAllText(path);
        if (pem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new SecureBootKeyException($"{path}: the private key is encrypted; decrypt it first (openssl pkey -in KEY -out plain.key)");
        }

        if (!pem.Contains("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal) && !pem.Contains("-----BEGIN RSA PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new SecureBootKeyException($"{path}: not a PEM RSA private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)");
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new SecureBootKeyException($"{path}: not a usable RSA private key ({e.Message.TrimEnd('.')}); Secure Boot keys are RSA (UEFI §32.4.1 requires RSA-2048 support)");
        }
    }

    /// <summary>Loads a PEM (or DER) X.509 certificate with an RSA key, or explains why it cannot.</summary>
    public static X509Certificate2 LoadCertificate(string path)
    {
        if (!File.Exists(path))
        {
            throw new SecureBootKeyException($"{path}: no such file (a PEM X.509 certificate is expected here)");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (CryptographicException e)
        {
            throw new SecureBootKeyException($"{path}: not an X.509 certificate ({e.Message.TrimEnd('.')}); expected -----BEGIN CERTIFICATE-----");
        }

        if (certificate.GetRSAPublicKey() is not { } rsa)
        {
            certificate.Dispose();
            throw new SecureBootKeyException($"{path}: the certificate's key is not RSA; Secure Boot key sets use RSA keys");
        }

        rsa.Dispose();
        return certificate;
    }

    /// <summary>The problem with a certificate's validity at <paramref name="now"/>, or null.</summary>
    public static string? ValidityProblem(X509Certificate2 certificate, string path, DateTimeOffset now) =>
        certificate.NotAfter.ToUniversalTime() <= now.UtcDateTime
            ? $"{path}: the certificate expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC; make a new key set (edgeforge keys secureboot) or renew the certificate"
            : null;

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) => new(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
}
