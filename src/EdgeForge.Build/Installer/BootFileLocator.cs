using EdgeForge.FileTree;

namespace EdgeForge.Build.Installer;

/// <summary>
/// Finds the kernel, the initramfs and the boot loaders in an image's flattened file list (metadata only: nothing is
/// read), following symlinks and hardlinks inside the image the way the image's own root would.
/// </summary>
public sealed class BootFileLocator
{
    /// <summary>Where Kairos-style images (and the distributions they derive from) keep GRUB's BIOS images.</summary>
    public static readonly string[] EltoritoPaths =
    [
        "boot/x86_64/loader/eltorito.img", "usr/share/grub2/i386-pc/eltorito.img", "usr/lib/grub/i386-pc/eltorito.img", "boot/eltorito.img",
    ];

    public static readonly string[] BootHybridPaths =
    [
        "boot/x86_64/loader/boot_hybrid.img", "usr/share/grub2/i386-pc/boot_hybrid.img", "usr/lib/grub/i386-pc/boot_hybrid.img", "boot/boot_hybrid.img",
    ];

    /// <summary>Signed shims (openSUSE, Ubuntu/Debian, Fedora/RHEL); when one exists it becomes bootx64.efi and GRUB grubx64.efi.</summary>
    public static readonly string[] ShimPaths =
    [
        "usr/share/efi/x86_64/shim.efi", "usr/lib/shim/shimx64.efi.signed", "usr/lib/shim/shimx64.efi.signed.latest",
        "usr/lib/shim/shimx64.efi.dualsigned", "usr/lib/shim/shimx64.efi", "boot/efi/EFI/fedora/shimx64.efi", "boot/efi/EFI/redhat/shimx64.efi",
    ];

    public static readonly string[] GrubEfiPaths =
    [
        "usr/share/efi/x86_64/grub.efi", "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", "usr/lib/grub/x86_64-efi/monolithic/grubx64.efi",
        "boot/efi/EFI/fedora/grubx64.efi", "boot/efi/EFI/redhat/grubx64.efi", "usr/share/grub2/x86_64-efi/grub.efi", "EFI/BOOT/bootx64.efi",
    ];

    /// <summary>
    /// The arm64 shims: openSUSE (shim, <c>/usr/share/efi/aarch64</c>), Debian/Ubuntu (shim-signed:arm64 installs
    /// <c>shimaa64.efi.signed</c>; Ubuntu adds <c>.latest</c>), Fedora/RHEL (shim-aa64 under <c>/boot/efi/EFI</c>).
    /// </summary>
    public static readonly string[] Arm64ShimPaths =
    [
        "usr/share/efi/aarch64/shim.efi", "usr/lib/shim/shimaa64.efi.signed", "usr/lib/shim/shimaa64.efi.signed.latest",
        "usr/lib/shim/shimaa64.efi.dualsigned", "usr/lib/shim/shimaa64.efi", "boot/efi/EFI/fedora/shimaa64.efi", "boot/efi/EFI/redhat/shimaa64.efi",
    ];

    /// <summary>
    /// The arm64 GRUB images: openSUSE (grub2-arm64-efi), Debian/Ubuntu (grub-efi-arm64-signed's
    /// <c>arm64-efi-signed/grubaa64.efi.signed</c>, grub-efi-arm64-bin's monolithic <c>grubaa64.efi</c>, which
    /// carries the modules a CD boot needs and falls back to <c>$cmdpath/grub.cfg</c>), Fedora/RHEL (grub2-efi-aa64).
    /// </summary>
    public static readonly string[] Arm64GrubEfiPaths =
    [
        "usr/share/efi/aarch64/grub.efi", "usr/lib/grub/arm64-efi-signed/grubaa64.efi.signed", "usr/lib/grub/arm64-efi/monolithic/grubaa64.efi",
        "boot/efi/EFI/fedora/grubaa64.efi", "boot/efi/EFI/redhat/grubaa64.efi", "usr/share/grub2/arm64-efi/grub.efi", "EFI/BOOT/bootaa64.efi",
    ];

    private readonly Dictionary<string, FileTreeEntry> _entries;

    public BootFileLocator(IReadOnlyList<FileTreeEntry> entries)
    {
        _entries = new Dictionary<string, FileTreeEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            _entries[entry.Path] = entry;
        }
    }

    /// <summary>The regular file a path names after following links, or null when it names nothing readable.</summary>
    public FileTreeEntry? Resolve(string path)
    {
        for (var hops = 0; hops < 16; hops++)
        {
            if (!_entries.TryGetValue(path, out var entry))
            {
                return null;
            }

            switch (entry.Kind)
            {
                case FileTreeEntryKind.RegularFile:
                    return entry;
                case FileTreeEntryKind.Hardlink when entry.LinkTarget is { } target:
                    path = Normalise(target);
                    break;
                case FileTreeEntryKind.Symlink when entry.LinkTarget is { } target:
                    path = Normalise(target.StartsWith('/') ? target : (entry.ParentPath.Length == 0 ? target : entry.ParentPath + "/" + target));
                    break;
                default:
                    return null;
            }
        }

        return null;
    }

    /// <summary>The first of <paramref name="candidates"/> that resolves to a regular file.</summary>
    public FileTreeEntry? First(IEnumerable<string> candidates) => candidates.Select(Resolve).FirstOrDefault(e => e is not null);

    /// <summary>
    /// The kernel: <c>/boot/kernel</c> or <c>/boot/vmlinuz</c> (Kairos links them to the installed version), else the
    /// newest <c>/boot/vmlinuz-VERSION</c>.
    /// </summary>
    public FileTreeEntry? Kernel(out string? version)
    {
        version = null;
        if (First(["boot/kernel", "boot/vmlinuz"]) is { } fixedName)
        {
            return fixedName;
        }

        var versioned = BootNames("vmlinuz-").OrderByDescending(n => n, VersionComparer.Instance).FirstOrDefault();
        if (versioned is null)
        {
            return null;
        }

        version = versioned["vmlinuz-".Length..];
        return Resolve("boot/" + versioned);
    }

    /// <summary>The initramfs matching the kernel's version when there is one (Debian initrd.img-V, Fedora initramfs-V.img), else the fixed names, else the newest.</summary>
    public FileTreeEntry? Initrd(string? kernelVersion)
    {
        if (kernelVersion is not null && First([$"boot/initrd.img-{kernelVersion}", $"boot/initrd-{kernelVersion}", $"boot/initramfs-{kernelVersion}.img"]) is { } matching)
        {
            return matching;
        }

        if (First(["boot/initrd", "boot/initrd.img", "boot/initramfs.img", "boot/initramfs"]) is { } fixedName)
        {
            return fixedName;
        }

        return BootNames("initrd").Concat(BootNames("initramfs"))
            .OrderByDescending(n => n, VersionComparer.Instance)
            .Select(n => Resolve("boot/" + n))
            .FirstOrDefault(e => e is not null);
    }

    private IEnumerable<string> BootNames(string prefix) => _entries.Keys
        .Where(p => p.StartsWith("boot/" + prefix, StringComparison.Ordinal) && p.IndexOf('/', 5) < 0)
        .Select(p => p[5..]);

    private static string Normalise(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else if (part != ".")
            {
                parts.Add(part);
            }
        }

        return string.Join('/', parts);
    }

    /// <summary>Orders <c>vmlinuz-6.1.0-9</c> before <c>vmlinuz-6.1.0-10</c>: digit runs compare as numbers.</summary>
    private sealed class VersionComparer : IComparer<string>
    {
        public static readonly VersionComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            x ??= "";
            y ??= "";
            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
                {
                    var si = i;
                    var sj = j;
                    while (i < x.Length && char.IsAsciiDigit(x[i])) i++;
                    while (j < y.Length && char.IsAsciiDigit(y[j])) j++;
                    var a = x[si..i].TrimStart('0');
                    var b = y[sj..j].TrimStart('0');
                    var byLength = a.Length.CompareTo(b.Length);
                    if (byLength != 0) return byLength;
                    var byDigits = string.CompareOrdinal(a, b);
                    if (byDigits != 0) return byDigits;
                }
                else
                {
                    if (x[i] != y[j]) return x[i].CompareTo(y[j]);
                    i++;
                    j++;
                }
            }

            return (x.Length - i).CompareTo(y.Length - j);
        }
    }
}
