using System.Text;
using EdgeForge.DiskFormats.Fat;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>FAT images as the ESP needs them, held against dosfstools (fsck.fat) and mtools (mdir, mcopy, minfo).</summary>
public sealed class FatImageWriterTests : IDisposable
{
    private readonly TestDirectory _temp = new();

    [Fact]
    public async Task An_efi_system_partition_is_clean_and_its_files_read_back_identical()
    {
        var tree = _temp.Combine("esp");
        TestTrees.WriteRandom(Path.Combine(tree, "EFI", "BOOT", "bootx64.efi"), 1_500_000, 1);
        TestTrees.WriteRandom(Path.Combine(tree, "EFI", "BOOT", "grubx64.efi"), 700_001, 2);
        TestTrees.Write(Path.Combine(tree, "EFI", "BOOT", "grub.cfg"), GrubBootAssets.StubConfig);
        TestTrees.Write(Path.Combine(tree, "README"), "upper-case 8.3 name needs no long name\n");
        TestTrees.Write(Path.Combine(tree, "Long File Name Number 1.txt"), "one\n");
        TestTrees.Write(Path.Combine(tree, "Long File Name Number 2.txt"), "two\n");
        TestTrees.Write(Path.Combine(tree, "naïve café.conf"), "non-ASCII long name\n");
        TestTrees.Write(Path.Combine(tree, "a.b.c.tar.gz"), "dots\n");
        TestTrees.Write(Path.Combine(tree, new string('x', 200) + ".txt"), "a 204-character name\n");
        for (var i = 0; i < 300; i++)
        {
            TestTrees.Write(Path.Combine(tree, "many", $"entry number {i:D3}.txt"), $"{i}\n");
        }

        TestTrees.SetTimes(tree, 1_700_000_000);
        var image = _temp.Combine("esp.img");
        var writer = new FatImageWriter(new FatImageOptions { Label = "EFI_LIVE" });
        writer.AddFileTree(new DirectoryFileTreeSource(tree));
        FatImageResult result;
        await using (var output = File.Create(image))
        {
            result = await writer.WriteAsync(output);
        }

        var contents = Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        result.Length.ShouldBeLessThan(contents + contents / 5 + (1 << 20), "sized to fit with a small margin");
        var fsck = ExternalTool.Run("fsck.fat", ["-n", "-v", image]);
        fsck.ExitCode.ShouldBe(0, fsck.Output + fsck.Error);
        fsck.Output.ShouldNotContain("differ");
        ExternalTool.Output("minfo", "-i", image, "::").ShouldContain($"serial number: {result.VolumeId:X8}");
        ExternalTool.Output("mlabel", "-i", image, "-s", "::").ShouldContain("EFI_LIVE");

        var listing = ExternalTool.Output("mdir", "-i", image, "-/", "-a", "::");
        listing.ShouldContain("Long File Name Number 1.txt");
        listing.ShouldContain("LONGFI~1 TXT");
        listing.ShouldContain("LONGFI~2 TXT");
        listing.ShouldContain("naïve café.conf");
        listing.ShouldMatch(@"README\s+\d+ ");

        var back = _temp.Combine("back");
        Directory.CreateDirectory(back);
        ExternalTool.Output("mcopy", "-i", image, "-s", "-n", "::/*", back);
        foreach (var file in Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(back, Path.GetRelativePath(tree, file));
            TestTrees.Sha256(copy).ShouldBe(TestTrees.Sha256(file), copy);
        }

        Directory.EnumerateFiles(back, "*", SearchOption.AllDirectories).Count().ShouldBe(Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories).Count());
    }

    [Theory]
    [InlineData(2L << 20, FatType.Fat12, "12 bit entries")]
    [InlineData(64L << 20, FatType.Fat16, "16 bit entries")]
    [InlineData(600L << 20, FatType.Fat32, "32 bit entries")]
    public async Task The_fat_type_follows_the_cluster_count_of_the_size(long size, FatType type, string fsckSays)
    {
        var image = _temp.Combine($"fat-{size}.img");
        var writer = new FatImageWriter(new FatImageOptions { Label = "SIZED", Size = size, Timestamp = 1_600_000_000 });
        writer.AddFile("dir/sub/file.bin", Encoding.ASCII.GetBytes(new string('z', 70_000)));
        writer.AddFile("top.txt", "top\n"u8.ToArray());
        FatImageResult result;
        await using (var output = new SparseFileStream(image))
        {
            result = await writer.WriteAsync(output);
        }

        result.Geometry.Type.ShouldBe(type);
        new FileInfo(image).Length.ShouldBe(size);
        var clusters = result.Geometry.Clusters;
        (type switch { FatType.Fat12 => clusters < 4085, FatType.Fat16 => clusters is >= 4085 and < 65525, _ => clusters >= 65525 }).ShouldBeTrue();
        var fsck = ExternalTool.Run("fsck.fat", ["-n", "-v", image]);
        fsck.ExitCode.ShouldBe(0, fsck.Output + fsck.Error);
        fsck.Output.ShouldContain(fsckSays);
        fsck.Output.ShouldContain($"{clusters} data clusters");
        ExternalTool.Output("mtype", "-i", image, "::/dir/sub/file.bin").ShouldBe(new string('z', 70_000));
    }

    [Fact]
    public async Task Two_writes_give_identical_bytes()
    {
        async Task<string> Write(string name)
        {
            var writer = new FatImageWriter(new FatImageOptions { Label = "SAME", Timestamp = 1_650_000_000 });
            writer.AddFile("EFI/BOOT/grub.cfg", Encoding.ASCII.GetBytes(GrubBootAssets.StubConfig));
            writer.AddFile("some long file name.txt", new byte[5000]);
            var path = _temp.Combine(name);
            await using (var output = File.Create(path))
            {
                await writer.WriteAsync(output);
            }

            return TestTrees.Sha256(path);
        }

        (await Write("a.img")).ShouldBe(await Write("b.img"));
    }

    [Fact]
    public async Task Entries_fat_cannot_hold_are_refused()
    {
        var tree = _temp.Combine("links");
        TestTrees.Write(Path.Combine(tree, "file"), "x");
        File.CreateSymbolicLink(Path.Combine(tree, "link"), "file");
        var writer = new FatImageWriter(new FatImageOptions());
        writer.AddFileTree(new DirectoryFileTreeSource(tree));
        var error = await Should.ThrowAsync<ArgumentException>(() => writer.WriteAsync(Stream.Null));
        error.Message.ShouldContain("link: a Symlink cannot be stored on FAT");
    }

    public void Dispose() => _temp.Dispose();
}
