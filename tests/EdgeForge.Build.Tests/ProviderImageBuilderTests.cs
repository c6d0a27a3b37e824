using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using EdgeForge.Build.ProviderImages;
using EdgeForge.Configuration.Planning;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Tests.Support;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Build.Tests;

/// <summary>
/// Given a CanvOS directory whose base image and Kubernetes images live in a real registry, when the matrix is
/// built, then skopeo sees the planned tags and labels, umoci unpacks each image with the CA, the signing key, the
/// RUN result and that version's Kubernetes, and a second build runs nothing and uploads nothing.
/// </summary>
public sealed class ProviderImageBuilderTests
{
    private static readonly string[] Versions = ["1.30.1", "1.30.2", "1.30.3"];

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task Builds_the_matrix_and_a_rebuild_runs_and_uploads_nothing()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var work = new TestDirectory();
        var blobs = new BlobCache(work.Combine("cache"));
        using var client = new RegistryClient();
        await PushBaseImageAsync(client, blobs, registry.Address);
        foreach (var version in Versions)
        {
            await PushKubernetesImageAsync(client, blobs, $"{registry.Address}/k8s/k3s:{version}", version);
        }

        var project = work.Combine("project");
        WriteProject(project, registry.Address);
        var plan = ProjectLoader.Load(project, new ProjectOptions { Environment = _ => null }).Plan
            ?? throw new InvalidOperationException("the test project is invalid");
        var log = new List<string>();
        ProviderImageBuildOptions Options() => new() { Registry = client, Blobs = blobs, Push = true, Log = l => { lock (log) { log.Add(l); } } };

        var first = await new ProviderImageBuilder(plan, Options()).BuildAsync();
        var second = await new ProviderImageBuilder(plan, Options()).BuildAsync();

        first.Images.Where(i => i.Error is not null).ShouldBeEmpty(string.Join("\n", log));
        first.RunsExecuted.ShouldBe(1);
        second.RunsExecuted.ShouldBe(0);
        second.BlobsUploaded.ShouldBe(0);
        second.Images.Select(i => i.Digest).ShouldBe(first.Images.Select(i => i.Digest));

        foreach (var (image, version) in first.Images.Zip(Versions))
        {
            image.Reference.ShouldBe($"{registry.Address}/edge/ubuntu:k3s-{version}-v4.4.12-lab");
            var inspected = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "docker://" + image.Reference));
            var labels = inspected.RootElement.GetProperty("Labels");
            labels.GetProperty("io.edgeforge.k8s.version").GetString().ShouldBe(version);
            labels.GetProperty("io.edgeforge.k8s.distribution").GetString().ShouldBe("k3s");
            labels.GetProperty("io.edgeforge.agent.version").GetString().ShouldBe("v4.4.12");
            labels.GetProperty("io.edgeforge.custom-tag").GetString().ShouldBe("lab");
            labels.GetProperty("io.edgeforge.os.name").GetString().ShouldBe("ubuntu");
            labels.GetProperty("org.example.team").GetString().ShouldBe("edge");
            inspected.RootElement.GetProperty("Digest").GetString().ShouldBe(image.Digest);

            var bundle = work.Combine("unpacked-" + version);
            await ExternalTool.RunAsync("umoci", "unpack", "--image", $"{Path.Combine(project, "build", "images")}:{image.Tag}", bundle);
            var rootfs = Path.Combine(bundle, "rootfs");
            File.ReadAllText(Path.Combine(rootfs, "usr/local/share/ca-certificates/proxy-ca.crt")).ShouldContain("BEGIN CERTIFICATE");
            File.ReadAllText(Path.Combine(rootfs, "etc/ssl/certs/ca-certificates.crt")).ShouldContain(File.ReadAllText(Path.Combine(project, "certs/proxy-ca.crt")).Split('\n')[1]);
            File.ReadAllText(Path.Combine(rootfs, "oem/.edge_custom_config.yaml")).ShouldBe(File.ReadAllText(Path.Combine(project, ".edge-custom-config.yaml")));
            File.ReadAllText(Path.Combine(rootfs, "etc/built-by-run")).ShouldBe("EDGE_ENV=from-env\n");
            File.ReadAllText(Path.Combine(rootfs, "etc/motd")).ShouldBe("welcome to the edge\n");
            File.Exists(Path.Combine(rootfs, "etc/unwanted")).ShouldBeFalse();
            File.ReadAllText(Path.Combine(rootfs, "opt/k8s/version")).ShouldBe(version + "\n");
            File.ReadAllText(Path.Combine(rootfs, "etc/edgeforge-release")).ShouldContain("EDGEFORGE_AGENT_VERSION=\"v4.4.12\"");
            (await ExternalTool.RunUncheckedAsync("grep", null, "-rl", "proxy.internal", rootfs)).ExitCode.ShouldBe(1, "a build proxy reached a layer");
            var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")));
            config.RootElement.GetProperty("process").GetProperty("env").EnumerateArray().Select(e => e.GetString()).ShouldContain("EDGE_ENV=from-env");
        }

        var history = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--config", "--tls-verify=false", "docker://" + first.Images[0].Reference));
        var historyText = history.RootElement.GetProperty("history").ToString();
        historyText.ShouldNotContain("proxy.internal:3128");
        history.RootElement.GetProperty("config").ToString().ShouldNotContain("proxy.internal");
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
            PE_VERSION=v4.4.12
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
