using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// The test OS of issue 6, from Debian packages only: the machine's linux-image-amd64 kernel in /boot, a busybox-static
/// initramfs whose /init finds the installer medium by its label (the <c>root=live:CDLABEL=…</c> argument of the GRUB
/// menu), mounts the ISO and <c>/rootfs.squashfs</c>, and prints <c>/config.yaml</c> and a marker from inside the SquashFS
/// on the serial port; and a BOOT_ASSETS directory of GRUB images from grub-pc-bin and grub-efi-amd64-bin.
/// </summary>
internal static class TestOs
{
    public const string Marker = "edgeforge-marker: squashfs root of the EdgeForge test OS";
    private const string GrubPc = "/usr/lib/grub/i386-pc";

    /// <summary>Writes the root filesystem (busybox, /etc/edgeforge-marker, /boot/vmlinuz-V, /boot/initrd.img-V) into <paramref name="root"/>.</summary>
    public static async Task WriteRootfsAsync(string root, string scratch)
    {
        var version = KernelVersion();
        foreach (var dir in new[] { "bin", "etc", "boot", "proc", "sys", "dev", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(root, dir));
        }

        File.Copy(Busybox(), Path.Combine(root, "bin", "busybox"));
        File.SetUnixFileMode(Path.Combine(root, "bin", "busybox"), (UnixFileMode)0x1ED);
        File.CreateSymbolicLink(Path.Combine(root, "bin", "sh"), "busybox");
        File.WriteAllText(Path.Combine(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        File.WriteAllText(Path.Combine(root, "etc", "edgeforge-marker"), Marker + "\n");
        // A Kairos-like base: the installer image must carry the agent that installs the host (a stub here).
        Directory.CreateDirectory(Path.Combine(root, "usr", "bin"));
        File.WriteAllText(Path.Combine(root, "usr", "bin", "kairos-agent"), "#!/bin/sh\necho kairos-agent stub of the EdgeForge test OS \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(root, "usr", "bin", "kairos-agent"), (UnixFileMode)0x1ED);
        File.Copy($"/boot/vmlinuz-{version}", Path.Combine(root, "boot", $"vmlinuz-{version}"));
        await BuildInitramfsAsync(Path.Combine(scratch, "initramfs"), version, Path.Combine(root, "boot", $"initrd.img-{version}"));
    }

    /// <summary>
    /// eltorito.img = cdboot.img + an i386-pc core.img with prefix /boot/grub2 (§6), boot_hybrid.img, and an x86_64-efi
    /// GRUB as EFI/BOOT/bootx64.efi with the stub embedded (no shim, so no grubx64.efi).
    /// </summary>
    public static async Task WriteBootAssetsAsync(string directory)
    {
        Directory.CreateDirectory(Path.Combine(directory, "EFI", "BOOT"));
        File.Exists(Path.Combine(GrubPc, "cdboot.img")).ShouldBeTrue("grub-pc-bin is needed (scripts/test-packages.txt)");
        var core = Path.Combine(directory, "..", "core.img");
        await ExternalTool.RunAsync("grub-mkimage", "-O", "i386-pc", "-p", "/boot/grub2", "-o", core,
            "biosdisk", "iso9660", "part_msdos", "part_gpt", "normal", "search", "search_fs_file", "configfile", "linux", "echo", "test",
            "serial", "terminal", "all_video", "font", "gzio");
        await using (var output = File.Create(Path.Combine(directory, "eltorito.img")))
        {
            foreach (var part in new[] { Path.Combine(GrubPc, "cdboot.img"), core })
            {
                await using var input = File.OpenRead(part);
                await input.CopyToAsync(output);
            }
        }

        File.Copy(Path.Combine(GrubPc, "boot_hybrid.img"), Path.Combine(directory, "boot_hybrid.img"));
        var stub = Path.Combine(directory, "..", "stub.cfg");
        await File.WriteAllTextAsync(stub, EdgeForge.Build.Installer.GrubMenu.StubConfig);
        await ExternalTool.RunAsync("grub-mkimage", "-O", "x86_64-efi", "-p", "/EFI/BOOT", "-c", stub, "-o", Path.Combine(directory, "EFI", "BOOT", "bootx64.efi"),
            "iso9660", "part_gpt", "part_msdos", "fat", "normal", "search", "search_fs_file", "configfile", "linux", "echo", "test",
            "serial", "terminal", "efi_gop", "all_video", "font", "gzio");
    }

    public static string KernelVersion()
    {
        var version = Directory.Exists("/lib/modules")
            ? Directory.GetDirectories("/lib/modules").Select(Path.GetFileName).Where(v => File.Exists($"/boot/vmlinuz-{v}")).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        version.ShouldNotBeNull("no /boot/vmlinuz-* with modules: install linux-image-amd64 (scripts/test-packages.txt)");
        return version!;
    }

    private static string Busybox() => new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException("busybox is missing: install busybox-static (scripts/test-packages.txt)");

    private static async Task BuildInitramfsAsync(string directory, string version, string output)
    {
        var root = Path.Combine(directory, "root");
        foreach (var dir in new[] { "bin", "proc", "sys", "dev", "run", "etc", "lib/modules", "mnt/iso", "mnt/root" })
        {
            Directory.CreateDirectory(Path.Combine(root, dir));
        }

        File.Copy(Busybox(), Path.Combine(root, "bin", "busybox"));
        File.SetUnixFileMode(Path.Combine(root, "bin", "busybox"), (UnixFileMode)0x1ED);

        // Modules in dependency order (modules.dep): CD (IDE/AHCI), virtio disk, ISO 9660, loop and SquashFS.
        var moduleDirectory = $"/lib/modules/{version}";
        var dependencies = File.ReadAllLines(Path.Combine(moduleDirectory, "modules.dep"))
            .Select(l => l.Split(':'))
            .ToDictionary(p => p[0], p => p[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var order = new List<string>();
        void Add(string module)
        {
            if (order.Contains(module))
            {
                return;
            }

            foreach (var dependency in dependencies[module])
            {
                Add(dependency);
            }

            order.Add(module);
        }

        var builtin = File.ReadAllText(Path.Combine(moduleDirectory, "modules.builtin"));
        foreach (var name in new[] { "cdrom", "sr_mod", "ata_piix", "ata_generic", "ahci", "crc64_rocksoft_generic", "crct10dif_generic", "sd_mod",
                     "virtio_pci", "virtio_blk", "virtio_scsi", "isofs", "loop", "squashfs" })
        {
            var module = dependencies.Keys.FirstOrDefault(k => Path.GetFileName(k).Split('.')[0].Replace('-', '_') == name);
            if (module is null)
            {
                builtin.ShouldContain($"/{name}.ko", customMessage: $"kernel module {name} is neither a module nor built in");
                continue;
            }

            Add(module);
        }

        var names = new List<string>();
        foreach (var module in order)
        {
            var name = Path.GetFileName(module).Split('.')[0];
            var target = Path.Combine(root, "lib", "modules", name + ".ko");
            var source = Path.Combine(moduleDirectory, module);
            if (module.EndsWith(".xz", StringComparison.Ordinal))
            {
                await ExternalTool.RunAsync("sh", "-c", $"xz -dc '{source}' > '{target}'");
            }
            else if (module.EndsWith(".zst", StringComparison.Ordinal))
            {
                await ExternalTool.RunAsync("sh", "-c", $"zstd -qdc '{source}' > '{target}'");
            }
            else
            {
                File.Copy(source, target);
            }

            names.Add(name);
        }

        File.WriteAllLines(Path.Combine(root, "etc", "modules.load"), names);

        // The installer menu sends /dev/console to tty0 on UEFI (console=tty0 comes last), so the init writes to the
        // serial port itself. It finds the medium as dmsquash-live does: by the CDLABEL of root=live:CDLABEL=…, with a
        // scan of the block devices as the fallback (a label can take a moment to appear).
        await File.WriteAllTextAsync(Path.Combine(root, "init"), """
            #!/bin/busybox sh
            /bin/busybox --install -s /bin
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev
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
            """.Replace("\r", "") + "\n");
        File.SetUnixFileMode(Path.Combine(root, "init"), (UnixFileMode)0x1ED);
        await ExternalTool.RunAsync("sh", "-c", $"cd '{root}' && find . | sort | cpio -o -H newc --owner=0:0 --quiet | gzip -1 -n > '{output}'");
    }
}
