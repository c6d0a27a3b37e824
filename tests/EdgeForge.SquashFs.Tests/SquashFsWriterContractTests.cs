using EdgeForge.FileTree;
using static EdgeForge.SquashFs.Tests.InMemoryFileTreeSource;

namespace EdgeForge.SquashFs.Tests;

/// <summary>What the writer refuses, and what it repairs, before or while writing.</summary>
public sealed class SquashFsWriterContractTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("ef-sqfs-contract-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Directories_the_tree_implies_but_does_not_list_are_created()
    {
        var source = new InMemoryFileTreeSource([File("usr/share/doc/readme", 3)], new Dictionary<string, byte[]> { ["usr/share/doc/readme"] = "hi\n"u8.ToArray() });
        var image = Path.Combine(_work, "image.squashfs");
        await SquashFsWriter.WriteFileAsync(source, image);

        var listing = ExternalTool.Output("unsquashfs", "-lln", image);
        listing.ShouldContain("drwxr-xr-x 0/0");
        listing.ShouldContain("squashfs-root/usr/share/doc\n");
        listing.ShouldContain("squashfs-root/usr/share/doc/readme");
    }

    [Theory]
    [InlineData("hardlink to nothing")]
    [InlineData("path listed twice")]
    [InlineData("name of 257 bytes")]
    [InlineData("parent is a file")]
    [InlineData("path with ..")]
    public async Task Trees_squashfs_cannot_hold_are_refused(string problem)
    {
        FileTreeEntry[] entries = problem switch
        {
            "hardlink to nothing" => [new FileTreeEntry { Path = "link", Kind = FileTreeEntryKind.Hardlink, LinkTarget = "missing" }],
            "path listed twice" => [File("a", 0), File("a", 0)],
            "name of 257 bytes" => [File(new string('n', 257), 0)],
            "parent is a file" => [File("a", 0), File("a/b", 0)],
            _ => [File("a/../b", 0)],
        };

        await Should.ThrowAsync<SquashFsTreeException>(() => SquashFsWriter.WriteAsync(new InMemoryFileTreeSource(entries, new Dictionary<string, byte[]>()), new MemoryStream()));
    }

    [Fact]
    public async Task A_source_that_delivers_fewer_bytes_than_it_declared_fails_the_write()
    {
        var source = new InMemoryFileTreeSource([File("short", 10)], new Dictionary<string, byte[]> { ["short"] = new byte[9] });
        var failure = await Should.ThrowAsync<IOException>(() => SquashFsWriter.WriteAsync(source, new MemoryStream()));
        failure.ShouldNotBeOfType<SquashFsTreeException>("a file that changed while read is a failure, not bad input");
        failure.Message.ShouldContain("short");
    }

    [Fact]
    public async Task A_source_that_does_not_deliver_a_file_fails_the_write()
    {
        var source = new InMemoryFileTreeSource([File("never-delivered", 10)], new Dictionary<string, byte[]>());
        var failure = await Should.ThrowAsync<InvalidOperationException>(() => SquashFsWriter.WriteAsync(source, new MemoryStream()));
        failure.Message.ShouldContain("never-delivered");
    }

    [Theory]
    [InlineData(2048)]
    [InlineData(3 << 12)]
    [InlineData(2 << 20)]
    public async Task Block_sizes_outside_4KiB_to_1MiB_or_not_powers_of_two_are_refused(int blockSize)
    {
        await Should.ThrowAsync<ArgumentException>(() => SquashFsWriter.WriteAsync(new InMemoryFileTreeSource([], new Dictionary<string, byte[]>()), new MemoryStream(), new SquashFsOptions { BlockSize = blockSize }));
    }

    [Fact]
    public async Task A_cancelled_write_leaves_no_file_behind()
    {
        var tree = new SyntheticTree.SyntheticFileTreeSource(directories: 10, filesPerDirectory: 100, bigFileSize: 1 << 20);
        var image = Path.Combine(_work, "image.squashfs");
        using var cancellation = new CancellationTokenSource();
        var progress = new CancelOnData(cancellation);

        await Should.ThrowAsync<OperationCanceledException>(() => SquashFsWriter.WriteFileAsync(tree, image, progress: progress, cancellationToken: cancellation.Token));
        Directory.EnumerateFileSystemEntries(_work).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_empty_tree_is_a_valid_image_of_an_empty_root()
    {
        var image = Path.Combine(_work, "empty.squashfs");
        var result = await SquashFsWriter.WriteFileAsync(new InMemoryFileTreeSource([], new Dictionary<string, byte[]>()), image, new SquashFsOptions { ModificationTime = 1_000_000_000 });

        result.InodeCount.ShouldBe(1);
        ExternalTool.Output("unsquashfs", "-lln", image).Trim().ShouldEndWith("squashfs-root");
        ExternalTool.Output("unsquashfs", "-s", image).ShouldContain("Number of inodes 1");
    }

    private sealed class CancelOnData(CancellationTokenSource cancellation) : IProgress<SquashFsProgress>
    {
        public void Report(SquashFsProgress value)
        {
            if (value.Stage == SquashFsStage.Data)
            {
                cancellation.Cancel();
            }
        }
    }
}
