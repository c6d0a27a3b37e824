using System.Text.RegularExpressions;
using EdgeForge.FileTree;

namespace EdgeForge.SquashFs.Tests;

/// <summary>
/// Given a directory with every kind of entry, when EdgeForge writes its SquashFS image, then squashfs-tools and the
/// Linux kernel see exactly that tree: names, kinds, owners, modes, mtimes, link targets, device numbers, contents,
/// hardlinks and xattrs — with gzip and with zstd, at the smallest and the largest block size.
/// </summary>
public sealed partial class SquashFsImageTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("ef-sqfs-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    public static TheoryData<SquashFsCompressor, int> CompressorsAndBlockSizes => new()
    {
        { SquashFsCompressor.Gzip, 1 << 20 },
        { SquashFsCompressor.Zstd, 4096 },
    };

    [Theory]
    [MemberData(nameof(CompressorsAndBlockSizes))]
    public async Task Unsquashfs_lists_and_extracts_exactly_the_source_tree(SquashFsCompressor compressor, int blockSize)
    {
        using var sample = new SampleTree(blockSize);
        var image = Path.Combine(_work, "image.squashfs");
        var result = await SquashFsWriter.WriteFileAsync(new DirectoryFileTreeSource(sample.Root), image, new SquashFsOptions { Compressor = compressor, BlockSize = blockSize });

        (new FileInfo(image).Length % 4096).ShouldBe(0);
        result.DuplicateFiles.ShouldBe(3, "duplicates/nested/third, duplicates/second and duplicates/small-b repeat earlier contents; empty files are not counted");
        var expected = TreeComparison.Describe(sample.Root);

        // -lln: numeric owners, permission strings, sizes, device numbers and symlink targets of every entry.
        var listed = ParseListing(ExternalTool.Output("unsquashfs", "-lln", image));
        listed.Keys.Order(StringComparer.Ordinal).ShouldBe(expected.Keys.Prepend("").Order(StringComparer.Ordinal));
        var sourceListing = TreeComparison.Listing(sample.Root);
        foreach (var (path, facts) in expected)
        {
            var line = listed[path];
            var source = Path.Combine(sample.Root, path);
            line.Permissions.ShouldBe(sourceListing[path].Permissions, path);
            line.Owner.ShouldBe(sourceListing[path].Owner, path);
            var kind = facts.Split('|')[0];
            if (kind.EndsWith("special file", StringComparison.Ordinal) && kind != "fifo")
            {
                // unsquashfs 4.5's listing splits the on-disk number as major = dev >> 8, minor = dev & 0xff, which is
                // only right for minors below 256 (it lists mksquashfs's images the same way); extraction and the
                // kernel decode big minors correctly, and the tests below compare those.
                var numbers = facts.Split('|')[7].Split(':').Select(hex => Convert.ToInt32(hex, 16)).ToArray();
                if (numbers[1] < 256)
                {
                    line.SizeOrDevice.ShouldBe($"{numbers[0]},{numbers[1]}", path);
                }
            }
            else if (kind != "directory")
            {
                line.SizeOrDevice.ShouldBe(facts.Split('|')[6], path);
            }

            line.LinkTarget.ShouldBe(new FileInfo(source).LinkTarget, path);
        }

        // -lls: the same entries with owner names, as a user reads them.
        var named = ParseListing(ExternalTool.Output("unsquashfs", "-lls", image));
        named.Count.ShouldBe(listed.Count);
        named["etc/hostname"].Owner.ShouldBe("root/root");

        // -d: extraction is byte-identical, keeps owners, modes, mtimes, hardlinks, devices and xattrs.
        var extracted = Path.Combine(_work, "extracted");
        ExternalTool.Output("unsquashfs", "-d", extracted, image);
        TreeComparison.Describe(extracted).ShouldBe(expected);
        TreeComparison.ContentsShouldMatch(sample.Root, extracted, expected);
        foreach (var path in new[] { "etc/hostname", "blocks/many-blocks", "duplicates", "duplicates/small-a", "duplicates/small-b" })
        {
            TreeComparison.ExtendedAttributes(Path.Combine(extracted, path)).ShouldBe(TreeComparison.ExtendedAttributes(Path.Combine(sample.Root, path)), path);
        }

        TreeComparison.ExtendedAttributes(Path.Combine(extracted, "blocks/many-blocks")).ShouldContain("security.capability=0x0100000200200000000000000000000000000000");
        ExternalTool.Output("stat", "-c", "%i", Path.Combine(extracted, "links/hardlink-to-hostname"))
            .ShouldBe(ExternalTool.Output("stat", "-c", "%i", Path.Combine(extracted, "etc/hostname")));
    }

    [Theory]
    [MemberData(nameof(CompressorsAndBlockSizes))]
    public async Task The_kernel_mounts_the_image_and_shows_the_same_tree(SquashFsCompressor compressor, int blockSize)
    {
        using var sample = new SampleTree(blockSize);
        var image = Path.Combine(_work, "image.squashfs");
        await SquashFsWriter.WriteFileAsync(new DirectoryFileTreeSource(sample.Root), image, new SquashFsOptions { Compressor = compressor, BlockSize = blockSize });

        var mountPoint = Directory.CreateDirectory(Path.Combine(_work, "mnt")).FullName;
        var (exitCode, output, error) = ExternalTool.Run("mount", "-t", "squashfs", "-o", "loop,ro", image, mountPoint);
        if (exitCode != 0 && LoopMountForbidden().IsMatch(error))
        {
            Assert.Fail($"this sandbox forbids loop mounts, so the kernel check cannot run here: {error.Trim()}");
        }

        exitCode.ShouldBe(0, $"the kernel refused the image: {error}{output}\n{ExternalTool.Run("dmesg").Output.Split('\n').TakeLast(5).Aggregate("", (a, l) => a + l + "\n")}");
        try
        {
            // find reads every directory through readdir and stat looks every name up: the directory index of the
            // 3000-entry directory and the sorted listings are what the kernel's lookup relies on.
            var expected = TreeComparison.Describe(sample.Root);
            TreeComparison.Describe(mountPoint).ShouldBe(expected);
            TreeComparison.ContentsShouldMatch(sample.Root, mountPoint, expected);
            TreeComparison.ExtendedAttributes(Path.Combine(mountPoint, "etc/hostname")).ShouldBe(TreeComparison.ExtendedAttributes(Path.Combine(sample.Root, "etc/hostname")));
            TreeComparison.ExtendedAttributes(Path.Combine(mountPoint, "blocks/many-blocks")).ShouldContain("security.capability=");
            File.Exists(Path.Combine(mountPoint, $"crowded/entry-{SampleTree.CrowdedDirectoryEntries - 1:D5}-{new string((char)('a' + (SampleTree.CrowdedDirectoryEntries - 1) % 26), (SampleTree.CrowdedDirectoryEntries - 1) % 40)}")).ShouldBeTrue();
            File.Exists(Path.Combine(mountPoint, "crowded/entry-00000-not-there")).ShouldBeFalse();
        }
        finally
        {
            ExternalTool.Output("umount", mountPoint);
        }
    }

    [Fact]
    public async Task Large_directories_get_an_index_and_hardlinked_files_extended_inodes_with_their_link_count()
    {
        using var sample = new SampleTree(4096);
        var image = Path.Combine(_work, "image.squashfs");
        await SquashFsWriter.WriteFileAsync(new DirectoryFileTreeSource(sample.Root), image);
        var inodes = InodeTableReader.Read(File.ReadAllBytes(image));

        // Only "crowded" (3000 entries, ~110 KiB of listing) passes 8 KiB: one extended directory with an index
        // entry per ~8 KiB of listing, names in sorted order, offsets rising (format.adoc "Directory Index").
        var indexed = inodes.Where(i => i.DirectoryIndex.Count > 0).ShouldHaveSingleItem();
        indexed.Type.ShouldBe((ushort)8);
        indexed.DirectoryIndex.Count.ShouldBeGreaterThan(10);
        indexed.DirectoryIndex.Select(e => e.Name).ShouldBe(indexed.DirectoryIndex.Select(e => e.Name).Order(StringComparer.Ordinal));
        indexed.DirectoryIndex.Select(e => e.Name).ShouldAllBe(name => name.StartsWith("entry-", StringComparison.Ordinal));
        indexed.DirectoryIndex.Select(e => e.Index).ShouldBe(indexed.DirectoryIndex.Select(e => e.Index).Order());
        indexed.DirectoryIndex.Zip(indexed.DirectoryIndex.Skip(1)).ShouldAllBe(pair => pair.Second.Index - pair.First.Index <= 8192);

        // etc/hostname and many-blocks have two names each: one inode, link count 2, the extended file type.
        inodes.Count(i => i.Type == 9 && i.LinkCount == 2).ShouldBe(2);
        inodes.Select(i => i.Number).Order().ShouldBe(Enumerable.Range(1, inodes.Count).Select(n => (uint)n));
    }

    [Fact]
    public async Task The_same_input_gives_the_same_bytes_whatever_the_thread_count()
    {
        var tree = new SyntheticTree.SyntheticFileTreeSource(directories: 20, filesPerDirectory: 150, bigFileSize: 3 << 20);
        var images = new List<byte[]>();
        foreach (var processors in new[] { 1, 4, 4 })
        {
            using var output = new MemoryStream();
            await SquashFsWriter.WriteAsync(tree, output, new SquashFsOptions { BlockSize = 4096, Processors = processors });
            images.Add(output.ToArray());
        }

        images[1].AsSpan().SequenceEqual(images[0]).ShouldBeTrue("4 threads must write what 1 thread writes");
        images[2].AsSpan().SequenceEqual(images[1]).ShouldBeTrue("two runs must write the same bytes");
    }

    [Fact]
    public async Task Contents_are_placed_in_arrival_order_and_read_back_exactly()
    {
        // The synthetic source delivers odd files before even ones, holes and duplicates included.
        var tree = new SyntheticTree.SyntheticFileTreeSource(directories: 4, filesPerDirectory: 600, bigFileSize: 3 << 20);
        var image = Path.Combine(_work, "synthetic.squashfs");
        var result = await SquashFsWriter.WriteFileAsync(tree, image, new SquashFsOptions { BlockSize = 65536, Compressor = SquashFsCompressor.Gzip, CompressionLevel = 1 });
        result.DuplicateFiles.ShouldBeGreaterThan(100);

        var extracted = Path.Combine(_work, "extracted");
        ExternalTool.Output("unsquashfs", "-d", extracted, image);
        for (var file = 0; file < tree.FileCount; file++)
        {
            using var expected = tree.OpenContent(file);
            var bytes = new byte[tree.SizeOf(file)];
            expected.ReadExactly(bytes);
            File.ReadAllBytes(Path.Combine(extracted, tree.PathOf(file))).AsSpan().SequenceEqual(bytes).ShouldBeTrue(tree.PathOf(file));
        }
    }

    [Theory]
    [InlineData(SquashFsCompressor.Zstd, null, "compression-level 3")]
    [InlineData(SquashFsCompressor.Zstd, 15, null)]
    [InlineData(SquashFsCompressor.Gzip, null, null)]
    [InlineData(SquashFsCompressor.Gzip, 4, "compression-level 4")]
    public async Task Compressor_options_are_written_only_when_not_the_default(SquashFsCompressor compressor, int? level, string? expectedOption)
    {
        using var sample = new SampleTree(4096);
        var image = Path.Combine(_work, "image.squashfs");
        await SquashFsWriter.WriteFileAsync(new DirectoryFileTreeSource(sample.Root), image, new SquashFsOptions { Compressor = compressor, CompressionLevel = level });

        var superblock = ExternalTool.Output("unsquashfs", "-s", image);
        superblock.ShouldContain($"Compression {compressor.ToString().ToLowerInvariant()}");
        superblock.ShouldContain("Block size 1048576");
        superblock.ShouldContain("Filesystem is exportable via NFS");
        superblock.ShouldContain("Number of xattr ids 4");
        if (expectedOption is null)
        {
            superblock.ShouldNotContain("compression-level");
        }
        else
        {
            superblock.ShouldContain(expectedOption);
        }
    }

    [Fact]
    public async Task Export_table_and_xattrs_can_be_left_out()
    {
        using var sample = new SampleTree(4096);
        var image = Path.Combine(_work, "image.squashfs");
        await SquashFsWriter.WriteFileAsync(new DirectoryFileTreeSource(sample.Root), image, new SquashFsOptions { ExportTable = false, ExtendedAttributes = false });

        var superblock = ExternalTool.Output("unsquashfs", "-s", image);
        superblock.ShouldContain("Filesystem is not exportable via NFS");
        superblock.ShouldContain("Xattrs are not stored");
        var extracted = Path.Combine(_work, "extracted");
        ExternalTool.Output("unsquashfs", "-d", extracted, image);
        TreeComparison.ExtendedAttributes(Path.Combine(extracted, "etc/hostname")).ShouldBeEmpty();
        TreeComparison.Describe(extracted).ShouldBe(TreeComparison.Describe(sample.Root));
    }

    private static Dictionary<string, ListedEntry> ParseListing(string listing)
    {
        var entries = new Dictionary<string, ListedEntry>(StringComparer.Ordinal);
        foreach (var line in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var match = ListingLine().Match(line);
            match.Success.ShouldBeTrue($"unexpected unsquashfs line: {line}");
            var path = match.Groups["path"].Value.TrimStart('/');
            entries[path] = new ListedEntry(match.Groups["permissions"].Value, match.Groups["owner"].Value,
                Regex.Replace(match.Groups["size"].Value, @"\s", ""), match.Groups["target"].Success ? match.Groups["target"].Value : null);
        }

        return entries;
    }

    private sealed record ListedEntry(string Permissions, string Owner, string SizeOrDevice, string? LinkTarget);

    [GeneratedRegex(@"^(?<permissions>\S{10}) (?<owner>\S+/\S+)\s+(?<size>\d+,\s*\d+|\d+) \d{4}-\d\d-\d\d \d\d:\d\d squashfs-root(?<path>/[^\n]*?)?(?: -> (?<target>.*))?$")]
    private static partial Regex ListingLine();

    [GeneratedRegex("permission denied|operation not permitted|failed to setup loop device|cannot find an unused loop device|no such device", RegexOptions.IgnoreCase)]
    private static partial Regex LoopMountForbidden();
}
