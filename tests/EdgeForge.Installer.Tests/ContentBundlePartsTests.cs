using EdgeForge.Build.Installer;
using EdgeForge.Configuration.Inputs;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <summary>Content bundles cut into <c>NAME_partNN</c> files (§6), streamed from the bundle into the ISO, read back by xorriso.</summary>
public sealed class ContentBundlePartsTests
{
    [Fact]
    public async Task A_bundle_is_split_into_numbered_parts_that_concatenate_back_to_it_and_a_small_one_gets_part00()
    {
        using var work = new TestDirectory();
        var big = work.Combine("core.zst");
        var small = work.Combine("addon.tar.zst");
        var data = new byte[2500];
        new Random(6).NextBytes(data);
        await File.WriteAllBytesAsync(big, data);
        await File.WriteAllBytesAsync(small, [1, 2, 3]);

        var parts = new ContentBundleParts([new ContentBundleFile(big, "content-a/core.zst", data.Length), new ContentBundleFile(small, "content-b/addon.tar.zst", 3)], partSize: 1000);
        parts.PartPaths.ShouldBe([
            "/opt/spectrocloud/content/core.zst_part00", "/opt/spectrocloud/content/core.zst_part01", "/opt/spectrocloud/content/core.zst_part02",
            "/opt/spectrocloud/content/addon.tar.zst_part00",
        ]);

        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "COS_LIVE", ComputeSha256 = true });
        writer.AddFileTree(parts);
        var iso = work.Combine("parts.iso");
        await using (var output = File.Create(iso))
        {
            await writer.WriteAsync(output);
        }

        var tree = work.Combine("tree");
        await ExternalTool.RunAsync("xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", tree);
        var content = Path.Combine(tree, "opt", "spectrocloud", "content");
        Directory.GetFiles(content).Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .ShouldBe(["addon.tar.zst_part00", "core.zst_part00", "core.zst_part01", "core.zst_part02"]);
        new FileInfo(Path.Combine(content, "core.zst_part02")).Length.ShouldBe(500);
        var joined = new[] { 0, 1, 2 }.SelectMany(i => File.ReadAllBytes(Path.Combine(content, $"core.zst_part{i:D2}"))).ToArray();
        joined.ShouldBe(data);
        File.ReadAllBytes(Path.Combine(content, "addon.tar.zst_part00")).ShouldBe(new byte[] { 1, 2, 3 });
    }

    [Fact]
    public void The_default_part_size_is_three_decimal_gigabytes_and_a_bundle_of_exactly_that_size_is_one_part()
    {
        ContentBundleParts.DefaultPartSize.ShouldBe(3_000_000_000);
        using var work = new TestDirectory();
        var sparse = work.Combine("edge.zst");
        using (var file = File.Create(sparse))
        {
            file.SetLength(ContentBundleParts.DefaultPartSize);
        }

        new ContentBundleParts([new ContentBundleFile(sparse, "content-x/edge.zst", ContentBundleParts.DefaultPartSize)]).PartPaths
            .ShouldBe(["/opt/spectrocloud/content/edge.zst_part00"]);
        using (var file = File.OpenWrite(sparse))
        {
            file.SetLength(ContentBundleParts.DefaultPartSize + 1);
        }

        var parts = new ContentBundleParts([new ContentBundleFile(sparse, "content-x/edge.zst", ContentBundleParts.DefaultPartSize + 1)]);
        parts.Entries.Where(e => e.Kind == EdgeForge.FileTree.FileTreeEntryKind.RegularFile).Select(e => e.Size).ShouldBe([ContentBundleParts.DefaultPartSize, 1L]);
    }

    [Fact]
    public void Two_bundles_with_the_same_file_name_are_a_defect_of_the_caller()
    {
        using var work = new TestDirectory();
        Directory.CreateDirectory(work.Combine("a"));
        Directory.CreateDirectory(work.Combine("b"));
        File.WriteAllText(work.Combine("a", "x.zst"), "a");
        File.WriteAllText(work.Combine("b", "x.zst"), "b");
        // Configuration refuses this project (validate names both files); the parts builder only guards the invariant.
        Should.Throw<InvalidOperationException>(() => new ContentBundleParts([new ContentBundleFile(work.Combine("a", "x.zst"), "content-a/x.zst", 1), new ContentBundleFile(work.Combine("b", "x.zst"), "content-b/x.zst", 1)]))
            .Message.ShouldContain("x.zst");
    }
}
