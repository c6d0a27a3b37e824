using System.Text.Json;
using EdgeForge.Testing;
using EdgeForge.Testing.Upstreams;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// Given the Trusted Boot project, when <c>build all</c> has run, then its provider image is CanvOS's
/// <c>uki-provider-image</c> as skopeo, umoci, sbverify, objdump, objcopy, zstd and cpio read it: the Ubuntu image with
/// rsync installed by CanvOS's apt-get line, luet and kairos-agent, the Kubernetes files under <c>/k8s</c>, and under
/// <c>/trusted-boot</c> systemd-boot and a unified kernel image of the provider root filesystem (Kubernetes as links into
/// <c>/opt/k8s</c>), both signed with the project's db key, with the loader files and enrolment updates.
/// </summary>
public sealed partial class TrustedBootIsoTests
{
    [Fact]
    public async Task The_provider_image_is_the_ubuntu_image_with_rsync_luet_kairos_agent_and_kubernetes_under_k8s()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        fixture.Build.Output.ShouldContain("1 of 1 images");
        var layout = $"oci:{Path.Combine(fixture.Project, "build", "images")}:{fixture.ProviderTag}";
        var config = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--config", layout)).RootElement;
        var labels = config.GetProperty("config").GetProperty("Labels");
        labels.GetProperty("org.opencontainers.image.base.name").GetString().ShouldBe(CanvosUpstreams.UbuntuImage);
        var history = config.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("created_by").GetString() ?? "").ToList();
        string[] expected =
        [
            "RUN apt-get update && apt-get install -y rsync",
            "COPY (+third-party/luet --binary=luet) /usr/bin/luet",
            "COPY +kairos-agent/kairos-agent /usr/bin/kairos-agent",
            "COPY +trust-boot-unpack/ /trusted-boot",
            "COPY --keep-ts +install-k8s/output/ /k8s",
            "/oem/.edge_custom_config.yaml",
            "/etc/kairos/80_stylus.yaml",
        ];
        var positions = expected.Select(e => history.FindIndex(h => h.Contains(e, StringComparison.Ordinal))).ToList();
        positions.ShouldAllBe(p => p >= 0, string.Join("\n", history));
        positions.ShouldBeInOrder(SortDirection.Ascending, string.Join("\n", history));

        var root = await fixture.ProviderRootAsync();
        // CanvOS's apt-get line ran on the Ubuntu image, and what it installed is in the image.
        File.ReadAllText(Path.Combine(root, "usr/bin/rsync")).ShouldContain(CanvosUpstreams.RsyncMarker);
        File.ReadAllText(Path.Combine(root, CanvosUpstreams.AptLog)).ShouldBe("apt-get update\napt-get install -y rsync\n");
        File.ReadAllText(Path.Combine(root, "usr/bin/luet")).ShouldContain("luet fixture");
        File.ReadAllText(Path.Combine(root, "usr/bin/kairos-agent")).ShouldContain("kairos-agent stub of the EdgeForge test OS");
        File.ReadAllText(Path.Combine(root, "etc/os-release")).ShouldContain("ID=ubuntu");

        // The Kubernetes files themselves, for the host's /opt/k8s; luet's cache dropped as CanvOS drops it.
        File.ReadAllText(Path.Combine(root, "k8s/usr/bin/k3s")).ShouldContain("k3s v1.30.1+k3s1");
        File.Exists(Path.Combine(root, "k8s/var/cache/luet/leftover")).ShouldBeFalse();
        File.Exists(Path.Combine(root, "etc/spectro-sysext/k8s-and-agent-provider-bundled")).ShouldBeTrue();
        File.Exists(Path.Combine(root, "usr/bin/k3s")).ShouldBeFalse("the provider root filesystem is in the unified kernel image, not the image's root");
        File.Exists(Path.Combine(root, "etc/kairos/80_stylus.yaml")).ShouldBeTrue();
        File.Exists(Path.Combine(root, "oem/.edge_custom_config.yaml")).ShouldBeTrue();
        Directory.Exists(Path.Combine(root, "boot")).ShouldBeFalse();

        // No private key anywhere in the image.
        var keys = await ExternalTool.RunUncheckedAsync("grep", "-rl", "PRIVATE KEY", root);
        keys.ExitCode.ShouldBe(1, keys.Output);
    }

    [Fact]
    public async Task The_trusted_boot_files_are_signed_and_the_image_holds_the_provider_root_filesystem()
    {
        var boot = Path.Combine(await fixture.ProviderRootAsync(), "trusted-boot");
        var image = Path.Combine(boot, "EFI/kairos/norole.efi");
        await fixture.ShouldBeSignedByTheProjectAsync(Path.Combine(boot, "EFI/BOOT/BOOTX64.EFI"), image);

        // CanvOS gives build-uki no --extend-cmdline for provider images: CMDLINE is the installer's alone.
        var text = await fixture.UnifiedKernelImageCommandLineAsync(image);
        text.ShouldStartWith("console=ttyS0 console=tty1 net.ifnames=1 rd.immucore.oemlabel=COS_OEM");
        text.ShouldEndWith(" install-mode");
        text.ShouldNotContain("edgeforge.test=1");

        // AuroraBoot's default enrolment (CanvOS passes none for provider images) and CanvOS's provider title.
        fixture.LoaderFilesShouldBe(boot, "if-safe", "Palette eXtended Kubernetes Edge");

        // The initrd is the provider root filesystem: the installer's layers, the project's Trusted Boot stages,
        // Kubernetes linked into /opt/k8s (CanvOS slink), etcdctl, the clean-up; no /boot (the kernel is .linux).
        var initrd = fixture.Scratch("provider-initrd.zst");
        await ExternalTool.RunAsync("objcopy", "-O", "binary", "--only-section=.initrd", image, initrd);
        var tree = fixture.Scratch("provider-initrd");
        Directory.CreateDirectory(tree);
        await ExternalTool.RunAsync("sh", "-c", $"cd '{tree}' && zstd -dc '{initrd}' | cpio -id --quiet --no-absolute-filenames");
        new FileInfo(Path.Combine(tree, "usr/bin/k3s")).LinkTarget.ShouldBe("/opt/k8s/usr/bin/k3s");
        new FileInfo(Path.Combine(tree, "opt/k8s/version")).LinkTarget.ShouldBe("/opt/k8s/opt/k8s/version");
        new FileInfo(Path.Combine(tree, "usr/local/bin/agent-provider-stylus")).LinkTarget.ShouldBe("/opt/spectrocloud/bin/agent-provider-stylus");
        File.ReadAllText(Path.Combine(tree, "etc/kairos/80_stylus_uki.yaml")).ShouldBe(TrustedBootIsoFixture.TrustedBootCloudConfig);
        File.ReadAllText(Path.Combine(tree, "usr/bin/etcdctl")).ShouldContain("etcdctl fixture");
        File.ReadAllText(Path.Combine(tree, "etc/edgeforge-marker")).ShouldBe(TestOs.Marker + "\n");
        File.Exists(Path.Combine(tree, "init")).ShouldBeTrue();
        Directory.Exists(Path.Combine(tree, "boot")).ShouldBeFalse();
        Directory.Exists(Path.Combine(tree, "k8s")).ShouldBeFalse();
        new FileInfo(Path.Combine(tree, "etc/machine-id")).Length.ShouldBe(0);
    }

    /// <summary>
    /// The provider image's <c>/trusted-boot</c> as the EFI system partition a host's upgrade writes it to: a FAT image
    /// made by mkfs.fat and mcopy (not by us).
    /// </summary>
    private async Task<string> ProviderEspAsync()
    {
        var boot = Path.Combine(await fixture.ProviderRootAsync(), "trusted-boot");
        var bytes = Directory.EnumerateFiles(boot, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var esp = fixture.Scratch("provider-esp.img");
        File.Delete(esp);
        await ExternalTool.RunAsync("mkfs.fat", "-F", "32", "-C", esp, ((bytes >> 10) + (48 << 10)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await ExternalTool.RunAsync("mcopy", "-s", "-i", esp, Path.Combine(boot, "EFI"), Path.Combine(boot, "loader"), "::/");
        return esp;
    }
}

/// <summary>
/// Given the Trusted Boot project with <c>FORCE_INTERACTIVE_INSTALL=true</c>, when I build the ISO, then the partition
/// has a second signed image whose command line asks for the interactive installer, systemd-boot's default entry is
/// that one, and OVMF under enforced Secure Boot starts it when nobody presses a key.
/// </summary>
public sealed partial class TrustedBootIsoTests
{
    [Fact]
    public async Task Force_interactive_install_adds_a_signed_interactive_image_that_systemd_boot_starts_by_default()
    {
        var result = await CliResult.RunAsync("build", "iso", fixture.Project, "--cache-dir", fixture.Work.Combine("cache"),
            "--build-arg", "FORCE_INTERACTIVE_INSTALL=true", "--build-arg", "ISO_NAME=edge-uki-interactive");
        result.ExitCode.ShouldBe(0, result.ToString());
        result.Output.ShouldContain($"{TrustedBootInteractive}.efi");
        var iso = Path.Combine(fixture.Project, "build", "edge-uki-interactive.iso");
        var esp = await fixture.ExtractEspAsync("esp-interactive.img", iso);
        var work = fixture.Scratch("esp-interactive-files");
        Directory.CreateDirectory(work);
        await ExternalTool.RunAsync("mcopy", "-s", "-n", "-i", esp, "::/EFI", "::/loader", work);

        var interactive = Path.Combine(work, "EFI/kairos", TrustedBootInteractive + ".efi");
        await fixture.ShouldBeSignedByTheProjectAsync(Path.Combine(work, "EFI/kairos/norole.efi"), interactive);
        (await fixture.UnifiedKernelImageCommandLineAsync(interactive)).ShouldEndWith("install-mode stylus.registration edgeforge.test=1 interactive-install");
        File.ReadAllText(Path.Combine(work, "loader/loader.conf")).ShouldContain($"default {TrustedBootInteractive}.conf");
        File.ReadAllText(Path.Combine(work, "loader/entries", TrustedBootInteractive + ".conf")).ShouldContain("title Palette eXtended Kubernetes Edge (interactive install)");
        File.ReadAllText(Path.Combine(work, "loader/entries/norole.conf")).ShouldContain("efi /EFI/kairos/norole.efi");

        // A fresh machine in Setup Mode: enrol, reset, then the default entry boots under enforced Secure Boot.
        var variables = fixture.Scratch("OVMF_VARS-interactive.fd");
        File.Copy(QemuOptions.VariableTemplate(Firmware.UefiSecureBoot), variables, overwrite: true);
        string Boot(string[] markers)
        {
            using var machine = QemuMachine.Start(new QemuOptions { Firmware = Firmware.UefiSecureBoot, MemoryMegabytes = 768, Cdrom = iso, VariableStore = variables });
            return machine.WaitFor(markers, TimeSpan.FromSeconds(300));
        }

        Boot(["never printed: the machine resets"]).ShouldContain("Enrolling secure boot keys from directory");
        var booted = Boot([TestOs.TrustedBootMarker]);
        booted.ShouldContain("secureboot: Secure boot enabled", customMessage: QemuMachine.Tail(booted));
        booted.ShouldContain("edgeforge.test=1 interactive-install", customMessage: QemuMachine.Tail(booted));
        File.Delete(iso);
    }

    private const string TrustedBootInteractive = "norole_interactive-install";
}
