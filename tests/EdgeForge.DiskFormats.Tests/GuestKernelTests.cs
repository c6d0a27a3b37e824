using System.Globalization;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>
/// The Linux kernel's own isofs reading our images: Debian's kernel (linux-image-amd64) boots in QEMU with a busybox
/// initramfs, mounts the rich image with Rock Ridge and with Joliet, and the hybrid image's GPT partition 1 (the second
/// superblock), and prints what stat(2) says about every name on the serial console. This is the kernel mount the
/// build sandbox's own kernel (no isofs) cannot do.
/// </summary>
[Trait("Tier", "Heavy")]
public sealed class GuestKernelTests(RichTreeImage image) : IClassFixture<RichTreeImage>
{
    [Fact]
    public async Task The_linux_kernel_mounts_our_images_and_sees_every_rock_ridge_and_joliet_name()
    {
        var inputs = await HybridIsoBuilder.PrepareAsync(image.Scratch("hybrid-" + Guid.NewGuid().ToString("N")), "echo hi\n");
        var hybrid = image.Scratch("hybrid-" + Guid.NewGuid().ToString("N") + ".iso");
        await HybridIsoBuilder.WriteOursAsync(inputs, hybrid);
        var initrd = await BusyboxInitramfs.CachedAsync(InitScript, ["isofs", "nls_utf8", "virtio_pci", "virtio_blk"], ["mnt"]);

        using var guest = QemuMachine.Start(new QemuOptions
        {
            Kernel = HostKernel.ImagePath, Initrd = initrd, KernelArguments = "console=ttyS0 panic=-1 quiet loglevel=1", Disks = [image.ImagePath, hybrid],
        });
        // A cap for a hung guest, not a speed requirement.
        var serial = guest.WaitFor(["EF-DONE"], TimeSpan.FromSeconds(90));
        serial.ShouldContain("EF-DONE", customMessage: serial.Length > 4000 ? serial[^4000..] : serial);
        var seen = Parse(serial);

        // Rock Ridge, as the kernel presents it.
        var rockRidge = seen["rr"];
        rockRidge.Keys.Order(StringComparer.Ordinal).ShouldBe(image.Source.Entries.Select(e => e.Path).Order(StringComparer.Ordinal));
        foreach (var entry in image.Source.Entries)
        {
            var s = rockRidge[entry.Path];
            (s.Mode & 0xFFF, s.Uid, s.Gid).ShouldBe((entry.Kind == FileTreeEntryKind.Symlink ? 0x1FF : entry.Mode, entry.Uid, entry.Gid), entry.Path);
            switch (entry.Kind)
            {
                case FileTreeEntryKind.RegularFile:
                    s.Size.ShouldBe(entry.Size, entry.Path);
                    break;
                case FileTreeEntryKind.Hardlink:
                    s.Links.ShouldBe(2, entry.Path);
                    break;
                case FileTreeEntryKind.Symlink:
                    s.LinkTarget.ShouldBe(entry.LinkTarget, entry.Path);
                    break;
                case FileTreeEntryKind.CharacterDevice or FileTreeEntryKind.BlockDevice:
                    (s.Major, s.Minor).ShouldBe((entry.DeviceMajor, entry.DeviceMinor), entry.Path);
                    break;
            }
        }

        // Joliet (mounted again with norock; the first mount is gone, else the kernel reuses its superblock): directories
        // and files under their UCS-2 names.
        seen["joliet"].Keys.Order(StringComparer.Ordinal).ShouldBe(image.Source.Entries
            .Where(e => e.Kind is FileTreeEntryKind.Directory or FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink)
            .Select(e => string.Join('/', e.Path.Split('/').Select(IsoIdentifiers.JolietNameOf)))
            .Order(StringComparer.Ordinal));

        // GPT partition 1 of the hybrid image is an ISO 9660 filesystem of its own.
        seen["part"].Keys.ShouldContain("boot/kernel");
        seen["part"].Keys.ShouldContain("boot/grub2/grub.cfg");
        seen["part"]["boot/kernel"].Size.ShouldBe(20);
    }

    private sealed record GuestStat(int Mode, int Uid, int Gid, long Size, int Links, int Major, int Minor, string LinkTarget);

    private static Dictionary<string, Dictionary<string, GuestStat>> Parse(string serial)
    {
        var result = new Dictionary<string, Dictionary<string, GuestStat>> { ["rr"] = [], ["joliet"] = [], ["part"] = [] };
        foreach (var raw in serial.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var at = line.IndexOf("EF|", StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            var f = line[(at + 3)..].Split('|');
            if (f.Length < 10 || !result.TryGetValue(f[0], out var table))
            {
                continue;
            }

            var path = f[8].StartsWith("./", StringComparison.Ordinal) ? f[8][2..] : f[8];
            table[path] = new GuestStat(Convert.ToInt32(f[1], 16), int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture),
                long.Parse(f[4], CultureInfo.InvariantCulture), int.Parse(f[5], CultureInfo.InvariantCulture),
                Convert.ToInt32(f[6], 16), Convert.ToInt32(f[7], 16), f[9]);
        }

        return result;
    }

    /// <summary>
    /// The guest's init script: loads the modules, mounts the rich image with Rock Ridge, then again with Joliet (norock; the first mount is
    /// gone, else the kernel reuses its superblock), and the hybrid image's GPT partition 1, printing what stat(2) says
    /// about every name as "EF|mount|mode|uid|gid|size|links|major|minor|path|target" lines.
    /// </summary>
    private const string InitScript = """
        for m in $(cat /etc/modules.load); do insmod /lib/modules/$m.ko; done
        i=0
        while [ ! -b /dev/vdb1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        list() {
          cd "$1" && find . -mindepth 1 | sort | while read -r p; do
            t=""
            [ -L "$p" ] && t=$(readlink "$p")
            echo "EF|$2|$(stat -c '%f|%u|%g|%s|%h|%t|%T' "$p")|$p|$t"
          done
          cd /
        }
        mkdir -p /mnt/rr /mnt/joliet /mnt/part
        mount -t iso9660 -o ro /dev/vda /mnt/rr && list /mnt/rr rr && umount /mnt/rr
        mount -t iso9660 -o ro,norock,iocharset=utf8 /dev/vda /mnt/joliet && list /mnt/joliet joliet
        mount -t iso9660 -o ro /dev/vdb1 /mnt/part && list /mnt/part part
        echo EF-DONE
        poweroff -f
        """;
}
