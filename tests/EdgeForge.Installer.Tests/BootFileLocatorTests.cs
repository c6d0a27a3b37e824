using EdgeForge.Build.Installer;
using EdgeForge.FileTree;

namespace EdgeForge.Installer.Tests;

public sealed class BootFileLocatorTests
{
    private static FileTreeEntry File(string path) => new() { Path = path, Kind = FileTreeEntryKind.RegularFile, Size = 1 };

    private static FileTreeEntry Link(string path, string target) => new() { Path = path, Kind = FileTreeEntryKind.Symlink, LinkTarget = target };

    [Fact]
    public void The_newest_versioned_kernel_and_its_own_initramfs_are_chosen_without_fixed_names()
    {
        var locator = new BootFileLocator([
            File("boot/vmlinuz-6.1.0-9-amd64"), File("boot/vmlinuz-6.1.0-10-amd64"),
            File("boot/initrd.img-6.1.0-9-amd64"), File("boot/initrd.img-6.1.0-10-amd64"), File("boot/config-6.1.0-10-amd64"),
        ]);
        locator.Kernel(out var version)!.Path.ShouldBe("boot/vmlinuz-6.1.0-10-amd64");
        version.ShouldBe("6.1.0-10-amd64");
        locator.Initrd(version)!.Path.ShouldBe("boot/initrd.img-6.1.0-10-amd64");
    }

    [Fact]
    public void Kairos_links_are_followed_relative_and_absolute()
    {
        var locator = new BootFileLocator([
            Link("boot/vmlinuz", "vmlinuz-6.8.0-45-generic"), File("boot/vmlinuz-6.8.0-45-generic"),
            Link("boot/initrd", "/boot/initrd-6.8.0-45-generic"), File("boot/initrd-6.8.0-45-generic"),
            Link("usr/lib/shim/shimx64.efi.signed.latest", "../../../usr/lib/shim/shimx64.efi.signed.real"), File("usr/lib/shim/shimx64.efi.signed.real"),
        ]);
        locator.Kernel(out var version)!.Path.ShouldBe("boot/vmlinuz-6.8.0-45-generic");
        version.ShouldBeNull();
        locator.Initrd(version)!.Path.ShouldBe("boot/initrd-6.8.0-45-generic");
        locator.First(BootFileLocator.ShimPaths)!.Path.ShouldBe("usr/lib/shim/shimx64.efi.signed.real");
    }

    [Fact]
    public void Arm64_loaders_are_looked_for_at_arm64_paths_only_and_shim_wins_over_grub()
    {
        var locator = new BootFileLocator([
            File("usr/lib/grub/x86_64-efi/monolithic/grubx64.efi"), File("usr/lib/shim/shimx64.efi.signed"),
            File("usr/lib/grub/arm64-efi/monolithic/grubaa64.efi"), File("usr/lib/grub/arm64-efi-signed/grubaa64.efi.signed"),
        ]);
        locator.First(BootArchitecture.Arm64.GrubEfiPaths)!.Path.ShouldBe("usr/lib/grub/arm64-efi-signed/grubaa64.efi.signed");
        locator.First(BootArchitecture.Arm64.ShimPaths).ShouldBeNull();
        BootArchitecture.For("arm64").ShouldBe(BootArchitecture.Arm64);
        BootArchitecture.Arm64.EfiLoaderPath.ShouldBe("EFI/BOOT/bootaa64.efi");
        BootArchitecture.Arm64.HasBios.ShouldBeFalse();

        var withShim = new BootFileLocator([File("usr/lib/grub/arm64-efi-signed/grubaa64.efi.signed"), File("usr/lib/shim/shimaa64.efi.signed")]);
        withShim.First(BootArchitecture.Arm64.ShimPaths)!.Path.ShouldBe("usr/lib/shim/shimaa64.efi.signed");
        BootArchitecture.Amd64.ShimPaths.ShouldNotContain(p => p.Contains("aa64", StringComparison.Ordinal));
        BootArchitecture.Arm64.GrubEfiPaths.Concat(BootArchitecture.Arm64.ShimPaths).ShouldNotContain(p => p.Contains("x64", StringComparison.Ordinal) || p.Contains("x86_64", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dangling_link_or_a_directory_is_not_a_kernel()
    {
        var locator = new BootFileLocator([Link("boot/vmlinuz", "missing"), new FileTreeEntry { Path = "boot/kernel", Kind = FileTreeEntryKind.Directory }]);
        locator.Kernel(out _).ShouldBeNull();
        locator.Initrd(null).ShouldBeNull();
    }
}
