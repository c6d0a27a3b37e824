using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// Given the test OS as the base image of a CanvOS project, when I run <c>edgeforge build iso</c>, then the ISO has the
/// §6 layout (as xorriso, isoinfo, fdisk, fsck.fat and sha256sum see it) and boots in QEMU on SeaBIOS and OVMF, from CD
/// and from the image as a disk, to an init that prints the embedded user data and a file from inside the SquashFS.
/// </summary>
[Trait("Tier", "Heavy")]
public sealed partial class InstallerIsoTests(InstallerIsoFixture fixture) : IClassFixture<InstallerIsoFixture>
{
    [Fact]
    public async Task The_build_writes_the_iso_and_a_checksum_that_sha256sum_accepts()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        fixture.Build.Output.ShouldContain("build/edge-test.iso");
        fixture.Build.Error.ShouldContain("squashfs:");
        var build = Path.GetDirectoryName(fixture.IsoPath)!;
        var check = await ExternalTool.RunUncheckedAsync("sh", "-c", $"cd '{build}' && sha256sum -c edge-test.iso.sha256");
        check.ExitCode.ShouldBe(0, check.Output + check.Error);
        check.Output.ShouldContain("edge-test.iso: OK");

        // Nothing temporary is left beside the results.
        Directory.GetFileSystemEntries(build).Select(Path.GetFileName).Where(n => n!.StartsWith('.')).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("bios", "cd")]
    [InlineData("bios", "disk")]
    [InlineData("uefi", "cd")]
    [InlineData("uefi", "disk")]
    public void The_iso_boots_to_the_test_os_which_prints_the_user_data_and_the_squashfs_marker(string firmware, string medium)
    {
        File.Exists(fixture.IsoPath).ShouldBeTrue(fixture.Build.ToString());
        using var machine = QemuMachine.Start(new QemuOptions
        {
            Firmware = firmware == "uefi" ? Firmware.Uefi : Firmware.Bios,
            MemoryMegabytes = 768,
            Cdrom = medium == "cd" ? fixture.IsoPath : null,
            Disks = medium == "disk" ? [fixture.IsoPath] : [],
        });

        // A cap for a hung boot, not a speed requirement: TCG on a busy 2-core machine can take minutes.
        var serial = machine.WaitFor(["EF-BOOT-OK", "EF-BOOT-FAIL"], TimeSpan.FromSeconds(240));
        var context = $"serial console of {firmware}/{medium}:\n{QemuMachine.Tail(serial)}";
        serial.ShouldContain("EF-BOOT-OK", customMessage: context);
        serial.ShouldContain($"EF-FIRMWARE={(firmware == "uefi" ? "UEFI" : "BIOS")}", customMessage: context);
        serial.ShouldContain("root=live:CDLABEL=COS_LIVE rd.live.dir=/ rd.live.squashimg=rootfs.squashfs", customMessage: context);
        serial.ShouldContain("EF-LABEL=COS_LIVE SQUASHIMG=rootfs.squashfs", customMessage: context);
        var config = Between(serial, "EF-CONFIG-BEGIN", "EF-CONFIG-END");
        config.ShouldContain("#cloud-config", customMessage: context);
        config.ShouldContain($"name: {InstallerIsoFixture.SiteName}", customMessage: context);
        serial.ShouldContain("EF-MARKER=" + TestOs.Marker, customMessage: context);
    }

    [Fact]
    public async Task Xorriso_isoinfo_fdisk_and_fsck_fat_see_the_section_6_boot_structure()
    {
        var iso = fixture.IsoPath;
        var eltorito = await ExternalTool.RunAsync("xorriso", "-indev", iso, "-report_el_torito", "plain");
        eltorito.ShouldContain("El Torito catalog  : ");
        var entries = eltorito.Split('\n').Where(l => l.StartsWith("El Torito boot img :", StringComparison.Ordinal)).ToList();
        entries.Count.ShouldBe(2, eltorito);
        entries[0].ShouldContain("BIOS");
        entries[0].ShouldContain("none");
        entries[1].ShouldContain("UEFI");
        eltorito.ShouldContain("/boot/eltorito.img");

        var info = await ExternalTool.RunAsync("isoinfo", "-d", "-i", iso);
        info.ShouldContain("Volume id: COS_LIVE");
        info.ShouldContain("Eltorito");

        var fdisk = await ExternalTool.RunAsync("fdisk", "-l", iso);
        fdisk.ShouldContain("Disklabel type: gpt", customMessage: fdisk);
        var espLine = fdisk.Split('\n').Single(l => l.StartsWith(iso + "2", StringComparison.Ordinal));
        espLine.ShouldContain("EFI System");

        // The appended ESP, read from the partition table's own offsets, is a clean FAT labelled EFI_LIVE holding the loaders and the stub.
        var fields = espLine[(iso.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (start, sectors) = (long.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture));
        var esp = fixture.Scratch("esp.img");
        await using (var input = File.OpenRead(iso))
        await using (var output = File.Create(esp))
        {
            input.Position = start * 512;
            var buffer = new byte[sectors * 512];
            await input.ReadExactlyAsync(buffer);
            await output.WriteAsync(buffer);
        }

        var fsck = await ExternalTool.RunUncheckedAsync("fsck.fat", "-n", esp);
        fsck.ExitCode.ShouldBe(0, fsck.Output + fsck.Error);
        (await ExternalTool.RunAsync("mlabel", "-i", esp, "-s", "::")).ShouldContain("EFI_LIVE");
        var listing = await ExternalTool.RunAsync("mdir", "-i", esp, "-b", "::/EFI/BOOT");
        listing.ToLowerInvariant().ShouldContain("bootx64.efi");
        listing.ToLowerInvariant().ShouldContain("grubx64.efi");
        listing.ToLowerInvariant().ShouldContain("grub.cfg");
        var bootEfi = fixture.Scratch("bootx64.efi");
        await ExternalTool.RunAsync("mcopy", "-n", "-i", esp, "::/EFI/BOOT/bootx64.efi", bootEfi);
        (await File.ReadAllBytesAsync(bootEfi)).ShouldBe(await File.ReadAllBytesAsync(Path.Combine(fixture.Project, "boot-assets", "EFI", "BOOT", "bootx64.efi")));
    }

    [Fact]
    public async Task The_iso_tree_holds_kernel_initrd_squashfs_menus_user_data_and_embedded_inputs()
    {
        var tree = fixture.Scratch("extracted");
        await ExternalTool.RunAsync("xorriso", "-osirrox", "on", "-indev", fixture.IsoPath, "-extract", "/", tree);
        string Text(string path) => File.ReadAllText(Path.Combine(tree, path));
        byte[] Bytes(string path) => File.ReadAllBytes(Path.Combine(tree, path));

        var version = TestOs.KernelVersion;
        Bytes("boot/kernel").ShouldBe(await File.ReadAllBytesAsync($"/boot/vmlinuz-{version}"));
        Bytes("boot/initrd").ShouldBe(await File.ReadAllBytesAsync(Path.Combine(fixture.Rootfs, $"boot/initrd.img-{version}")));
        Bytes("boot/eltorito.img").Length.ShouldBe((int)new FileInfo(Path.Combine(fixture.Project, "boot-assets", "eltorito.img")).Length);
        var userData = await File.ReadAllTextAsync(Path.Combine(fixture.Project, "user-data"));
        Text("config.yaml").ShouldBe(userData);
        Text("files-iso/config.yaml").ShouldBe(userData);
        Text(".edge_custom_config.yaml").ShouldBe(await File.ReadAllTextAsync(Path.Combine(fixture.Project, ".edge-custom-config.yaml")));
        Bytes("opt/spectrocloud/content/bundle.zst_part00").ShouldBe(fixture.Bundle);
        Directory.GetFiles(Path.Combine(tree, "opt/spectrocloud/content")).Length.ShouldBe(1);
        Bytes("opt/spectrocloud/clusterconfig/spc.tgz").ShouldBe(await File.ReadAllBytesAsync(Path.Combine(fixture.Project, "spc.tgz")));

        var stub = EdgeForge.Build.Installer.GrubMenu.StubConfig;
        Text("EFI/BOOT/grub.cfg").ShouldBe(stub);
        Text("boot/grub/grub.cfg").ShouldBe(stub);
        var menu = Text("boot/grub2/grub.cfg");
        menu.ShouldContain("set default=0\n");
        menu.ShouldContain("menuentry \"Palette eXtended Kubernetes Edge Installer\"");
        menu.ShouldContain("menuentry \"Palette Edge Interactive Installer\"");

        // The SquashFS is the image's root filesystem, zstd-compressed (SQUASHFS_COMPRESSION default zstd:3).
        var squash = await ExternalTool.RunAsync("unsquashfs", "-s", Path.Combine(tree, "rootfs.squashfs"));
        squash.ShouldContain("Compression zstd");
        var marker = fixture.Scratch("squash-out");
        await ExternalTool.RunAsync("unsquashfs", "-no-xattrs", "-d", marker, Path.Combine(tree, "rootfs.squashfs"), "etc/edgeforge-marker", $"boot/vmlinuz-{version}");
        File.ReadAllText(Path.Combine(marker, "etc/edgeforge-marker")).ShouldBe(TestOs.Marker + "\n");
        File.ReadAllBytes(Path.Combine(marker, $"boot/vmlinuz-{version}")).ShouldBe(Bytes("boot/kernel"));
    }

    [Fact]
    public async Task Boot_assets_missing_from_the_given_directory_are_named_and_exit_2()
    {
        var empty = Path.Combine(fixture.Project, "no-assets");
        Directory.CreateDirectory(empty);
        var result = await CliResult.RunAsync("build", "iso", fixture.Project, "--cache-dir", fixture.Cache, "--boot-assets", "no-assets",
            "--build-arg", "ISO_NAME=never-written");
        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain(Path.Combine(empty, "eltorito.img"));
        result.Error.ShouldContain(Path.Combine(empty, "boot_hybrid.img"));
        result.Error.ShouldContain(Path.Combine(empty, "EFI/BOOT/bootx64.efi"));
        File.Exists(Path.Combine(fixture.Project, "build", "never-written.iso")).ShouldBeFalse();
    }

    private static string Between(string text, string begin, string end)
    {
        var from = text.IndexOf(begin, StringComparison.Ordinal);
        var to = from < 0 ? -1 : text.IndexOf(end, from, StringComparison.Ordinal);
        return from < 0 || to < 0 ? "" : text[(from + begin.Length)..to];
    }
}
