using EdgeForge.DiskFormats.Cpio;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>
/// The newc archive a unified kernel image's initrd is made of, read back by GNU cpio and libarchive's bsdtar (the
/// kernel's own unpacker reads it in the Trusted Boot boot test).
/// </summary>
public sealed class CpioNewcWriterTests : IDisposable
{
    private readonly TestDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<string> WriteAsync(IFileTreeSource source)
    {
        var archive = _temp.Combine("tree.cpio");
        await using var output = File.Create(archive);
        var result = await CpioNewcWriter.WriteAsync(source, output);
        result.Length.ShouldBe(output.Length);
        (result.Length % 4).ShouldBe(0);
        return archive;
    }

    [Fact]
    public async Task Gnu_cpio_extracts_the_rich_tree_with_contents_links_devices_modes_and_owners_even_when_contents_arrive_out_of_order()
    {
        var tree = _temp.Combine("tree");
        TestTrees.BuildRich(tree);
        var archive = await WriteAsync(new ReversedDeliverySource(new DirectoryFileTreeSource(tree)));
        var extracted = _temp.Combine("extracted");
        Directory.CreateDirectory(extracted);
        await ExternalTool.RunAsync("sh", "-c", $"cd '{extracted}' && cpio -idmu --quiet --no-absolute-filenames < '{archive}'");

        // diff compares contents and links; special files it only reports as such, so stat checks those below.
        var diff = await ExternalTool.RunUncheckedAsync("diff", "-r", "--no-dereference", "-x", "fifo", "-x", "dev-null", "-x", "dev-loop7", tree, extracted);
        diff.ExitCode.ShouldBe(0, diff.Output + diff.Error);
        string Stat(string root, string path, string format) => ExternalTool.Output("stat", "-c", format, Path.Combine(root, path)).Trim();
        foreach (var path in new[] { "secret", "dev-null", "dev-loop7", "fifo", "dir/file.txt", TestTrees.DeepDirectory })
        {
            Stat(extracted, path, "%f %u %g %t %T").ShouldBe(Stat(tree, path, "%f %u %g %t %T"), path);
        }

        Stat(extracted, "hard-a", "%i").ShouldBe(Stat(extracted, "dir/hard-b", "%i"), "the two names are one inode again");
        Stat(extracted, "hard-a", "%h").ShouldBe("2");
    }

    [Fact]
    public async Task Bsdtar_lists_every_entry_with_its_kind_and_the_trailer_ends_the_archive()
    {
        var tree = new InMemoryFileTreeSource()
            .AddDirectory("etc")
            .AddFile("etc/hostname", "edge\n")
            .AddFile("usr/bin/tool", "#!/bin/sh\n", mode: 0x1ED)
            .AddSymlink("init", "/usr/bin/immucore");
        var archive = await WriteAsync(tree);
        var listing = await ExternalTool.RunAsync("bsdtar", "-tvf", archive);
        listing.ShouldContain("etc/hostname");
        listing.ShouldContain("init -> /usr/bin/immucore");
        listing.ShouldContain("-rwxr-xr-x");
        // usr and usr/bin are not in the source: they are added, parents before children, so the kernel can create them.
        var names = (await ExternalTool.RunAsync("bsdtar", "-tf", archive)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Array.IndexOf(names, "usr").ShouldBeLessThan(Array.IndexOf(names, "usr/bin"));
        Array.IndexOf(names, "usr/bin").ShouldBeLessThan(Array.IndexOf(names, "usr/bin/tool"));
        System.Text.Encoding.ASCII.GetString(await File.ReadAllBytesAsync(archive)).ShouldContain("TRAILER!!!");
    }

    [Fact]
    public async Task A_source_that_delivers_fewer_bytes_than_it_announced_fails_the_write()
    {
        var source = new ShortSource();
        var error = await Should.ThrowAsync<IOException>(() => CpioNewcWriter.WriteAsync(source, Stream.Null));
        error.Message.ShouldContain("/short");
    }

    private sealed class ShortSource : IFileTreeSource
    {
        public IReadOnlyList<FileTreeEntry> Entries { get; } = [new FileTreeEntry { Path = "short", Kind = FileTreeEntryKind.RegularFile, Mode = 0x1A4, Size = 10 }];

        public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default) =>
            await consumer(Entries[0], new MemoryStream(new byte[3]), cancellationToken);
    }
}
