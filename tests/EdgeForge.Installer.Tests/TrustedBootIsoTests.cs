using System.Text.Json;
using EdgeForge.Testing;
using EdgeForge.Testing.Upstreams;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// Issue 14's story, set up once: a CanvOS project with <c>IS_UKI=true</c> and <c>AUTO_ENROLL_SECUREBOOT_KEYS=true</c>,
/// its key set made by <c>edgeforge keys secureboot</c>, the Trusted Boot test OS (Debian's kernel, busybox, Debian's
/// systemd-boot-efi) as the base image, the project's <c>cloudconfigs/80_stylus_uki.yaml</c>; then
/// <c>edgeforge build all</c>: the Trusted Boot provider image (CanvOS <c>+uki-provider-image</c>) and the ISO.
/// </summary>
public sealed class TrustedBootIsoFixture : IAsyncLifetime
{
    private RegistryProcess? _registry;

    public TestDirectory Work { get; } = new();

    public string Project => Work.Combine("project");

    public string IsoPath => Path.Combine(Project, "build", "edge-uki.iso");

    public string Keys => Path.Combine(Project, "secure-boot");

    public CliResult KeyGeneration { get; private set; } = new(-1, "", "");

    public CliResult Build { get; private set; } = new(-1, "", "");

    public string Scratch(string name) => Work.Combine(name);

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        var rootfs = Work.Combine("rootfs");
        await TestOs.WriteTrustedBootRootfsAsync(rootfs);
        var baseImage = $"{_registry.Address}/base/testos-uki:1";
        var import = await CliResult.RunAsync("image", "import", rootfs, "docker://" + baseImage);
        import.ExitCode.ShouldBe(0, import.ToString());

        Directory.CreateDirectory(Project);
        await CanvosProject.WriteInstallerArgAsync(Project, baseImage, "edge-uki",
            "IS_UKI=true", "AUTO_ENROLL_SECUREBOOT_KEYS=true", "CMDLINE=stylus.registration edgeforge.test=1");
        await CanvosProject.WriteSiteUserDataAsync(Project, "edgeforge-uki-site");
        await File.WriteAllTextAsync(Path.Combine(Project, ".edge-custom-config.yaml"), "content:\n  signing:\n    publicKey:\n      base64EncodedValue: \"\"\n");
        Directory.CreateDirectory(Path.Combine(Project, "cloudconfigs"));
        await File.WriteAllTextAsync(Path.Combine(Project, "cloudconfigs", "80_stylus_uki.yaml"), TrustedBootCloudConfig);

        // No Microsoft keys: OVMF's empty store has none, and the test machine runs only our binaries.
        KeyGeneration = await CliResult.RunAsync("keys", "secureboot", "-o", Keys, "--org", "EdgeForge Test", "--no-ms-keys");
        KeyGeneration.ExitCode.ShouldBe(0, KeyGeneration.ToString());
        await EdgeForge.Testing.Upstreams.CanvosUpstreams.SharedAsync();
        Build = await CliResult.RunAsync("build", "all", Project, "--cache-dir", Work.Combine("cache"));
    }

    /// <summary>The project's Trusted Boot stages (ours, shaped like CanvOS's: link the agent provider when booted from the image).</summary>
    public const string TrustedBootCloudConfig = """
        #cloud-config
        stages:
          initramfs:
            - if: '[ -e "/run/cos/uki_boot_mode" ]'
              name: edgeforge test link agent provider
              commands:
                - ln -sf /opt/spectrocloud/bin/agent-provider-stylus /usr/local/bin/agent-provider-stylus

        """;

    private Task<string>? _providerRoot;

    /// <summary>The provider image's tag, as the build's report names it.</summary>
    public string ProviderTag
    {
        get
        {
            using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(Project, "build", "provider-images.json")));
            return report.RootElement.GetProperty("images").EnumerateArray().Single().GetProperty("tag").GetString()!;
        }
    }

    /// <summary>The provider image's root filesystem, as umoci (not our reader) unpacks it from the build's OCI layout; once.</summary>
    public Task<string> ProviderRootAsync() => _providerRoot ??= UnpackProviderAsync();

    private async Task<string> UnpackProviderAsync()
    {
        Build.ExitCode.ShouldBe(0, Build.ToString());
        var bundle = Scratch("provider-bundle");
        await ExternalTool.RunAsync("umoci", "unpack", "--rootless", "--image", $"{Path.Combine(Project, "build", "images")}:{ProviderTag}", bundle);
        return Path.Combine(bundle, "rootfs");
    }

    public async Task DisposeAsync()
    {
        Work.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }

    /// <summary>sbverify (sbsigntool) accepts each binary against the project's db certificate.</summary>
    public async Task ShouldBeSignedByTheProjectAsync(params string[] binaries)
    {
        var certificate = Path.Combine(Keys, "public-keys/db.pem");
        foreach (var binary in binaries)
        {
            var verify = await ExternalTool.RunUncheckedAsync("sbverify", "--cert", certificate, binary);
            verify.ExitCode.ShouldBe(0, $"{binary}: {verify.Output}{verify.Error}");
        }
    }

    /// <summary>A unified kernel image's sections as objdump lists them, and its command line as objcopy extracts it.</summary>
    public async Task<string> UnifiedKernelImageCommandLineAsync(string image)
    {
        var sections = await ExternalTool.RunAsync("objdump", "-h", image);
        foreach (var section in new[] { ".osrel", ".cmdline", ".uname", ".sbat", ".initrd", ".linux" })
        {
            sections.ShouldContain(section);
        }

        var cmdline = Scratch($"cmdline-{Guid.NewGuid():N}.bin");
        await ExternalTool.RunAsync("objcopy", "-O", "binary", "--only-section=.cmdline", image, cmdline);
        return File.ReadAllText(cmdline).TrimEnd('\0');
    }

    /// <summary>
    /// The loader files under <paramref name="boot"/>: loader.conf's enrolment mode, the norole entry's title and
    /// image, and the enrolment updates, byte for byte the key set's.
    /// </summary>
    public void LoaderFilesShouldBe(string boot, string enrolment, string title)
    {
        File.ReadAllText(Path.Combine(boot, "loader/loader.conf")).ShouldContain("secure-boot-enroll " + enrolment);
        var entry = File.ReadAllText(Path.Combine(boot, "loader/entries/norole.conf"));
        entry.ShouldContain("title " + title);
        entry.ShouldContain("efi /EFI/kairos/norole.efi");
        foreach (var name in new[] { "PK.auth", "KEK.auth", "db.auth" })
        {
            File.ReadAllBytes(Path.Combine(boot, "loader/keys/auto", name)).ShouldBe(File.ReadAllBytes(Path.Combine(Keys, "enrollment", name)));
        }
    }

    /// <summary>The ISO's EFI system partition, cut out at the offsets the partition table (as sfdisk reads it) gives.</summary>
    public async Task<string> ExtractEspAsync(string name, string? iso = null)
    {
        iso ??= IsoPath;
        var table = JsonDocument.Parse(await ExternalTool.RunAsync("sfdisk", "--json", iso));
        var partition = table.RootElement.GetProperty("partitiontable").GetProperty("partitions").EnumerateArray()
            .Single(p => p.GetProperty("type").GetString() is "ef" or "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
        var esp = Scratch(name);
        await using var input = File.OpenRead(iso);
        await using var output = File.Create(esp);
        input.Position = partition.GetProperty("start").GetInt64() * 512;
        var remaining = partition.GetProperty("size").GetInt64() * 512;
        var buffer = new byte[1 << 20];
        while (remaining > 0)
        {
            var read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)));
            read.ShouldBeGreaterThan(0, "the ESP partition runs past the end of the ISO");
            await output.WriteAsync(buffer.AsMemory(0, read));
            remaining -= read;
        }

        return esp;
    }
}

/// <summary>
/// Given a Trusted Boot project, when I build the ISO, then sbverify, objdump, openssl, sfdisk, mtools and xorriso see a
/// UEFI-only medium whose systemd-boot and unified kernel image are signed with the project's db key, and OVMF with
/// Secure Boot, starting in Setup Mode, lets systemd-boot enrol the keys, resets into enforced Secure Boot and boots the
/// image to the test OS, then the provider image's signed image from its /trusted-boot — and then refuses an unsigned
/// and a wrongly signed image.
/// </summary>
[Trait("Tier", "Heavy")]
public sealed partial class TrustedBootIsoTests(TrustedBootIsoFixture fixture) : IClassFixture<TrustedBootIsoFixture>
{
    [Fact]
    public async Task The_iso_is_uefi_only_labelled_for_kairos_and_carries_the_user_data()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        fixture.Build.Output.ShouldContain("Trusted Boot: norole.efi");
        var info = await ExternalTool.RunAsync("isoinfo", "-d", "-i", fixture.IsoPath);
        info.ShouldContain("Volume id: UKI_ISO_INSTALL");
        var eltorito = await ExternalTool.RunAsync("xorriso", "-indev", fixture.IsoPath, "-report_el_torito", "plain");
        var entries = eltorito.Split('\n').Where(l => l.StartsWith("El Torito boot img :", StringComparison.Ordinal)).ToList();
        entries.Count.ShouldBe(1, eltorito);
        entries[0].ShouldContain("UEFI");

        var tree = fixture.Scratch("iso-tree");
        await ExternalTool.RunAsync("xorriso", "-osirrox", "on", "-indev", fixture.IsoPath, "-extract", "/", tree);
        File.ReadAllText(Path.Combine(tree, "config.yaml")).ShouldContain("name: edgeforge-uki-site");
        File.Exists(Path.Combine(tree, "rootfs.squashfs")).ShouldBeFalse("the unified kernel image carries the root filesystem");

        // CanvOS's overlay additions: luet, and the stylus package packed under the framework's name (luet util pack).
        File.ReadAllText(Path.Combine(tree, "luet")).ShouldContain("luet fixture");
        var archive = Path.Combine(tree, "stylus-image.tar");
        var config = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--config", "docker-archive:" + archive)).RootElement;
        config.GetProperty("history")[0].GetProperty("created_by").GetString().ShouldBe("luet");
        config.GetProperty("architecture").GetString().ShouldBe("amd64");
        var manifest = JsonDocument.Parse(await ExternalTool.RunAsync("tar", "-xOf", archive, "manifest.json")).RootElement[0];
        manifest.GetProperty("RepoTags")[0].GetString().ShouldBe(EdgeForge.Testing.Upstreams.CanvosUpstreams.StylusImage());
        var layer = manifest.GetProperty("Layers")[0].GetString()!;
        var unit = await ExternalTool.RunAsync("sh", "-c", $"tar -xOf '{archive}' '{layer}' | tar -xOf - etc/systemd/system/stylus-agent.service");
        unit.ShouldContain(EdgeForge.Testing.Upstreams.CanvosUpstreams.StylusPackageMarker);
        var check = await ExternalTool.RunUncheckedAsync("sh", "-c", $"cd '{Path.GetDirectoryName(fixture.IsoPath)}' && sha256sum -c edge-uki.iso.sha256");
        check.ExitCode.ShouldBe(0, check.Output + check.Error);
    }

    [Fact]
    public async Task The_esp_holds_signed_systemd_boot_the_signed_image_its_entry_and_the_enrolment_updates()
    {
        var esp = await fixture.ExtractEspAsync("esp-layout.img");
        (await ExternalTool.RunUncheckedAsync("fsck.fat", "-n", esp)).ExitCode.ShouldBe(0);
        var work = fixture.Scratch("esp-files");
        Directory.CreateDirectory(work);
        await ExternalTool.RunAsync("mcopy", "-s", "-n", "-i", esp, "::/EFI", "::/loader", work);
        await fixture.ShouldBeSignedByTheProjectAsync(Path.Combine(work, "EFI/BOOT/BOOTX64.EFI"), Path.Combine(work, "EFI/kairos/norole.efi"));
        var text = await fixture.UnifiedKernelImageCommandLineAsync(Path.Combine(work, "EFI/kairos/norole.efi"));
        text.ShouldStartWith("console=ttyS0 console=tty1 net.ifnames=1 rd.immucore.oemlabel=COS_OEM");
        text.ShouldEndWith("install-mode stylus.registration edgeforge.test=1");

        fixture.LoaderFilesShouldBe(work, "force", "Palette eXtended Kubernetes Edge");

        // No private key reaches the medium.
        var everything = await ExternalTool.RunAsync("sh", "-c", $"cd '{work}' && cat $(find . -type f)  | grep -c 'PRIVATE KEY' || true");
        everything.Trim().ShouldBe("0");
    }

    [Fact]
    public async Task Ovmf_in_setup_mode_enrols_the_keys_then_boots_the_signed_image_under_enforced_secure_boot_and_refuses_others()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var variables = fixture.Scratch("OVMF_VARS.fd");
        File.Copy(QemuOptions.VariableTemplate(Firmware.UefiSecureBoot), variables, overwrite: true);

        string Boot(string? cdrom, string? disk, string[] markers)
        {
            using var machine = QemuMachine.Start(new QemuOptions
            {
                Firmware = Firmware.UefiSecureBoot,
                MemoryMegabytes = 768,
                Cdrom = cdrom,
                Disks = disk is null ? [] : [disk],
                VariableStore = variables,
            });

            // Caps for a hung boot, not speed requirements: TCG on a busy 2-core machine can take minutes.
            return machine.WaitFor(markers, TimeSpan.FromSeconds(300));
        }

        // 1. Setup Mode: systemd-boot finds loader/keys/auto, writes db, KEK and PK, and resets (QEMU exits: -no-reboot).
        var enrolment = Boot(fixture.IsoPath, null, ["never printed: the machine resets"]);
        enrolment.ShouldContain("Enrolling secure boot keys from directory", customMessage: QemuMachine.Tail(enrolment));
        enrolment.ShouldNotContain(TestOs.TrustedBootMarker);

        // 2. Enforced Secure Boot now: firmware verifies systemd-boot, systemd-boot's LoadImage verifies the image.
        var secure = Boot(fixture.IsoPath, null, [TestOs.TrustedBootMarker]);
        var context = QemuMachine.Tail(secure);
        secure.ShouldContain(TestOs.TrustedBootMarker, customMessage: context);
        secure.ShouldContain("secureboot: Secure boot enabled", customMessage: context);
        secure.ShouldContain("EF-MARKER=" + TestOs.Marker, customMessage: context);
        secure.ShouldContain("edgeforge.test=1", customMessage: context);
        secure.ShouldContain("EF-OS-RELEASE=NAME=\"EdgeForge test OS\"", customMessage: context);

        // 2b. The same enrolled store boots the provider image's /trusted-boot, as a host's upgrade lays it on its EFI
        // system partition: its own signed image, the provider root filesystem with Kubernetes linked into /opt/k8s.
        var provider = Boot(null, await ProviderEspAsync(), [TestOs.TrustedBootMarker]);
        var providerContext = QemuMachine.Tail(provider);
        provider.ShouldContain(TestOs.TrustedBootMarker, customMessage: providerContext);
        provider.ShouldContain("secureboot: Secure boot enabled", customMessage: providerContext);
        provider.ShouldContain("EF-K3S=/opt/k8s/usr/bin/k3s", customMessage: providerContext);
        provider.ShouldNotContain("edgeforge.test=1", customMessage: providerContext);

        // 3. and 4. The same store refuses an image without a signature and one signed by a key it does not trust; the
        // medium is the ESP itself as a disk, with only the image replaced.
        var esp = await fixture.ExtractEspAsync("esp-signed.img");
        var signed = fixture.Scratch("norole-signed.efi");
        await ExternalTool.RunAsync("mcopy", "-n", "-i", esp, "::/EFI/kairos/norole.efi", signed);
        var unsigned = fixture.Scratch("norole-unsigned.efi");
        await ExternalTool.RunAsync("sbattach", "--remove", signed);
        File.Move(signed, unsigned);
        var listing = await ExternalTool.RunUncheckedAsync("sbverify", "--list", unsigned);
        (listing.Output + listing.Error).ShouldContain("No signature table present");

        var other = fixture.Scratch("other");
        Directory.CreateDirectory(other);
        await ExternalTool.RunAsync("openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=not-enrolled-db/", "-days", "30",
            "-keyout", Path.Combine(other, "db.key"), "-out", Path.Combine(other, "db.crt"));
        var wrong = fixture.Scratch("norole-wrong.efi");
        await ExternalTool.RunAsync("sbsign", "--key", Path.Combine(other, "db.key"), "--cert", Path.Combine(other, "db.crt"), "--output", wrong, unsigned);

        foreach (var (name, image) in new[] { ("unsigned", unsigned), ("wrongly signed", wrong) })
        {
            var disk = fixture.Scratch($"esp-{name.Replace(' ', '-')}.img");
            File.Copy(esp, disk, overwrite: true);
            await ExternalTool.RunAsync("mcopy", "-o", "-i", disk, image, "::/EFI/kairos/norole.efi");
            var refused = Boot(null, disk, ["Access Denied", TestOs.TrustedBootMarker]);
            refused.ShouldContain("Error loading \\EFI\\kairos\\norole.efi: Access Denied", customMessage: $"{name}: {QemuMachine.Tail(refused)}");
            refused.ShouldNotContain(TestOs.TrustedBootMarker, customMessage: name);
        }
    }
}
