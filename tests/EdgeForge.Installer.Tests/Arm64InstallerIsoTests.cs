using System.Diagnostics;
using EdgeForge.Build.Installer;
using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// Given the arm64 test OS as the base image of a CanvOS project with <c>ARCH=arm64</c>, when I run
/// <c>edgeforge build iso</c> on this amd64 machine, then the Dockerfile's RUN ran in the arm64 image, the ISO is UEFI
/// only — xorriso sees one El Torito entry, for UEFI; fdisk, sgdisk and mtools see the ESP as GPT partition 2 holding
/// Debian's arm64 GRUB as bootaa64.efi — and it boots in qemu-system-aarch64 on AAVMF from CD and from disk to the test
/// OS's marker.
/// </summary>
[Trait("Tier", "Heavy")]
public sealed class Arm64InstallerIsoTests(Arm64InstallerIsoFixture fixture) : IClassFixture<Arm64InstallerIsoFixture>
{
    [Fact]
    public async Task The_build_runs_the_dockerfile_in_the_arm64_image_and_finds_grub_in_it()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        Console.WriteLine($"Arm64InstallerIsoTests: build iso took {fixture.BuildTime.TotalSeconds:F0} s");
        fixture.Build.Output.ShouldContain($"UEFI only, {BootArchitecture.Arm64.EfiLoaderPath} from /{DebianArm64Packages.MonolithicGrubPath}");

        var squashfs = fixture.Scratch("rootfs.squashfs");
        await ExternalTool.RunAsync("xorriso", "-osirrox", "on", "-indev", fixture.IsoPath, "-extract", "/rootfs.squashfs", squashfs);
        var files = fixture.Scratch("squash-out");
        await ExternalTool.RunAsync("unsquashfs", "-no-xattrs", "-d", files, squashfs, Arm64InstallerIsoFixture.RunOutput);
        // uname -m inside the image reports the emulated CPU: the RUN ran arm64 busybox, not the host's.
        File.ReadAllText(Path.Combine(files, Arm64InstallerIsoFixture.RunOutput)).ShouldBe("aarch64\n");
    }

    [Fact]
    public async Task Xorriso_fdisk_sgdisk_and_mtools_see_a_uefi_only_medium_with_bootaa64_efi()
    {
        var iso = fixture.IsoPath;
        File.Exists(iso).ShouldBeTrue(fixture.Build.ToString());
        var eltorito = await ExternalTool.RunAsync("xorriso", "-indev", iso, "-report_el_torito", "plain");
        var entries = eltorito.Split('\n').Where(l => l.StartsWith("El Torito boot img :", StringComparison.Ordinal)).ToList();
        entries.Count.ShouldBe(1, eltorito);
        entries[0].ShouldContain("UEFI");
        eltorito.ShouldNotContain("BIOS");

        var listing = await ExternalTool.RunAsync("bsdtar", "-tf", iso);
        listing.Split('\n').ShouldNotContain("boot/eltorito.img");
        listing.Split('\n').ShouldContain("boot/uefi.img");

        // No GRUB hybrid MBR: the boot code area of the protective MBR (bytes 0–439) is empty.
        var mbr = new byte[440];
        await using (var file = File.OpenRead(iso))
        {
            await file.ReadExactlyAsync(mbr);
        }

        mbr.ShouldAllBe(b => b == 0);

        var fdisk = await ExternalTool.RunAsync("fdisk", "-l", iso);
        fdisk.ShouldContain("Disklabel type: gpt", customMessage: fdisk);
        var espLine = fdisk.Split('\n').Single(l => l.StartsWith(iso + "2", StringComparison.Ordinal));
        espLine.ShouldContain("EFI System");
        var verify = await ExternalTool.RunUncheckedAsync("sgdisk", "-v", iso);
        verify.Output.ShouldContain("No problems found", customMessage: verify.ToString());
        (await ExternalTool.RunAsync("sgdisk", "-i", "2", iso)).ShouldContain("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");

        // Our own reader agrees: catalog, GPT copies and CRCs, partitions inside the file, the checksum file.
        var verifyOurs = await CliResult.RunAsync("iso", "verify", iso);
        verifyOurs.ExitCode.ShouldBe(0, verifyOurs.ToString());

        var fields = espLine[(iso.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var start = long.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture) * 512;
        var esp = $"{iso}@@{start}";
        (await ExternalTool.RunAsync("mlabel", "-i", esp, "-s", "::")).ShouldContain(InstallerIsoBuilder.EspLabel);
        var boot = (await ExternalTool.RunAsync("mdir", "-i", esp, "-b", "::/EFI/BOOT")).ToLowerInvariant();
        boot.ShouldContain("bootaa64.efi");
        boot.ShouldContain("grubaa64.efi");
        boot.ShouldNotContain("x64.efi");
        var loader = fixture.Scratch("bootaa64.efi");
        await ExternalTool.RunAsync("mcopy", "-n", "-i", esp, "::/EFI/BOOT/bootaa64.efi", loader);
        (await File.ReadAllBytesAsync(loader)).ShouldBe(await File.ReadAllBytesAsync(fixture.Packages.MonolithicGrub));
    }

    [Theory]
    [InlineData("cd")]
    [InlineData("disk")]
    public void The_iso_boots_on_aavmf_to_the_test_os_marker(string medium)
    {
        File.Exists(fixture.IsoPath).ShouldBeTrue(fixture.Build.ToString());
        var watch = Stopwatch.StartNew();
        using var machine = QemuMachine.Start(new QemuOptions
        {
            Architecture = GuestArchitecture.Arm64,
            Firmware = Firmware.Uefi,
            MemoryMegabytes = 768,
            Cdrom = medium == "cd" ? fixture.IsoPath : null,
            Disks = medium == "disk" ? [fixture.IsoPath] : [],
        });

        // A cap for a hung boot, not a speed requirement: arm64 under TCG on a busy 2-core machine is slow.
        var serial = machine.WaitFor(["EF-BOOT-OK", "EF-BOOT-FAIL"], TimeSpan.FromSeconds(300));
        Console.WriteLine($"Arm64InstallerIsoTests {medium}: {watch.Elapsed.TotalSeconds:F0} s to the marker");
        var context = $"serial console of arm64/{medium} after {watch.Elapsed.TotalSeconds:F0} s:\n{QemuMachine.Tail(serial)}";
        serial.ShouldContain("EF-BOOT-OK", customMessage: context);
        serial.ShouldContain("EF-FIRMWARE=UEFI", customMessage: context);
        serial.ShouldContain("console=ttyAMA0,115200n8 console=tty0", customMessage: context);
        serial.ShouldContain("EF-LABEL=COS_LIVE SQUASHIMG=rootfs.squashfs", customMessage: context);
        serial.ShouldContain($"name: {Arm64InstallerIsoFixture.SiteName}", customMessage: context);
        serial.ShouldContain("EF-MARKER=" + TestOs.Marker, customMessage: context);
    }

    [Fact]
    public async Task An_arm64_boot_assets_directory_needs_only_bootaa64_efi_and_its_absence_is_named_with_exit_2()
    {
        var empty = Path.Combine(fixture.Project, "no-assets");
        Directory.CreateDirectory(empty);
        var result = await CliResult.RunAsync("build", "iso", fixture.Project, "--cache-dir", fixture.Scratch("cache"), "--boot-assets", "no-assets",
            "--build-arg", "ISO_NAME=never-written");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain(Path.Combine(empty, "EFI/BOOT/bootaa64.efi"));
        result.Error.ShouldContain("arm64 boots by UEFI only");
        result.Error.ShouldNotContain("eltorito.img");
        File.Exists(Path.Combine(fixture.Project, "build", "never-written.iso")).ShouldBeFalse();
    }

    [Fact]
    public async Task Debians_arm64_grub_and_shim_packages_install_where_the_build_looks()
    {
        // The real file lists (dpkg -c) of the packages, against the candidate paths: unsigned GRUB, signed GRUB, shim.
        async Task<List<string>> Files(string package) => (await ExternalTool.RunAsync("dpkg-deb", "-c", fixture.Packages.Deb(package)))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last().TrimStart('.', '/')).ToList();

        (await Files(DebianArm64Packages.Grub)).ShouldContain(p => BootArchitecture.Arm64.GrubEfiPaths.Contains(p));
        (await Files(DebianArm64Packages.SignedGrub)).ShouldContain(p => BootArchitecture.Arm64.GrubEfiPaths.Contains(p));
        (await Files(DebianArm64Packages.Shim)).ShouldContain(p => BootArchitecture.Arm64.ShimPaths.Contains(p));
    }
}
