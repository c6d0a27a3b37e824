using System.Text;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>Given a tree with every kind of entry, the image reads back the same through isoinfo, bsdtar, osirrox and our reader.</summary>
public sealed class Iso9660WriterTests(RichTreeImage image) : IClassFixture<RichTreeImage>
{
    [Fact]
    public void Isoinfo_reports_the_volume_with_rock_ridge_and_joliet()
    {
        var report = ExternalTool.Output("isoinfo", "-d", "-i", image.ImagePath);
        report.ShouldContain("Volume id: RICH_TREE");
        report.ShouldContain("Rock Ridge signatures version 1 found");
        report.ShouldContain("Joliet with UCS level 3 found");
        report.ShouldContain($"Volume size is: {image.Result.Length / 2048}");
    }

    [Fact]
    public void Isoinfo_rock_ridge_listing_has_every_name_mode_owner_size_and_link_target()
    {
        var listed = ToolListings.ParseIsoinfo(ExternalTool.Output("isoinfo", "-l", "-R", "-i", image.ImagePath));
        var expected = image.Source.Entries;
        listed.Keys.Order(StringComparer.Ordinal).ShouldBe(expected.Select(e => e.Path).Order(StringComparer.Ordinal));
        var linkCounts = LinkCounts(expected);
        foreach (var entry in expected)
        {
            var line = listed[entry.Path];
            line.Mode.ShouldBe(ToolListings.ModeString(entry, withSpecialBits: false, fifoCharacter: 'f'), entry.Path);
            (line.Uid, line.Gid).ShouldBe((entry.Uid, entry.Gid), entry.Path);
            line.LinkTarget.ShouldBe(entry.Kind == FileTreeEntryKind.Symlink ? entry.LinkTarget : null, entry.Path);
            if (entry.Kind is FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink)
            {
                line.SizeOrDevice.ShouldBe(SizeOf(entry).ToString(System.Globalization.CultureInfo.InvariantCulture), entry.Path);
                line.Links.ShouldBe(linkCounts[Owner(entry)], entry.Path);
            }
        }

        listed[TestTrees.NonAsciiName].Path.ShouldBe(TestTrees.NonAsciiName);
        listed[TestTrees.LongName].Path.Length.ShouldBeGreaterThan(200);
    }

    [Fact]
    public void Isoinfo_joliet_listing_has_directories_and_files_with_names_of_at_most_64_characters()
    {
        // isoinfo prints Joliet names in Latin-1 and replaces what Latin-1 lacks with '_'.
        var listed = ToolListings.ParseIsoinfo(ReadLatin1Listing());
        var expected = image.Source.Entries
            .Where(e => e.Kind is FileTreeEntryKind.Directory or FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink)
            .Select(e => string.Join('/', e.Path.Split('/').Select(p => Latin1View(IsoIdentifiers.JolietNameOf(p)))))
            .Order(StringComparer.Ordinal);
        listed.Keys.Order(StringComparer.Ordinal).ShouldBe(expected);
        listed.Keys.ShouldAllBe(k => k.Split('/', StringSplitOptions.None).All(part => part.Length <= 64));
    }

    [Fact]
    public void Bsdtar_listing_has_special_bits_devices_hardlinks_and_symlinks()
    {
        var listed = ToolListings.ParseBsdtar(ExternalTool.Output("bsdtar", "-tvf", image.ImagePath));
        var expected = image.Source.Entries;
        listed.Keys.Order(StringComparer.Ordinal).ShouldBe(expected.Select(e => e.Path).Order(StringComparer.Ordinal));
        foreach (var entry in expected)
        {
            var line = listed[entry.Path];
            line.Mode.ShouldBe(ToolListings.ModeString(entry, withSpecialBits: true, fifoCharacter: 'p'), entry.Path);
            (line.Uid, line.Gid).ShouldBe((entry.Uid, entry.Gid), entry.Path);
            switch (entry.Kind)
            {
                case FileTreeEntryKind.Symlink:
                    line.LinkTarget.ShouldBe(entry.LinkTarget, entry.Path);
                    break;
                case FileTreeEntryKind.CharacterDevice or FileTreeEntryKind.BlockDevice:
                    line.SizeOrDevice.ShouldBe($"{entry.DeviceMajor},{entry.DeviceMinor}", entry.Path);
                    break;
                case FileTreeEntryKind.Hardlink:
                    // libarchive names whichever of the two it meets first as the file; the other links to it.
                    var first = listed[entry.LinkTarget!];
                    var pair = new[] { (line.Path, line.HardlinkTarget, line.SizeOrDevice), (first.Path, first.HardlinkTarget, first.SizeOrDevice) };
                    pair.Count(p => p.HardlinkTarget is null && p.SizeOrDevice == SizeOf(entry).ToString(System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(1);
                    pair.Count(p => p.HardlinkTarget is not null && pair.Any(q => q.Path == p.HardlinkTarget)).ShouldBe(1);
                    (line.Links, first.Links).ShouldBe((2, 2));
                    break;
                case FileTreeEntryKind.RegularFile when !image.Source.Entries.Any(e => e.Kind == FileTreeEntryKind.Hardlink && e.LinkTarget == entry.Path):
                    line.SizeOrDevice.ShouldBe(entry.Size.ToString(System.Globalization.CultureInfo.InvariantCulture), entry.Path);
                    break;
            }
        }
    }

    [Fact]
    public void Files_extracted_by_osirrox_and_bsdtar_are_byte_identical_to_the_source()
    {
        var osirroxDir = image.Scratch("osirrox-" + Guid.NewGuid().ToString("N"));
        ExternalTool.Output("osirrox", "-indev", image.ImagePath, "-extract", "/", osirroxDir);
        var bsdtarDir = image.Scratch("bsdtar-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(bsdtarDir);
        ExternalTool.Output("bsdtar", "-xpf", image.ImagePath, "-C", bsdtarDir);

        foreach (var entry in image.Source.Entries)
        {
            var source = Path.Combine(image.SourceRoot, entry.Path);
            foreach (var extracted in new[] { Path.Combine(osirroxDir, entry.Path), Path.Combine(bsdtarDir, entry.Path) })
            {
                switch (entry.Kind)
                {
                    case FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink:
                        TestTrees.Sha256(extracted).ShouldBe(TestTrees.Sha256(source), extracted);
                        break;
                    case FileTreeEntryKind.Symlink:
                        new FileInfo(extracted).LinkTarget.ShouldBe(entry.LinkTarget, extracted);
                        break;
                    case FileTreeEntryKind.Directory:
                        Directory.Exists(extracted).ShouldBeTrue(extracted);
                        break;
                }
            }
        }

        // bsdtar restores what POSIX says about each name: owners, modes, devices and the hardlink's shared inode.
        var restored = new DirectoryFileTreeSource(bsdtarDir, readExtendedAttributes: false).Entries.ToDictionary(e => e.Path);
        foreach (var entry in image.Source.Entries)
        {
            var back = restored[entry.Path];
            (back.Kind, back.Mode, back.Uid, back.Gid, back.DeviceMajor, back.DeviceMinor, back.LinkTarget)
                .ShouldBe((entry.Kind, entry.Mode, entry.Uid, entry.Gid, entry.DeviceMajor, entry.DeviceMinor, entry.LinkTarget), entry.Path);
            if (entry.Kind is not FileTreeEntryKind.Directory)
            {
                back.ModificationTime.ShouldBe(entry.ModificationTime, entry.Path);
            }
        }
    }

    [Fact]
    public void Our_reader_sees_the_rock_ridge_tree_and_hardlinks_share_extent_and_serial()
    {
        using var stream = File.OpenRead(image.ImagePath);
        var reader = new Iso9660Reader(stream);
        reader.HasRockRidge.ShouldBeTrue();
        reader.Primary.VolumeId.ShouldBe("RICH_TREE");
        var files = reader.ListFiles().ToDictionary(f => f.Path);
        files.Keys.Order(StringComparer.Ordinal).ShouldBe(image.Source.Entries.Select(e => e.Path).Order(StringComparer.Ordinal));
        var a = files["hard-a"];
        var b = files["dir/hard-b"];
        b.Extents.ShouldBe(a.Extents);
        b.Serial.ShouldBe(a.Serial);
        (a.Links, b.Links).ShouldBe((2, 2));
        files["link-long"].SymlinkTarget.ShouldBe(TestTrees.LongSymlinkTarget);
        files["dev-loop7"].Device.ShouldBe((7, 7));
        Encoding.UTF8.GetString(reader.ReadFile(files["dir/file.txt"])).ShouldBe("plain file\n");
        var joliet = reader.ListFiles(IsoTreeKind.Joliet).Select(f => f.Path).ToList();
        joliet.ShouldContain(TestTrees.NonAsciiName);
        joliet.ShouldContain("smile-_.txt");
    }

    [Fact]
    public async Task Writing_twice_gives_identical_bytes_and_the_hash_computed_while_writing()
    {
        var again = new Iso9660Writer(new IsoImageOptions { VolumeId = "RICH_TREE", Timestamp = 1_700_000_000, ComputeSha256 = true });
        again.AddFileTree(new DirectoryFileTreeSource(image.SourceRoot));
        var path = image.Scratch("again-" + Guid.NewGuid().ToString("N") + ".iso");
        IsoImageResult result;
        await using (var forwardOnly = new SparseFileStream(path))
        {
            result = await again.WriteAsync(forwardOnly);
        }

        result.Sha256.ShouldBe(image.Result.Sha256);
        TestTrees.Sha256(path).ShouldBe(TestTrees.Sha256(image.ImagePath));
        TestTrees.Sha256(image.ImagePath).ShouldBe(image.Result.Sha256);
        ExternalTool.Output("sha256sum", image.ImagePath).ShouldStartWith(image.Result.Sha256!);
    }

    private string ReadLatin1Listing()
    {
        var text = "";
        ExternalTool.Run("isoinfo", new ToolOptions { ReadOutput = async output => text = await new StreamReader(output, Encoding.Latin1).ReadToEndAsync() },
            "-l", "-J", "-j", "iso8859-1", "-i", image.ImagePath).ShouldExit();
        return text;
    }

    private static string Latin1View(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in name)
        {
            builder.Append(c <= 0xFF ? c : '_');
        }

        return builder.ToString();
    }

    private static string Owner(FileTreeEntry entry) => entry.Kind == FileTreeEntryKind.Hardlink ? entry.LinkTarget! : entry.Path;

    private long SizeOf(FileTreeEntry entry) => image.Source.Entries.Single(e => e.Path == Owner(entry)).Size;

    private static Dictionary<string, int> LinkCounts(IReadOnlyList<FileTreeEntry> entries)
    {
        var counts = entries.Where(e => e.Kind == FileTreeEntryKind.RegularFile).ToDictionary(e => e.Path, _ => 1);
        foreach (var link in entries.Where(e => e.Kind == FileTreeEntryKind.Hardlink))
        {
            counts[link.LinkTarget!]++;
        }

        return counts;
    }
}
