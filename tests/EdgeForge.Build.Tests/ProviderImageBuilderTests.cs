

using System.Text.Json;
using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Planning;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Build.Tests;

/// <summary>
/// Given a CanvOS directory whose base image and Kubernetes images live in a real registry, when the matrix is
/// built, then skopeo sees the planned tags and labels, umoci unpacks each image with the CA, the signing key, the
/// RUN result and that version's Kubernetes, and a second build runs nothing and uploads nothing.
/// </summary>
public sealed class ProviderImageBuilderTests
{
    private static readonly string[] Versions = ProviderImageFixture.Versions;

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task Builds_the_matrix_and_a_rebuild_runs_and_uploads_nothing()
    {
        await using var fixture = await ProviderImageFixture.StartAsync(Versions);
        var (registry, work, blobs, client, project) = (fixture.Registry, fixture.Work, fixture.Blobs, fixture.Client, fixture.Project);
        var plan = ProjectLoader.Load(project, new ProjectOptions { Environment = _ => null }).Plan
            ?? throw new InvalidOperationException("the test project is invalid");
        var log = new EventLog();
        EdgeBuildOptions Options() => new() { Registry = client, Blobs = blobs, Push = true, Observer = log };

        var first = (await EdgeBuild.RunAsync(plan, Options(), BuildTarget.ProviderImages)).ProviderImages!;
        var second = (await EdgeBuild.RunAsync(plan, Options(), BuildTarget.ProviderImages)).ProviderImages!;

        first.Images.Where(i => i.Error is not null).ShouldBeEmpty(log.ToString());
        first.RunsExecuted.ShouldBe(1);
        second.RunsExecuted.ShouldBe(0);
        second.BlobsUploaded.ShouldBe(0);
        second.Images.Select(i => i.Digest).ShouldBe(first.Images.Select(i => i.Digest));

        foreach (var (image, version) in first.Images.Zip(Versions))
        {
            image.Reference.ShouldBe($"{registry.Address}/edge/ubuntu:k3s-{version}-v4.10.0-rc.2-lab");
            var inspected = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "docker://" + image.Reference));
            var labels = inspected.RootElement.GetProperty("Labels");
            labels.GetProperty("io.edgeforge.k8s.version").GetString().ShouldBe(version);
            labels.GetProperty("io.edgeforge.k8s.distribution").GetString().ShouldBe("k3s");
            labels.GetProperty("io.edgeforge.agent.version").GetString().ShouldBe("v4.10.0-rc.2");
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
            File.ReadAllText(Path.Combine(rootfs, "etc/kairos/branding/stylus_config.yaml")).ShouldContain("fixture: true");
            (await ExternalTool.RunUncheckedAsync("grep", "-rl", "proxy.internal", rootfs)).ExitCode.ShouldBe(1, "a build proxy reached a layer");
            var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")));
            config.RootElement.GetProperty("process").GetProperty("env").EnumerateArray().Select(e => e.GetString()).ShouldContain("EDGE_ENV=from-env");
        }

        var history = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--config", "--tls-verify=false", "docker://" + first.Images[0].Reference));
        var historyText = history.RootElement.GetProperty("history").ToString();
        historyText.ShouldNotContain("proxy.internal:3128");
        history.RootElement.GetProperty("config").ToString().ShouldNotContain("proxy.internal");
    }

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task A_failing_cell_names_its_image_and_the_others_finish()
    {
        await using var fixture = await ProviderImageFixture.StartAsync(["1.30.1", "1.30.3"]);
        var plan = ProjectLoader.Load(fixture.Project, new ProjectOptions { Environment = _ => null }).Plan!;

        var failure = await Should.ThrowAsync<BuildFailedException>(() => EdgeBuild.RunAsync(plan, new EdgeBuildOptions { Registry = fixture.Client, Blobs = fixture.Blobs }, BuildTarget.ProviderImages));
        failure.Message.ShouldContain("1 of 3 provider images failed");
        var report = System.Text.Json.JsonSerializer.Deserialize<ProviderImageBuildReport>(File.ReadAllText(Path.Combine(fixture.Project, "build", "provider-images.json")), EdgeBuild.ReportJson)!;

        report.Succeeded.ShouldBeFalse();
        report.Images.Where(i => i.Error is null).Select(i => i.K8sVersion).ShouldBe(["1.30.1", "1.30.3"]);
        var failed = report.Images.Single(i => i.Error is not null);
        failed.Reference.ShouldEndWith("k3s-1.30.2-v4.10.0-rc.2-lab");
        failed.Error!.ShouldContain("k8s/k3s:1.30.2");
    }
}

/// <summary>The events of a build, kept for failure messages.</summary>
public sealed class EventLog : IBuildObserver
{
    private readonly List<string> _lines = [];

    public void OnEvent(BuildEvent buildEvent)
    {
        lock (_lines)
        {
            _lines.Add($"{buildEvent.Step} {buildEvent.Kind} {buildEvent.Message}");
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return string.Join("\n", _lines);
        }
    }
}
