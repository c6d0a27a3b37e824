using System.Security.Cryptography.X509Certificates;
using EdgeForge.Testing;

namespace EdgeForge.TrustedBoot.Tests;

/// <summary>A db key and self-signed certificate made by openssl (not by us), as a Secure Boot key set would hold.</summary>
internal sealed class SigningKey
{
    private SigningKey(string keyPath, string certificatePath)
    {
        KeyPath = keyPath;
        CertificatePath = certificatePath;
    }

    public string KeyPath { get; }

    public string CertificatePath { get; }

    public static SigningKey Create(TestDirectory directory, string name)
    {
        var key = directory.Combine($"{name}.key");
        var certificate = directory.Combine($"{name}.crt");
        ExternalTool.Output("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30",
            "-subj", $"/CN=EdgeForge test {name}/", "-keyout", key, "-out", certificate);
        return new SigningKey(key, certificate);
    }

    public X509Certificate2 LoadWithPrivateKey() => X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
}
