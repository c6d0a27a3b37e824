namespace EdgeForge.Testing;

/// <summary>
/// The test OS, from Debian packages only: the machine's linux-image-amd64 kernel in /boot, a busybox-static initramfs
/// whose /init finds the installer medium by its label (the <c>root=live:CDLABEL=…</c> argument of the GRUB menu),
/// mounts the ISO and <c>/rootfs.squashfs</c>, and prints <c>/config.yaml</c> and a marker from inside the SquashFS on
/// the serial port. Built once into the <see cref="BuildCache"/>; each test gets its own copy to change.
/// </summary>
public static class TestOs
{
    public const string Marker = "edgeforge-marker: squashfs root of the EdgeForge test OS";

    private static readonly string[] InitramfsModules =
    [
        "cdrom", "sr_mod", "ata_piix", "ata_generic", "ahci", "crc64_rocksoft_generic", "crct10dif_generic", "sd_mod",
        "virtio_pci", "virtio_blk", "virtio_scsi", "isofs", "loop", "squashfs",
    ];

    // The init script. The installer menu sends /dev/console to tty0 on UEFI (console=tty0 comes last), so it writes to
    // the serial port itself. It finds the medium as dmsquash-live does: by the CDLABEL of root=live:CDLABEL=…, with a
    // scan of the block devices as the fallback (a label can take a moment to appear).
    private const string InitScript = """
        exec >/dev/ttyS0 2>&1
        echo "EF-INIT-START"
        if [ -d /sys/firmware/efi ]; then FW=UEFI; else FW=BIOS; fi
        echo "EF-FIRMWARE=$FW"
        echo "EF-CMDLINE=$(cat /proc/cmdline)"
        for m in $(cat /etc/modules.load); do insmod /lib/modules/$m.ko 2>/dev/null || echo "EF-WARN insmod $m"; done
        LABEL=$(sed -n 's/.*root=live:CDLABEL=\([^ ]*\).*/\1/p' /proc/cmdline)
        SQUASH=$(sed -n 's/.*rd.live.squashimg=\([^ ]*\).*/\1/p' /proc/cmdline)
        echo "EF-LABEL=$LABEL SQUASHIMG=$SQUASH"
        DEV=""
        i=0
        while [ $i -lt 40 ] && [ -z "$DEV" ]; do
          DEV=$(findfs "LABEL=$LABEL" 2>/dev/null)
          if [ -n "$DEV" ]; then
            mount -t iso9660 -o ro "$DEV" /mnt/iso 2>/dev/null || DEV=""
          fi
          if [ -z "$DEV" ]; then
            for d in /dev/sr0 /dev/vda /dev/sda; do
              [ -b "$d" ] || continue
              if mount -t iso9660 -o ro "$d" /mnt/iso 2>/dev/null; then
                if [ -f "/mnt/iso/$SQUASH" ]; then DEV=$d; break; fi
                umount /mnt/iso
              fi
            done
          fi
          [ -n "$DEV" ] || { i=$((i+1)); sleep 0.5; }
        done
        if [ -z "$DEV" ]; then echo "EF-BOOT-FAIL no medium labelled $LABEL"; ls /dev; poweroff -f; fi
        echo "EF-ISO-MOUNTED dev=$DEV"
        echo "EF-CONFIG-BEGIN"
        cat /mnt/iso/config.yaml
        echo "EF-CONFIG-END"
        if mount -t squashfs -o ro,loop "/mnt/iso/$SQUASH" /mnt/root; then
          echo "EF-MARKER=$(cat /mnt/root/etc/edgeforge-marker)"
        else
          echo "EF-BOOT-FAIL squashfs"
        fi
        echo "EF-BOOT-OK fw=$FW"
        sync
        poweroff -f
        """;

    /// <summary>
    /// The arm64 test OS's initramfs modules: QEMU virt's CD sits on virtio-scsi and its disks on virtio-blk, both
    /// behind virtio-pci (modules in Debian's arm64 kernel).
    /// </summary>
    private static readonly string[] Arm64InitramfsModules = ["virtio_pci", "virtio_blk", "virtio_scsi", "sr_mod", "sd_mod", "isofs", "loop", "squashfs"];

    /// <summary>The init script writing to <paramref name="serial"/>: ttyS0 on a PC, ttyAMA0 (PL011) on QEMU's arm64 virt machine.</summary>
    private static string InitScriptFor(string serial) => InitScript.Replace("/dev/ttyS0", "/dev/" + serial, StringComparison.Ordinal);

    private static readonly Lazy<Task<string>> Cached = new(BuildCachedAsync);

    private static readonly Lazy<Task<string>> CachedArm64 = new(BuildCachedArm64Async);

    public static string KernelVersion => HostKernel.Version;

    /// <summary>
    /// Copies the root filesystem (busybox, /etc/edgeforge-marker, a stub kairos-agent, /boot/vmlinuz-V and
    /// /boot/initrd.img-V) into <paramref name="root"/>, which the caller may then change.
    /// </summary>
    public static async Task WriteRootfsAsync(string root)
    {
        var cached = await Cached.Value;
        Directory.CreateDirectory(root);
        await ExternalTool.RunAsync("cp", "-a", cached + "/.", root);
    }

    /// <summary>
    /// The arm64 test OS from Debian's arm64 packages (<see cref="DebianArm64Packages"/>): the same init, writing to
    /// the PL011 console ttyAMA0, with arm64 busybox, Debian's arm64 kernel and its initramfs in /boot, and
    /// grub-efi-arm64-bin's monolithic GRUB where the package installs it, for the build to find in the image.
    /// </summary>
    public static async Task WriteArm64RootfsAsync(string root)
    {
        var cached = await CachedArm64.Value;
        Directory.CreateDirectory(root);
        await ExternalTool.RunAsync("cp", "-a", cached + "/.", root);
    }

    /// <summary>What the Trusted Boot test OS prints once its unified kernel image has booted it.</summary>
    public const string TrustedBootMarker = "EF-UKI-BOOTED";

    /// <summary>The first process of the Trusted Boot test OS: the whole root filesystem is the image's initrd, so it is /init.</summary>
    public const string TrustedBootInitScript = """
        #!/bin/busybox sh
        /bin/busybox mount -t devtmpfs none /dev
        /bin/busybox mount -t proc none /proc
        /bin/busybox mount -t sysfs none /sys
        exec >/dev/ttyS0 2>&1
        echo "EF-CMDLINE=$(/bin/busybox cat /proc/cmdline)"
        echo "EF-MARKER=$(/bin/busybox cat /etc/edgeforge-marker)"
        echo "EF-OS-RELEASE=$(/bin/busybox head -n 1 /etc/os-release)"
        echo "EF-K3S=$(/bin/busybox readlink /usr/bin/k3s)"
        echo "EF-UKI-BOOTED"
        /bin/busybox sync
        /bin/busybox poweroff -f
        """;

    /// <summary>
    /// The test OS as a Trusted Boot base image: its root filesystem with <c>/init</c> (the initrd of a unified kernel
    /// image is the whole root filesystem), <c>/etc/os-release</c>, and Debian's systemd-boot and systemd-stub (package
    /// systemd-boot-efi) where a distribution installs them.
    /// </summary>
    public static async Task WriteTrustedBootRootfsAsync(string root)
    {
        await WriteRootfsAsync(root);
        await File.WriteAllTextAsync(Path.Combine(root, "init"), TrustedBootInitScript.Replace("\r", "", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(Path.Combine(root, "init"), (UnixFileMode)0x1ED);
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "os-release"), "NAME=\"EdgeForge test OS\"\nID=edgeforge-test\nVERSION_ID=1\nPRETTY_NAME=\"EdgeForge test OS (Trusted Boot)\"\n");
        var efi = Path.Combine(root, "usr", "lib", "systemd", "boot", "efi");
        Directory.CreateDirectory(efi);
        foreach (var name in new[] { "systemd-bootx64.efi", "linuxx64.efi.stub" })
        {
            var source = Path.Combine("/usr/lib/systemd/boot/efi", name);
            if (!File.Exists(source))
            {
                throw new FileNotFoundException($"{source} is missing: install systemd-boot-efi (scripts/test-packages.txt)");
            }

            File.Copy(source, Path.Combine(efi, name));
        }
    }

    private static Task<string> BuildCachedAsync() =>
        BuildCache.GetOrBuildAsync("test-os", [InitScript, string.Join(' ', InitramfsModules), BuildCache.Fingerprint(BusyboxRootfs.Binary), .. HostKernel.Fingerprints], async root =>
        {
            var version = HostKernel.Version;
            BusyboxRootfs.Populate(root, ["etc", "boot", "proc", "sys", "dev", "tmp", "usr/bin"], ["sh"]);
            await File.WriteAllTextAsync(Path.Combine(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
            await File.WriteAllTextAsync(Path.Combine(root, "etc", "edgeforge-marker"), Marker + "\n");
            // A Kairos-like base: the installer image must carry the agent that installs the host (a stub here).
            await File.WriteAllTextAsync(Path.Combine(root, "usr", "bin", "kairos-agent"), "#!/bin/sh\necho kairos-agent stub of the EdgeForge test OS \"$@\"\n");
            File.SetUnixFileMode(Path.Combine(root, "usr", "bin", "kairos-agent"), (UnixFileMode)0x1ED);
            File.Copy(HostKernel.ImagePath, Path.Combine(root, "boot", $"vmlinuz-{version}"));
            var initramfs = await BusyboxInitramfs.CachedAsync(InitScript, InitramfsModules, ["run", "mnt/iso", "mnt/root"]);
            File.Copy(initramfs, Path.Combine(root, "boot", $"initrd.img-{version}"));
        });

    private static async Task<string> BuildCachedArm64Async()
    {
        var packages = await DebianArm64Packages.SharedAsync();
        var kernel = packages.Kernel;
        var script = InitScriptFor("ttyAMA0");
        return await BuildCache.GetOrBuildAsync("test-os-arm64", [script, string.Join(' ', Arm64InitramfsModules), packages.Directory], async root =>
        {
            BusyboxRootfs.Populate(root, ["etc", "boot", "proc", "sys", "dev", "tmp", "usr/bin"], ["sh"], packages.BusyboxBinary);
            await File.WriteAllTextAsync(Path.Combine(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
            await File.WriteAllTextAsync(Path.Combine(root, "etc", "edgeforge-marker"), Marker + "\n");
            await File.WriteAllTextAsync(Path.Combine(root, "usr", "bin", "kairos-agent"), "#!/bin/sh\necho kairos-agent stub of the EdgeForge arm64 test OS \"$@\"\n");
            File.SetUnixFileMode(Path.Combine(root, "usr", "bin", "kairos-agent"), (UnixFileMode)0x1ED);
            File.Copy(kernel.ImagePath, Path.Combine(root, "boot", $"vmlinuz-{kernel.Version}"));
            var initramfs = await BusyboxInitramfs.CachedAsync(script, Arm64InitramfsModules, ["run", "mnt/iso", "mnt/root"], kernel, packages.BusyboxBinary);
            File.Copy(initramfs, Path.Combine(root, "boot", $"initrd.img-{kernel.Version}"));
            var grub = Path.Combine(root, DebianArm64Packages.MonolithicGrubPath);
            Directory.CreateDirectory(Path.GetDirectoryName(grub)!);
            File.Copy(packages.MonolithicGrub, grub);
        });
    }
}
