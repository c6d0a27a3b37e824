using System.Text;
using EdgeForge.Build.Composition;
using EdgeForge.Compression;
using EdgeForge.Configuration.Arguments;
using EdgeForge.DiskFormats.Cpio;
using EdgeForge.DiskFormats.Fat;
using EdgeForge.FileTree;

namespace EdgeForge.Build.Installer;

/// <summary>
/// The boot side of a Trusted Boot installer (CanvOS <c>+build-uki-iso</c>, which runs AuroraBoot's <c>build-uki</c>):
/// the whole installer root filesystem becomes the initrd of one unified kernel image, signed with the project's db
/// key, started by systemd-boot (signed with the same key) from an EFI system partition that also carries the key set
/// for enrolment. Facts from AuroraBoot's pkg/uki and pkg/constants; the files are written by our own code.
/// </summary>
public static class TrustedBootMedia
{
    /// <summary>AuroraBoot's <c>UkiCmdline</c>: what every Kairos unified kernel image boots with.</summary>
    public const string KairosCommandLine = "console=ttyS0 console=tty1 net.ifnames=1 rd.immucore.oemlabel=COS_OEM rd.immucore.oemtimeout=2 " +
                                            "rd.immucore.uki selinux=0 panic=5 rd.shell=0 systemd.crash_reboot=yes";

    /// <summary>AuroraBoot's <c>UkiCmdlineInstall</c>: the installer's image boots into the installer.</summary>
    public const string InstallModeArgument = "install-mode";

    /// <summary>AuroraBoot's <c>ArtifactBaseName</c>: the default ("no role") image and its loader entry.</summary>
    public const string EntryName = "norole";

    /// <summary>What the interactive installer boots with (Kairos's installer stage starts it on this word, as the GRUB ISO's third entry).</summary>
    public const string InteractiveArgument = "interactive-install";

    /// <summary>AuroraBoot's name for the image of an extra command line <c>interactive-install</c> (NameFromCmdline).</summary>
    public const string InteractiveEntryName = EntryName + "_" + InteractiveArgument;

    /// <summary>One signed image of a medium and its loader entry: <c>EFI/kairos/NAME.efi</c>, <c>loader/entries/NAME.conf</c>.</summary>
    public sealed record BootEntry(string Name, string Title, string CommandLine);

    /// <summary>
    /// The installer's images: the automatic installer (CanvOS's one entry); with <c>FORCE_INTERACTIVE_INSTALL=true</c>
    /// also the interactive installer, which <see cref="LoaderConfiguration(bool, string?)"/> then makes the default.
    /// The command line is signed into each image, so each entry is a whole image: the second doubles the partition.
    /// </summary>
    public static IReadOnlyList<BootEntry> InstallerEntries(TrustedBootSettings settings, bool interactive)
    {
        var install = new BootEntry(EntryName, settings.Branding, CommandLine(settings));
        return interactive
            ? [install, new BootEntry(InteractiveEntryName, settings.Branding + " (interactive install)", install.CommandLine + " " + InteractiveArgument)]
            : [install];
    }

    /// <summary>A provider image's one image (CanvOS's build-provider-trustedboot-image).</summary>
    public static IReadOnlyList<BootEntry> ProviderEntries => [new BootEntry(EntryName, ProviderBranding, ProviderCommandLine)];

    public const string EspLabel = "UKI_EFI";

    /// <summary>The systemd-boot and systemd-stub binaries of a distribution's <c>systemd-boot-efi</c> package.</summary>
    public static readonly string[] BootLoaderPaths = ["usr/lib/systemd/boot/efi/systemd-bootx64.efi"];

    public static readonly string[] StubPaths = ["usr/lib/systemd/boot/efi/linuxx64.efi.stub"];

    /// <summary>The names a <c>BOOT_ASSETS</c> directory or image holds them under (at its root).</summary>
    public const string BootLoaderAssetName = "systemd-bootx64.efi", StubAssetName = "linuxx64.efi.stub";

    /// <summary>Directories whose contents a running system makes (AuroraBoot's initramfs leaves them out).</summary>
    private static readonly string[] RuntimeDirectories = ["proc", "sys", "dev", "run", "tmp"];

    /// <summary>
    /// The command line of a provider image's unified kernel image: AuroraBoot's default, as CanvOS's
    /// build-provider-trustedboot-image passes no extension (<c>CMDLINE</c> is the installer's).
    /// </summary>
    public const string ProviderCommandLine = KairosCommandLine + " " + InstallModeArgument;

    /// <summary>The full kernel command line of the installer's image: Kairos's, install mode, then <c>CMDLINE</c>.</summary>
    public static string CommandLine(TrustedBootSettings settings) =>
        string.Join(' ', new[] { KairosCommandLine, InstallModeArgument, settings.ExtraCommandLine }.Where(p => p.Length > 0));

    /// <summary>
    /// The installer root filesystem as the unified kernel image's initrd sees it (AuroraBoot createInitramfs and
    /// setupDirectoriesAndFiles): without <c>/boot</c> (the kernel is its own section) and without what proc, sys, dev,
    /// run and tmp hold; with <c>/init</c> → <c>/usr/bin/immucore</c> when the image has no <c>/init</c>, and the mount
    /// points <c>/oem</c>, <c>/efi</c>, <c>/usr/local/cloud-config</c>.
    /// </summary>
    /// <remarks>
    /// The directories proc, sys, dev, run and tmp themselves stay (empty), so the first process has its mount points;
    /// owners and times stay the image's (AuroraBoot zeroes them to work around its cpio library, which would give
    /// files of system users to root).
    /// </remarks>
    public static IFileTreeSource InitrdTree(IFileTreeSource installer, long time)
    {
        var paths = installer.Entries.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        var extra = new InMemoryFileTreeSource();
        if (!paths.Contains("init"))
        {
            extra.AddSymlink("init", "/usr/bin/immucore", modificationTime: time);
        }

        foreach (var directory in new[] { "oem", "efi", "usr/local/cloud-config" }.Where(d => !paths.Contains(d)))
        {
            extra.AddDirectory(directory, modificationTime: time);
        }

        return MappedFileTree.Create(installer, path =>
        {
            if (path == "boot" || path.StartsWith("boot/", StringComparison.Ordinal))
            {
                return null;
            }

            var slash = path.IndexOf('/');
            return slash > 0 && RuntimeDirectories.Contains(path[..slash]) ? null : path;
        }, extra);
    }

    /// <summary>
    /// Writes the initrd: <see cref="InitrdTree"/> as newc cpio, zstd-compressed on every core. Level 11: AuroraBoot asks
    /// its zstd library for "best compression", which is about libzstd's 11; higher levels would take minutes for a
    /// root filesystem and gain little, and the kernel unpacks any level (window sizes stay far below its limit).
    /// </summary>
    public static async Task<(long Archive, long Compressed, int Entries)> WriteInitrdAsync(IFileTreeSource tree, string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        CpioWriteResult result;
        await using (var zstd = new ZstdCompressStream(file, level: 11, workers: Environment.ProcessorCount, leaveOpen: true))
        {
            result = await CpioNewcWriter.WriteAsync(tree, zstd, cancellationToken).ConfigureAwait(false);
        }

        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        return (result.Length, file.Length, result.Entries);
    }

    /// <summary>
    /// systemd-boot's loader.conf as AuroraBoot writes it. <c>secure-boot-enroll force</c> enrols the keys of
    /// <c>loader/keys/auto</c> on a machine in Setup Mode without asking (<c>AUTO_ENROLL_SECUREBOOT_KEYS=true</c>);
    /// without it CanvOS leaves AuroraBoot's default, <c>if-safe</c> (automatic only in a virtual machine, else a menu
    /// entry; systemd-boot before 253 does not know it and offers the menu entry).
    /// </summary>
    /// <remarks><paramref name="defaultEntry"/> names the entry systemd-boot starts when the timeout expires (else the first).</remarks>
    public static string LoaderConfiguration(bool autoEnroll, string? defaultEntry = null) =>
        $"timeout 5\nconsole-mode max\neditor no\nsecure-boot-enroll {(autoEnroll ? "force" : "if-safe")}\n" +
        (defaultEntry is null ? "" : $"default {defaultEntry}.conf\n");

    /// <summary>The installer's loader.conf: the interactive entry is the default when there is one.</summary>
    public static string LoaderConfiguration(TrustedBootSettings settings, IReadOnlyList<BootEntry> entries) =>
        LoaderConfiguration(settings.AutoEnrollKeys, entries.Any(e => e.Name == InteractiveEntryName) ? InteractiveEntryName : null);

    /// <summary>
    /// The Boot Loader Specification type #1 entry of the image. <c>efi</c> rather than AuroraBoot's <c>uki</c> key:
    /// <c>uki</c> needs systemd-boot 257, while the loader here comes from the installer image, which may be older, and
    /// every version starts an <c>efi</c> entry the same way.
    /// </summary>
    public static string LoaderEntry(BootEntry entry, int index) => $"title {entry.Title}\nsort-key {EntryName}-{index}\nefi /{ImagePath(entry.Name)}\n";

    /// <summary>Where an image sits on the partition.</summary>
    public static string ImagePath(string name) => $"EFI/kairos/{name}.efi";

    /// <summary>The title CanvOS's build-provider-trustedboot-image gives every provider image (<c>--boot-branding</c>, not <c>BRANDING</c>).</summary>
    public const string ProviderBranding = "Palette eXtended Kubernetes Edge";

    /// <summary>Where systemd-boot sits on the partition: the removable-media path, which firmware starts without a boot entry.</summary>
    public const string BootLoaderEspPath = "EFI/BOOT/BOOTX64.EFI";

    /// <summary>A directory (no content) or a small file of the boot file layout.</summary>
    public sealed record BootFile(string Path, byte[]? Content);

    /// <summary>
    /// The boot file layout besides the binaries at <see cref="BootLoaderEspPath"/> and <see cref="ImagePath"/>
    /// (AuroraBoot imageFiles, the same for the ISO's partition and a provider image's <c>/trusted-boot</c>): the
    /// directories, the loader configuration and entries, and PK/KEK/db updates under loader/keys/auto (always: with
    /// auto-enrolment off systemd-boot offers them as a menu entry).
    /// </summary>
    public static IReadOnlyList<BootFile> BootFiles(string loaderConfiguration, IReadOnlyList<BootEntry> entries, IReadOnlyDictionary<string, string> enrolment)
    {
        var files = new List<BootFile>
        {
            new("EFI", null), new("EFI/BOOT", null), new("EFI/kairos", null), new("EFI/tools", null),
            new("loader", null), new("loader/entries", null), new("loader/keys", null), new("loader/keys/auto", null),
            new("loader/loader.conf", Encoding.UTF8.GetBytes(loaderConfiguration)),
        };
        files.AddRange(entries.Select((entry, index) => new BootFile($"loader/entries/{entry.Name}.conf", Encoding.UTF8.GetBytes(LoaderEntry(entry, index)))));
        files.AddRange(enrolment.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new BootFile($"loader/keys/auto/{e.Key}", File.ReadAllBytes(e.Value))));
        return files;
    }

    /// <summary>The EFI system partition of the Trusted Boot ISO: the binaries and <see cref="BootFiles"/>.</summary>
    public static async Task<long> WriteEspAsync(string path, UnifiedKernelImageFiles images, string loaderConfiguration,
        IReadOnlyDictionary<string, string> enrolment, long time, CancellationToken cancellationToken)
    {
        var fat = new FatImageWriter(new FatImageOptions { Label = EspLabel, Timestamp = time });
        foreach (var file in BootFiles(loaderConfiguration, images.Images.Select(i => i.Entry).ToList(), enrolment))
        {
            if (file.Content is null)
            {
                fat.AddDirectory(file.Path);
            }
            else
            {
                fat.AddFile(file.Path, file.Content);
            }
        }

        fat.AddFile(BootLoaderEspPath, images.BootLoader);
        foreach (var image in images.Images)
        {
            fat.AddFile(ImagePath(image.Entry.Name), image.Path);
        }

        await using var esp = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        await fat.WriteAsync(esp, cancellationToken).ConfigureAwait(false);
        return esp.Length;
    }

    /// <summary>
    /// The same layout as a tree under <paramref name="prefix"/> (a provider image's <c>/trusted-boot</c>), owned by
    /// root, files 0644 and directories 0755 as AuroraBoot creates them; the binaries are read from where they were written.
    /// </summary>
    public static IFileTreeSource BootFileTree(string prefix, UnifiedKernelImageFiles images, string loaderConfiguration,
        IReadOnlyDictionary<string, string> enrolment, long time)
    {
        var small = new InMemoryFileTreeSource().AddDirectory(prefix, modificationTime: time);
        foreach (var file in BootFiles(loaderConfiguration, images.Images.Select(i => i.Entry).ToList(), enrolment))
        {
            if (file.Content is null)
            {
                small.AddDirectory(prefix + "/" + file.Path, modificationTime: time);
            }
            else
            {
                small.AddFile(prefix + "/" + file.Path, file.Content, modificationTime: time);
            }
        }

        // The binaries stay where the build wrote them (images are hundreds of megabytes): mapped, not copied.
        var directory = Path.GetDirectoryName(images.BootLoader)!;
        if (images.Images.Any(i => Path.GetDirectoryName(i.Path) != directory))
        {
            throw new ArgumentException("the boot loader and the images must be written to one directory", nameof(images));
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal) { [Path.GetFileName(images.BootLoader)] = prefix + "/" + BootLoaderEspPath };
        foreach (var image in images.Images)
        {
            names[Path.GetFileName(image.Path)] = prefix + "/" + ImagePath(image.Entry.Name);
        }

        return MappedFileTree.Create(new DirectoryFileTreeSource(directory, readExtendedAttributes: false), path => names.GetValueOrDefault(path), small,
            entry => names.ContainsValue(entry.Path) ? entry with { Uid = 0, Gid = 0, Mode = 0x1A4, ModificationTime = time } : entry);
    }
}
