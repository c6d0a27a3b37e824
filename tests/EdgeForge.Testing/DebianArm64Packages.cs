using System.Text.RegularExpressions;

namespace EdgeForge.Testing;

/// <summary>
/// Debian's own arm64 packages, for the arm64 installer and RUN tests: fetched with <c>apt-get download</c> from the
/// machine's Debian sources (scripts/install-packages.sh adds the architecture: <c>dpkg --add-architecture arm64</c>
/// and <c>apt-get update</c>), each kept as its .deb and unpacked with <c>dpkg-deb -x</c> into a directory of its own;
/// <c>depmod</c> writes the kernel's modules.dep as the package's postinst would. Built once into the
/// <see cref="BuildCache"/>, keyed by the exact files apt would fetch (a new package version gets a new directory).
/// </summary>
public sealed partial class DebianArm64Packages
{
    /// <summary>busybox for a tiny test OS and a RUN shell (statically linked: it runs under qemu-user in any root).</summary>
    public const string Busybox = "busybox-static";

    /// <summary>GRUB for arm64 UEFI: the monolithic grubaa64.efi a CD boot needs.</summary>
    public const string Grub = "grub-efi-arm64-bin";

    /// <summary>The signed GRUB and shim, read for their file lists only (where a Debian image has them).</summary>
    public const string SignedGrub = "grub-efi-arm64-signed", Shim = "shim-signed";

    /// <summary>The kernel's metapackage; it depends on the versioned package that holds the kernel.</summary>
    private const string KernelMetapackage = "linux-image-arm64";

    private static readonly Lazy<Task<DebianArm64Packages>> Cached = new(BuildAsync);

    private DebianArm64Packages(string directory, string kernelPackage)
    {
        Directory = directory;
        KernelPackage = kernelPackage;
        var root = Unpacked(kernelPackage);
        var version = System.IO.Directory.GetDirectories(Path.Combine(root, "lib", "modules")).Select(Path.GetFileName).Single()!;
        Kernel = new DebianKernel(version, Path.Combine(root, "boot", $"vmlinuz-{version}"), Path.Combine(root, "lib", "modules", version));
    }

    public string Directory { get; }

    /// <summary>The versioned kernel package, e.g. linux-image-6.1.0-57-arm64.</summary>
    public string KernelPackage { get; }

    public DebianKernel Kernel { get; }

    public string BusyboxBinary => Path.Combine(Unpacked(Busybox), "bin", "busybox");

    /// <summary>Where grub-efi-arm64-bin installs its monolithic image, relative to a root.</summary>
    public const string MonolithicGrubPath = "usr/lib/grub/arm64-efi/monolithic/grubaa64.efi";

    public string MonolithicGrub => Path.Combine(Unpacked(Grub), MonolithicGrubPath);

    /// <summary>The package's files as it installs them.</summary>
    public string Unpacked(string package) => Path.Combine(Directory, "root", package);

    /// <summary>The package file apt fetched.</summary>
    public string Deb(string package) => Path.Combine(Directory, "debs", package + ".deb");

    public static Task<DebianArm64Packages> SharedAsync() => Cached.Value;

    private static async Task<DebianArm64Packages> BuildAsync()
    {
        var depends = await Apt("apt-cache", "depends", KernelMetapackage + ":arm64");
        var kernel = KernelDependency().Match(depends) is { Success: true } match
            ? match.Groups["package"].Value
            : throw new InvalidOperationException($"apt-cache depends {KernelMetapackage}:arm64 names no linux-image package:\n{depends}");
        string[] packages = [kernel, Busybox, Grub, SignedGrub, Shim];
        var uris = await Apt("apt-get", ["download", "--print-uris", .. packages.Select(p => p + ":arm64")]);
        var directory = await BuildCache.GetOrBuildAsync("debian-arm64-packages", [uris], async directory =>
        {
            System.IO.Directory.CreateDirectory(Path.Combine(directory, "debs"));
            System.IO.Directory.CreateDirectory(Path.Combine(directory, "root"));
            foreach (var package in packages)
            {
                var download = Path.Combine(directory, "download", package);
                System.IO.Directory.CreateDirectory(download);
                await ExternalTool.RunAsync("apt-get", new ToolOptions { WorkingDirectory = download }, "download", "-q", package + ":arm64");
                var deb = System.IO.Directory.GetFiles(download, "*.deb").Single();
                File.Move(deb, Path.Combine(directory, "debs", package + ".deb"));
                await ExternalTool.RunAsync("dpkg-deb", "-x", Path.Combine(directory, "debs", package + ".deb"), Path.Combine(directory, "root", package));
            }

            System.IO.Directory.Delete(Path.Combine(directory, "download"), recursive: true);
            var modules = Path.Combine(directory, "root", kernel, "lib", "modules");
            var version = System.IO.Directory.GetDirectories(modules).Select(Path.GetFileName).Single()!;
            await ExternalTool.RunAsync("depmod", "-b", Path.Combine(directory, "root", kernel), version);
        });
        return new DebianArm64Packages(directory, kernel);
    }

    /// <summary>apt's answer, or a failure that says how to make arm64 packages available.</summary>
    private static async Task<string> Apt(string tool, params string[] arguments)
    {
        var result = await ExternalTool.RunUncheckedAsync(tool, arguments);
        result.ExitCode.ShouldBe(0, $"{result}\narm64 packages need dpkg --add-architecture arm64 and apt-get update (scripts/install-packages.sh does both)");
        return result.Output;
    }

    [GeneratedRegex(@"Depends: (?<package>linux-image-[0-9][^\s:]*-arm64)")]
    private static partial Regex KernelDependency();
}
