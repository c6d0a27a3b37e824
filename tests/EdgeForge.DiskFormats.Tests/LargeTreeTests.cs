using System.Security.Cryptography;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>Sizes ISO 9660 has limits for: thousands of entries, and a file beyond the 32-bit extent length.</summary>
public sealed class LargeTreeTests
{
    [Fact]
    public async Task Thousands_of_entries_are_all_listed_by_isoinfo_bsdtar_and_xorriso()
    {
        using var temp = new TestDirectory();
        var root = temp.Combine("many");
        TestTrees.BuildMany(root, 4000);
        var source = new DirectoryFileTreeSource(root);
        var iso = temp.Combine("many.iso");
        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "MANY" });
        writer.AddFileTree(source);
        await using (var output = File.Create(iso))
        {
            await writer.WriteAsync(output);
        }

        var expected = source.Entries.Select(e => e.Path).Order(StringComparer.Ordinal).ToList();
        expected.Count.ShouldBeGreaterThan(4700);
        ToolListings.ParseIsoinfo(ExternalTool.Output("isoinfo", "-l", "-R", "-i", iso)).Keys.Order(StringComparer.Ordinal).ShouldBe(expected);
        ToolListings.ParseBsdtar(ExternalTool.Output("bsdtar", "-tvf", iso)).Keys.Order(StringComparer.Ordinal).ShouldBe(expected);
        var found = ExternalTool.Output("xorriso", "-indev", iso, "-find", "/", "-type", "f")
            .Split('\n').Where(l => l.StartsWith('\'')).Count();
        found.ShouldBe(4000);

        var sizes = ToolListings.ParseBsdtar(ExternalTool.Output("bsdtar", "-tvf", iso));
        foreach (var entry in source.Entries.Where(e => e.Kind == FileTreeEntryKind.RegularFile))
        {
            sizes[entry.Path].SizeOrDevice.ShouldBe(entry.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task A_file_over_4_GiB_becomes_a_multi_extent_file_that_reads_back_identical()
    {
        using var temp = new TestDirectory();
        var root = temp.Combine("big");
        Directory.CreateDirectory(root);
        var bigPath = Path.Combine(root, "big.bin");
        const long size = (4L << 30) + (3 << 20) + 123;
        TestTrees.Run("truncate", "-s", size.ToString(System.Globalization.CultureInfo.InvariantCulture), bigPath);
        await using (var file = new FileStream(bigPath, FileMode.Open, FileAccess.Write))
        {
            // Markers at the start, across the first extent boundary and at the very end, in an otherwise sparse file.
            foreach (var offset in new[] { 0L, Iso9660Writer.MaxExtentLength - 5, size - 7 })
            {
                file.Position = offset;
                file.Write("MARKER!"u8);
            }
        }

        TestTrees.Write(Path.Combine(root, "small.txt"), "after the big one\n");
        var iso = temp.Combine("big.iso");
        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "BIG" });
        writer.AddFileTree(new DirectoryFileTreeSource(root));
        await using (var output = new SparseFileStream(iso))
        {
            await writer.WriteAsync(output);
        }

        await using (var stream = File.OpenRead(iso))
        {
            var big = new Iso9660Reader(stream).ListFiles().Single(f => f.Path == "big.bin");
            big.Size.ShouldBe(size);
            big.Extents.Count.ShouldBe(2);
            big.Extents[0].Length.ShouldBe(Iso9660Writer.MaxExtentLength);
            big.Extents[1].Block.ShouldBe(big.Extents[0].Block + Iso9660Writer.MaxExtentLength / 2048);
        }

        var listing = ToolListings.ParseBsdtar(ExternalTool.Output("bsdtar", "-tvf", iso));
        listing["big.bin"].SizeOrDevice.ShouldBe(size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        listing["small.txt"].SizeOrDevice.ShouldBe("18");

        // isoinfo lists each extent of a multi-extent file as its own record.
        var isoinfo = ExternalTool.Output("isoinfo", "-l", "-R", "-i", iso).Split('\n').Where(l => l.EndsWith("big.bin ", StringComparison.Ordinal)).ToList();
        isoinfo.Count.ShouldBe(2);

        HashOfBsdtarExtract(iso, "big.bin").ShouldBe(HashOf(bigPath));
    }

    private static string HashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string HashOfBsdtarExtract(string iso, string member)
    {
        var hash = "";
        ExternalTool.Run("bsdtar", new ToolOptions { ReadOutput = async output => hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(output)) }, "-xOf", iso, member)
            .ShouldExit();
        return hash;
    }
}
