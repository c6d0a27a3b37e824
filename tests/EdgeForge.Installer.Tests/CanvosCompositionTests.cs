using System.Text.Json;
using EdgeForge.Configuration.Planning;
using EdgeForge.Testing;
using EdgeForge.Testing.Upstreams;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// The drop-in story: a CanvOS-shaped checkout (Earthfile pins, .arg, Dockerfile with the marker, overlay/files*),
/// upstreams served under their real names through a registries.conf mirror (a Kairos-like base, the stylus framework,
/// provider-k3s, the third-party etcdctl image, a luet repository with two k3s versions), then
/// <c>edgeforge build all --push --json</c> — read back with skopeo, umoci, bsdtar and unsquashfs, and booted in QEMU.
/// </summary>
public sealed class CanvosBuildFixture : IAsyncLifetime
{
    private RegistryProcess? _registry;

    public TestDirectory Work { get; } = new();

    public string Project => Work.Combine("project");

    public string Cache => Work.Combine("cache");

    public string IsoPath => Path.Combine(Project, "build", "edge-canvos.iso");

    public CanvosUpstreams Upstreams { get; private set; } = null!;

    public string Registry => _registry!.Address;

    public CliResult Build { get; private set; } = new(-1, "", "");

    public static string Tag(string version) => $"k3s-{version}-{CanvosUpstreams.AgentVersion}-demo";

    public string Reference(string version) => $"{Registry}/edge/ubuntu:{Tag(version)}";

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        var rootfs = Work.Combine("rootfs");
        await TestOs.WriteRootfsAsync(rootfs);
        Upstreams = await CanvosUpstreams.PushAsync(Registry, rootfs, Work.Combine("upstreams"));
        CanvosProject.Write(Project, $"{Registry}/edge", "edge-canvos", "BOOT_ASSETS=boot-assets");
        await GrubBootAssets.CopyToAsync(Path.Combine(Project, "boot-assets"));
        Build = await RunAsync("build", "all", Project, "--push", "--json");
    }

    public Task<CliResult> RunAsync(params string[] arguments) =>
        CliResult.RunAsync([.. arguments, "--cache-dir", Cache, "--registries-conf", Upstreams.RegistriesConf]);

    public string Scratch(string name) => Work.Combine(name);

    public async Task DisposeAsync()
    {
        Work.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }
}

[Trait("Tier", "Heavy")]
public sealed class CanvosCompositionTests(CanvosBuildFixture fixture) : IClassFixture<CanvosBuildFixture>
{
    [Fact]
    public async Task Build_all_pushes_one_provider_image_per_version_with_the_checkouts_pins()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        foreach (var version in CanvosUpstreams.K3sVersions)
        {
            var inspect = await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "docker://" + fixture.Reference(version));
            using var document = JsonDocument.Parse(inspect);
            var labels = document.RootElement.GetProperty("Labels");
            labels.GetProperty("io.edgeforge.k8s.version").GetString().ShouldBe(version);
            labels.GetProperty("io.edgeforge.agent.version").GetString().ShouldBe(CanvosUpstreams.AgentVersion);
            labels.GetProperty("io.edgeforge.k8s.bundled").GetString().ShouldBe("true");
            labels.GetProperty("org.opencontainers.image.base.name").GetString().ShouldBe(CanvosUpstreams.BaseImage());
        }
    }

    [Fact]
    public async Task Every_composition_layer_is_in_the_provider_image_in_canvos_order()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var version = CanvosUpstreams.K3sVersions[1];
        var config = await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "--config", "docker://" + fixture.Reference(version));
        using var document = JsonDocument.Parse(config);
        var history = document.RootElement.GetProperty("history").EnumerateArray()
            .Select(h => h.TryGetProperty("created_by", out var c) ? c.GetString() ?? "" : "").ToList();
        string[] expected =
        [
            "RUN echo customised",
            "COPY --if-exists overlay/files/etc/ /etc/",
            "COPY +kairos-provider-image/ /",
            "COPY stylus framework files",
            "/oem/.edge_custom_config.yaml",
            $"luet install -y k8s/k3s@{version}-k3s1",
            "COPY (+third-party/etcdctl) /usr/bin/",
            "RUN rm -f /etc/ssh/ssh_host_*",
        ];
        var positions = expected.Select(e => history.FindIndex(h => h.Contains(e, StringComparison.Ordinal))).ToList();
        positions.ShouldAllBe(p => p >= 0, string.Join("\n", history));
        positions.ShouldBeInOrder(SortDirection.Ascending, string.Join("\n", history));

        // umoci (not our reader) unpacks what the registry serves.
        var layout = fixture.Scratch("umoci-layout");
        await ExternalTool.RunAsync("skopeo", "copy", "--src-tls-verify=false", "docker://" + fixture.Reference(version), $"oci:{layout}:image");
        var bundle = fixture.Scratch("umoci-bundle");
        await ExternalTool.RunAsync("umoci", "unpack", "--rootless", "--image", $"{layout}:image", bundle);
        var root = Path.Combine(bundle, "rootfs");
        File.ReadAllText(Path.Combine(root, "etc/edgeforge-customised")).ShouldBe("customised\n");
        File.GetUnixFileMode(Path.Combine(root, "etc/logrotate.d/stylus.conf")).ShouldBe((UnixFileMode)0x1A4);
        File.Exists(Path.Combine(root, "system/providers/agent-provider-k3s")).ShouldBeTrue();
        Directory.Exists(Path.Combine(root, "usr/local/system/providers")).ShouldBeFalse();
        File.Exists(Path.Combine(root, "etc/spectro-sysext/k8s-and-agent-provider-bundled")).ShouldBeTrue();
        File.ReadAllText(Path.Combine(root, "etc/kairos/branding/stylus_config.yaml")).ShouldContain("fixture: true");
        File.Exists(Path.Combine(root, "etc/kairos/80_stylus.yaml")).ShouldBeTrue();
        File.ReadAllText(Path.Combine(root, "etc/elemental/config.yaml")).ShouldContain("install:");
        // CanvOS copies overlay/files/etc before the stylus branding: the stylus file wins in a provider image.
        File.ReadAllText(Path.Combine(root, "etc/kairos/branding/interactive_install_text")).ShouldContain("(fixture)");
        File.Exists(Path.Combine(root, "oem/.edge_custom_config.yaml")).ShouldBeTrue();
        File.ReadAllText(Path.Combine(root, "opt/k8s/version")).ShouldBe(version + "\n");
        File.Exists(Path.Combine(root, "usr/bin/k3s")).ShouldBeTrue();
        File.Exists(Path.Combine(root, "var/cache/luet/leftover")).ShouldBeFalse();
        File.ReadAllText(Path.Combine(root, "usr/bin/etcdctl")).ShouldContain("etcdctl fixture");
        Directory.GetFiles(Path.Combine(root, "etc/ssh")).Select(Path.GetFileName).ShouldBe(["sshd_config"]);
        new FileInfo(Path.Combine(root, "etc/machine-id")).Length.ShouldBe(0);
        File.GetUnixFileMode(Path.Combine(root, "etc/machine-id")).ShouldBe((UnixFileMode)0x124);
        File.ReadAllText(Path.Combine(root, "usr/bin/kairos-agent")).ShouldContain(CanvosUpstreams.AgentMarker);
    }

    [Fact]
    public async Task The_installer_squashfs_holds_the_whole_stylus_framework_and_the_overlay()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var extract = fixture.Scratch("iso-extract");
        Directory.CreateDirectory(extract);
        await ExternalTool.RunAsync("bsdtar", "-xf", fixture.IsoPath, "-C", extract, "rootfs.squashfs", "boot/grub2/grub.cfg", "opt/spectrocloud/content/Readme.txt");
        var listing = await ExternalTool.RunAsync("unsquashfs", "-l", Path.Combine(extract, "rootfs.squashfs"));
        foreach (var path in new[]
                 {
                     "opt/spectrocloud/bin/palette-agent", "system/oem/50_stylus_fixture.yaml", "oem/stylus_config.yaml", "etc/elemental/config.yaml",
                     "opt/spectrocloud/bin/check-disk-size.sh", "usr/bin/kairos-agent", "etc/edgeforge-customised",
                 })
        {
            listing.ShouldContain("squashfs-root/" + path);
        }

        listing.ShouldNotContain("ssh_host_ed25519_key");
        listing.ShouldNotContain("squashfs-root/oem/.edge_custom_config.yaml");
        // The installer copies overlay/files after the stylus framework: the project's file wins.
        var branding = await ExternalTool.RunAsync("unsquashfs", "-cat", Path.Combine(extract, "rootfs.squashfs"), "etc/kairos/branding/interactive_install_text");
        branding.ShouldContain(CanvosProject.OverlayMarker);

        File.ReadAllText(Path.Combine(extract, "opt/spectrocloud/content/Readme.txt")).ShouldContain(CanvosProject.IsoOverlayMarker);
        var menu = File.ReadAllText(Path.Combine(extract, "boot/grub2/grub.cfg"));
        menu.ShouldContain("set default=0");
        menu.ShouldNotContain("{{DEFAULT_ENTRY}}");
    }

    [Theory]
    [InlineData("bios")]
    [InlineData("uefi")]
    public void The_iso_still_boots(string firmware)
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        using var machine = QemuMachine.Start(new QemuOptions
        {
            Firmware = firmware == "uefi" ? Firmware.Uefi : Firmware.Bios, MemoryMegabytes = 768, Cdrom = fixture.IsoPath,
        });
        var serial = machine.WaitFor(["EF-BOOT-OK", "EF-BOOT-FAIL"], TimeSpan.FromSeconds(240));
        serial.ShouldContain("EF-BOOT-OK", customMessage: QemuMachine.Tail(serial));
        serial.ShouldContain($"name: {CanvosProject.SiteName}", customMessage: QemuMachine.Tail(serial));
    }

    [Fact]
    public void The_json_events_cover_every_step()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var events = fixture.Build.Output.Split('\n').Where(l => l.StartsWith("{\"time\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var finished = events.Where(e => e.GetProperty("event").GetString() == "finished").Select(e => e.GetProperty("step").GetString()).ToHashSet();
        foreach (var step in EdgeForge.Build.Pipeline.EdgeBuild.Steps(EdgeForge.Build.Pipeline.BuildTarget.All))
        {
            finished.ShouldContain(step.Name);
        }

        foreach (var version in CanvosUpstreams.K3sVersions)
        {
            finished.ShouldContain("provider-image " + CanvosBuildFixture.Tag(version));
        }

        // The ISO's stages are steps of their own, and the long ones say how many bytes of how many.
        foreach (var stage in new[] { "squashfs", "esp", "iso", "checksum" })
        {
            finished.ShouldContain("installer-iso/" + stage);
        }

        var measured = events.Where(e => e.GetProperty("event").GetString() == "progress" && e.GetProperty("bytes").GetInt64() > 0)
            .Select(e => e.GetProperty("step").GetString()).ToHashSet();
        measured.ShouldContain("pin-upstreams", string.Join("\n", events.Where(e => e.GetProperty("step").GetString() == "pin-upstreams"))); // pulls
        measured.ShouldContain("installer-iso/squashfs");
        measured.ShouldContain("installer-iso/iso");
        measured.ShouldContain("provider-image " + CanvosBuildFixture.Tag(CanvosUpstreams.K3sVersions[0])); // layout write and push
    }

    [Fact]
    public async Task A_locked_rebuild_gives_the_same_digests_and_the_same_iso()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var lockPath = Path.Combine(fixture.Project, "build", "plan.lock.json");
        var first = File.ReadAllText(lockPath);
        var sha = File.ReadAllText(fixture.IsoPath + ".sha256");
        using (var document = JsonDocument.Parse(first))
        {
            var roles = document.RootElement.GetProperty("upstreams").EnumerateArray().Select(u => u.GetProperty("role").GetString()).ToList();
            roles.ShouldContain("base");
            roles.ShouldContain(UpstreamSourceFormulas.StylusFrameworkRole);
            roles.ShouldContain(UpstreamSourceFormulas.KairosProviderRole);
            roles.ShouldContain("third-party");
            document.RootElement.GetProperty("luet").GetProperty("indexDigest").GetString()!.ShouldStartWith("sha256:");
        }

        // A fresh cache: everything is rebuilt from the pinned digests.
        var again = await CliResult.RunAsync("build", "all", fixture.Project, "--locked", "--cache-dir", fixture.Scratch("cache-locked"),
            "--registries-conf", fixture.Upstreams.RegistriesConf);
        again.ExitCode.ShouldBe(0, again.ToString());
        File.ReadAllText(fixture.IsoPath + ".sha256").ShouldBe(sha);
        using var before = JsonDocument.Parse(first);
        using var after = JsonDocument.Parse(File.ReadAllText(lockPath));
        after.RootElement.GetProperty("outputs").ToString().ShouldBe(before.RootElement.GetProperty("outputs").ToString());
        after.RootElement.GetProperty("upstreams").ToString().ShouldBe(before.RootElement.GetProperty("upstreams").ToString());
    }
}

/// <summary>
/// One pinned plan: the base tag is re-pointed to another image after the provider images are built and before the
/// installer image is — the ISO still gets the digest the provider images were built from.
/// </summary>
[Trait("Tier", "Heavy")]
public sealed class PinnedBaseTests(CanvosBuildFixture fixture) : IClassFixture<CanvosBuildFixture>
{
    [Fact]
    public async Task A_base_tag_moved_during_the_build_does_not_reach_the_iso()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        using var client = new EdgeForge.Oci.Registry.RegistryClient(new EdgeForge.Oci.Registry.RegistryClientOptions
        {
            Mirrors = EdgeForge.Oci.Registry.RegistriesConfiguration.Load(fixture.Upstreams.RegistriesConf),
        });
        var blobs = new EdgeForge.Oci.Blobs.BlobCache(fixture.Scratch("moving-blobs"));
        var moving = $"{fixture.Registry}/base/moving:1";
        var original = await EdgeForge.Oci.SourceImage.LoadAsync(EdgeForge.Oci.Transports.ImageLocation.Parse("docker://" + CanvosUpstreams.BaseImage()).OpenSource(client, blobs));
        await Push(original, moving);

        // What the tag will point at later: the same base with one more file.
        var marker = new EdgeForge.FileTree.InMemoryFileTreeSource().AddFile("etc/repointed", "the tag moved\n");
        var layer = await EdgeForge.Oci.Layers.LayerWriter.WriteAsync(marker, blobs);
        var replacement = EdgeForge.Oci.BuiltImage.AppendLayers(original, [(layer, new EdgeForge.Oci.Model.HistoryEntry { CreatedBy = "re-pointed" })]);

        var project = fixture.Scratch("moving-project");
        CanvosProject.Write(project, $"{fixture.Registry}/edge", "moving", $"BASE_IMAGE={moving}\nBOOT_ASSETS={Path.Combine(fixture.Project, "boot-assets")}");
        var plan = EdgeForge.Configuration.Planning.ProjectLoader.Load(project, new EdgeForge.Configuration.Planning.ProjectOptions { Environment = _ => null }).Plan!;
        var observer = new RepointAfterProviderImages(() => Push(replacement, moving).GetAwaiter().GetResult());
        var result = await EdgeForge.Build.Pipeline.EdgeBuild.RunAsync(plan, new EdgeForge.Build.Pipeline.EdgeBuildOptions
        {
            Registry = client, Blobs = new EdgeForge.Oci.Blobs.BlobCache(fixture.Scratch("moving-cache")), Observer = observer,
        }, EdgeForge.Build.Pipeline.BuildTarget.All);

        observer.Repointed.ShouldBeTrue();
        (await client.HeadManifestAsync(EdgeForge.Oci.Model.ImageReference.Parse(moving)))!.Digest.ShouldNotBe(original.Digest);
        result.Lock.Upstreams.Single(u => u.Role == "base").Digest.ShouldBe(original.Digest.ToString());
        var extract = fixture.Scratch("moving-extract");
        Directory.CreateDirectory(extract);
        await ExternalTool.RunAsync("bsdtar", "-xf", result.Iso!.IsoPath, "-C", extract, "rootfs.squashfs");
        var listing = await ExternalTool.RunAsync("unsquashfs", "-l", Path.Combine(extract, "rootfs.squashfs"));
        listing.ShouldContain("squashfs-root/usr/bin/kairos-agent");
        listing.ShouldNotContain("etc/repointed");

        async Task Push(EdgeForge.Oci.IImage image, string reference)
        {
            await using var destination = EdgeForge.Oci.Transports.ImageLocation.Parse("docker://" + reference).OpenDestination(client);
            await EdgeForge.Oci.ImageCopier.WriteAsync(image, destination);
        }
    }

    private sealed class RepointAfterProviderImages(Action repoint) : EdgeForge.Build.Pipeline.IBuildObserver
    {
        public bool Repointed { get; private set; }

        public void OnEvent(EdgeForge.Build.Pipeline.BuildEvent buildEvent)
        {
            if (buildEvent is { Step: "provider-images", Kind: EdgeForge.Build.Pipeline.BuildEventKind.Finished })
            {
                repoint();
                Repointed = true;
            }
        }
    }
}
