using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>
/// A fact that runs only where the running kernel can mount the filesystem at all (listed in /proc/filesystems; the
/// build sandbox's kernel has no isofs and no modules). Elsewhere the test is reported as skipped with that reason —
/// never passed. <see cref="GuestKernelTests"/> mounts the same image with Debian's kernel in QEMU regardless.
/// </summary>
public sealed class KernelFilesystemFactAttribute : FactAttribute
{
    public KernelFilesystemFactAttribute(string filesystem)
    {
        var supported = File.Exists("/proc/filesystems") && File.ReadAllLines("/proc/filesystems").Any(l => l.Split('\t').LastOrDefault() == filesystem);
        if (!supported)
        {
            Skip = $"the running kernel does not support '{filesystem}' (absent from /proc/filesystems), so a loop mount cannot be tried here";
        }
    }
}

public sealed class KernelMountTests(RichTreeImage image) : IClassFixture<RichTreeImage>
{
    [KernelFilesystemFact("iso9660")]
    public void The_kernel_mounts_the_image_and_shows_rock_ridge_names_modes_and_links()
    {
        var mountPoint = image.Scratch("mnt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mountPoint);
        var mount = ExternalTool.Run("mount", ["-o", "loop,ro", "-t", "iso9660", image.ImagePath, mountPoint]);
        mount.ExitCode.ShouldBe(0, $"loop mount failed (a sandbox without CAP_SYS_ADMIN or loop devices fails here): {mount.Error}");
        try
        {
            var seen = new DirectoryFileTreeSource(mountPoint, readExtendedAttributes: false).Entries.ToDictionary(e => e.Path);
            seen.Keys.Order(StringComparer.Ordinal).ShouldBe(image.Source.Entries.Select(e => e.Path).Order(StringComparer.Ordinal));
            foreach (var entry in image.Source.Entries)
            {
                var kernel = seen[entry.Path];
                (kernel.Mode, kernel.Uid, kernel.Gid).ShouldBe((entry.Mode, entry.Uid, entry.Gid), entry.Path);
                if (entry.Kind == FileTreeEntryKind.Symlink)
                {
                    kernel.LinkTarget.ShouldBe(entry.LinkTarget, entry.Path);
                }
                else if (entry.Kind == FileTreeEntryKind.RegularFile)
                {
                    TestTrees.Sha256(Path.Combine(mountPoint, entry.Path)).ShouldBe(TestTrees.Sha256(Path.Combine(image.SourceRoot, entry.Path)));
                }
            }
        }
        finally
        {
            ExternalTool.Run("umount", [mountPoint]);
        }
    }
}
