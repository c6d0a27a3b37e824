using EdgeForge.Testing;

namespace EdgeForge.Cli.Tests;

/// <summary>fs squashfs from an image: the flattened layers streamed into SquashFS equal the same tree taken from a directory.</summary>
public sealed class FsSquashFsImageSourceTests
{
    [Fact]
    public async Task An_image_source_gives_the_same_listing_as_its_root_filesystem()
    {
        using var rootfs = new BusyboxRootfs();
        var work = Directory.CreateTempSubdirectory("ef-fs-image-").FullName;
        try
        {
            var layout = $"oci:{Path.Combine(work, "layout")}:busybox";
            (await CliResult.RunAsync("image", "import", rootfs.Root, layout)).ExitCode.ShouldBe(0);

            var fromImage = await CliResult.RunAsync("fs", "squashfs", layout, "-o", Path.Combine(work, "image.sqfs"));
            var fromDirectory = await CliResult.RunAsync("fs", "squashfs", rootfs.Root, "-o", Path.Combine(work, "dir.sqfs"));

            fromImage.ExitCode.ShouldBe(0, fromImage.All);
            fromDirectory.ExitCode.ShouldBe(0, fromDirectory.All);
            var imageListing = Listing(Path.Combine(work, "image.sqfs"));
            imageListing.ShouldContain(l => l.EndsWith("/bin/sh -> busybox", StringComparison.Ordinal));
            imageListing.Select(NameAndType).ShouldBe(Listing(Path.Combine(work, "dir.sqfs")).Select(NameAndType));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_source_that_is_neither_directory_nor_image_exits_2()
    {
        var result = await CliResult.RunAsync("fs", "squashfs", "ftp://nowhere/thing", "-o", Path.Combine(Path.GetTempPath(), "never.sqfs"));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain("neither a directory nor an image reference");
    }

    /// <summary>unsquashfs -lln lines: permissions, ids, size, time, path; owners and times differ by design between sources.</summary>
    private static List<string> Listing(string image) =>
        ExternalTool.Output("unsquashfs", "-lln", image).Split('\n').Where(l => l.Contains("squashfs-root", StringComparison.Ordinal)).ToList();

    private static string NameAndType(string line) => line[0] + " " + line[line.IndexOf("squashfs-root", StringComparison.Ordinal)..];
}
