using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Oci.Tests;

/// <summary>Given a registry serving a certificate from a private CA, when the CA directory is trusted, then pushes work; otherwise they fail.</summary>
public class TlsRegistryTests : IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>A CA (written to certs/ca.crt) and a server certificate for 127.0.0.1 signed by it.</summary>
    private (string CaDirectory, string Certificate, string Key) CreateCertificates()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=EdgeForge Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = serverRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), [1, 2, 3, 4]);

        var caDirectory = _directory.Combine("certs");
        Directory.CreateDirectory(caDirectory);
        // *.crt: what both our loader and containers/image (skopeo --cert-dir) read as CA certificates.
        File.WriteAllText(Path.Combine(caDirectory, "ca.crt"), ca.ExportCertificatePem());
        var certificate = _directory.Combine("server.crt");
        var key = _directory.Combine("server.key");
        File.WriteAllText(certificate, server.ExportCertificatePem());
        File.WriteAllText(key, serverKey.ExportPkcs8PrivateKeyPem());
        return (caDirectory, certificate, key);
    }

    [Fact]
    public async Task A_registry_with_a_private_ca_is_trusted_through_the_ca_directory_only()
    {
        var (caDirectory, certificate, key) = CreateCertificates();
        await using var registry = await RegistryProcess.StartAsync(new RegistrySettings { Tls = (certificate, key) });
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var image = await RootFsImporter.ImportAsync(rootfs, new BlobCache(_directory.Combine("cache")));
        var reference = ImageReference.Parse($"{registry.Address}/tls/app:v1");

        using (var trusting = new RegistryClient(new RegistryClientOptions { CaCertificatePaths = [caDirectory] }))
        {
            await ImageCopier.WriteAsync(image, new RegistryImageDestination(trusting, reference));
            await ImageValidator.ValidateAsync(await SourceImage.LoadAsync(new RegistryImageSource(trusting, reference)));
        }

        await ExternalTool.RunAsync("skopeo", "inspect", "--cert-dir", caDirectory, $"docker://{reference}");

        // Without the CA the certificate is refused, and the client does not fall back to plain HTTP on a TLS port.
        using var untrusting = new RegistryClient(new RegistryClientOptions { Retry = new RetrySettings { MaxRetries = 1 } });
        var error = await Should.ThrowAsync<HttpRequestException>(() => untrusting.GetManifestAsync(reference));
        error.HttpRequestError.ShouldBe(HttpRequestError.SecureConnectionError);

        // Marked insecure, the unverified certificate is accepted (Docker's insecure-registries).
        using var insecure = new RegistryClient(new RegistryClientOptions { InsecureRegistries = [registry.Address] });
        (await insecure.GetManifestAsync(reference)).Digest.ShouldBe(image.Digest);
    }
}
