using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Testing;

/// <summary>
/// A real registry holding a busybox base image and one fixture Kubernetes image per version, and a CanvOS project
/// directory using them (certs/, a signing key, a Dockerfile with ENV, LABEL, RUN with a deletion, COPY).
/// </summary>
public sealed class ProviderImageFixture : IAsyncDisposable
{
    public static readonly string[] Versions = ["1.30.1", "1.30.2", "1.30.3"];

    private ProviderImageFixture(RegistryProcess registry, TestDirectory work, BlobCache blobs, RegistryClient client, string project)
    {
        (Registry, Work, Blobs, Client, Project) = (registry, work, blobs, client, project);
    }

    public RegistryProcess Registry { get; }

    public TestDirectory Work { get; }

    public BlobCache Blobs { get; }

    public RegistryClient Client { get; }

    public string Project { get; }

    /// <summary>The registries.conf that serves the fixture upstreams (static: one fixture per test class at a time).</summary>
    public static string RegistriesConf { get; private set; } = "";

    /// <summary>The project lists every version of <see cref="Versions"/>; the registry holds Kubernetes images only for <paramref name="published"/>.</summary>
    public static async Task<ProviderImageFixture> StartAsync(IReadOnlyList<string> published)
    {
        var registry = await RegistryProcess.StartAsync();
        var work = new TestDirectory();
        var blobs = new BlobCache(work.Combine("cache"));
        // The stylus framework, provider and third-party images under their real names, through a registries.conf mirror.
        RegistriesConf = (await Upstreams.CanvosUpstreams.SharedAsync()).RegistriesConf;

        var client = new RegistryClient(new RegistryClientOptions { Mirrors = RegistriesConfiguration.Load(RegistriesConf) });
        await PushBaseImageAsync(client, blobs, registry.Address);
        foreach (var version in published)
        {
            await PushKubernetesImageAsync(client, blobs, $"{registry.Address}/k8s/k3s:{version}", version);
        }

        var project = work.Combine("project");
        WriteProject(project, registry.Address);
        return new ProviderImageFixture(registry, work, blobs, client, project);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Work.Dispose();
        await Registry.DisposeAsync();
    }

    private static void WriteProject(string project, string registry)
    {
        Directory.CreateDirectory(Path.Combine(project, "certs"));
        Directory.CreateDirectory(Path.Combine(project, "files"));
        File.WriteAllText(Path.Combine(project, ".arg"), $"""
            CUSTOM_TAG=lab
            IMAGE_REGISTRY={registry}/edge
            OS_DISTRIBUTION=ubuntu
            BASE_IMAGE={registry}/base/busybox:1
            K8S_DISTRIBUTION=k3s
            K8S_PROVIDER_SOURCE={registry}/k8s/{"{distribution}"}:{"{version}"}
            HTTP_PROXY=http://proxy.internal:3128
            NO_PROXY=127.0.0.1,localhost

            """);
        File.WriteAllText(Path.Combine(project, "k8s_version.json"), JsonSerializer.Serialize(new Dictionary<string, string[]> { ["k3s"] = Versions }));
        File.WriteAllText(Path.Combine(project, "Dockerfile"), """
            # Add any other image customizations here
            ENV EDGE_ENV=from-env
            LABEL org.example.team=edge
            RUN echo "EDGE_ENV=$EDGE_ENV" > /etc/built-by-run && rm /etc/unwanted && test -n "$HTTP_PROXY" && test -n "$http_proxy" && test -n "$NO_PROXY"
            COPY files/motd /etc/motd

            """);
        File.WriteAllText(Path.Combine(project, "files/motd"), "welcome to the edge\n");
        File.WriteAllText(Path.Combine(project, ".dockerignore"), "build\n");
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Proxy CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllText(Path.Combine(project, "certs/proxy-ca.crt"), certificate.ExportCertificatePem() + "\n");
        var publicKey = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(key.ExportSubjectPublicKeyInfoPem()));
        File.WriteAllText(Path.Combine(project, ".edge-custom-config.yaml"), $"content:\n  signing:\n    publicKey:\n      base64EncodedValue: \"{publicKey}\"\n");
    }

    private static async Task PushBaseImageAsync(RegistryClient client, BlobCache blobs, string registry)
    {
        using var rootfs = new BusyboxRootfs();
        var image = await RootFsImporter.ImportAsync(rootfs.Root, blobs);
        await using var destination = ImageLocation.Parse($"docker://{registry}/base/busybox:1").OpenDestination(client);
        await ImageCopier.WriteAsync(image, destination);
    }

    private static async Task PushKubernetesImageAsync(RegistryClient client, BlobCache blobs, string reference, string version)
    {
        using var directory = new TestDirectory();
        Directory.CreateDirectory(directory.Combine("opt/k8s"));
        Directory.CreateDirectory(directory.Combine("usr/bin"));
        File.WriteAllText(directory.Combine("opt/k8s/version"), version + "\n");
        File.WriteAllText(directory.Combine("usr/bin/k3s"), $"#!/bin/sh\necho k3s v{version}+k3s1\n");
        var image = await RootFsImporter.ImportAsync(directory.Path, blobs);
        await using var destination = ImageLocation.Parse("docker://" + reference).OpenDestination(client);
        await ImageCopier.WriteAsync(image, destination);
    }
}
