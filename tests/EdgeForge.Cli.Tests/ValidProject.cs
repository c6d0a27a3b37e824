using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeForge.Configuration.Dockerfiles;

namespace EdgeForge.Cli.Tests;

/// <summary>A complete, valid project directory; each bad-input case breaks exactly one thing in it.</summary>
internal sealed class ValidProject : IDisposable
{
    public const string Arg = """
        CUSTOM_TAG=lab
        IMAGE_REGISTRY=registry.example.com/edge
        OS_DISTRIBUTION=ubuntu
        IMAGE_REPO=$OS_DISTRIBUTION
        OS_VERSION=22.04
        K8S_DISTRIBUTION=k3s
        K8S_VERSION=1.30.14
        ISO_NAME=edge-installer
        ARCH=amd64

        """;

    /// <summary>The line an appended .arg line lands on.</summary>
    public const int NextArgLine = 10;

    public const string UserData = """
        #cloud-config
        stylus:
          site:
            paletteEndpoint: api.spectrocloud.com
            edgeHostToken: aUAxxxxxxxxx0ChYCrO
            projectName: Default
        install:
          poweroff: true
        users:
          - name: kairos
            passwd: kairos

        """;

    public const string Versions = """{"k3s": ["1.30.14", "1.29.14"], "rke2": ["1.30.14"], "kubeadm-fips": ["1.30.14"]}""";

    public static readonly string Dockerfile = $"""
        FROM scratch
        # {DockerfileParser.Marker}
        RUN echo customised > /etc/edge-motd

        """;

    /// <summary>The line an appended Dockerfile line lands on.</summary>
    public const int NextDockerfileLine = 4;

    public ValidProject()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("ef-cli-").FullName;
        Write(".arg", Arg);
        Write("user-data", UserData);
        Write("k8s_version.json", Versions);
        Write("Dockerfile", Dockerfile);
        Write("certs/proxy-ca.crt", CachedCertificate.Value);
        Write(".edge-custom-config.yaml", EdgeCustomConfig(CachedPublicKey.Value));
        Write("files/motd", "welcome\n");
    }

    /// <summary>Key generation is slow; every project of a run shares one certificate and one key.</summary>
    private static readonly Lazy<string> CachedCertificate = new(() => Certificate("CN=Proxy CA"));
    private static readonly Lazy<string> CachedPublicKey = new(() => PublicKeyPem(2048));

    public string Directory { get; }

    public void Write(string relative, string content)
    {
        var path = Path.Combine(Directory, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public void WriteBytes(string relative, byte[] content)
    {
        var path = Path.Combine(Directory, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    public void AppendArg(string line) => File.AppendAllText(Path.Combine(Directory, ".arg"), line + "\n");

    public void AppendDockerfile(string line) => File.AppendAllText(Path.Combine(Directory, "Dockerfile"), line + "\n");

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    public static string Certificate(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return certificate.ExportCertificatePem() + "\n";
    }

    public static string PublicKeyPem(int bits)
    {
        using var key = RSA.Create(bits);
        return key.ExportSubjectPublicKeyInfoPem();
    }

    public static string EdgeCustomConfig(string pem) => $"""
        content:
          signing:
            publicKey:
              base64EncodedValue: "{Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(pem))}"
              description: "test key"

        """;
}
