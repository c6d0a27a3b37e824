using System.Security.Cryptography;
using EdgeForge.DiskFormats.IO;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>
/// The layout is decided before the first byte: the plan's regions cover the image in order, its extents are where a
/// reader finds the files, the directories can be written from the plan alone, and progress counts towards the
/// plan's total.
/// </summary>
public sealed class IsoLayoutPlanTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("edgeforge-plan-");

    [Fact]
    public async Task The_plan_covers_the_image_in_order_and_names_the_extents_a_reader_finds()
    {
        var (options, sources, added) = Hybrid();
        var plan = IsoLayoutPlanner.Plan(options, sources, added);
        for (var i = 1; i < plan.Regions.Count; i++)
        {
            plan.Regions[i].Offset.ShouldBeGreaterThanOrEqualTo(plan.Regions[i - 1].End, $"{plan.Regions[i]} after {plan.Regions[i - 1]}");
        }

        plan.Regions[^1].End.ShouldBe(plan.TotalBytes, "the backup GPT ends the image");
        plan.Regions.Select(r => r.Stage).ShouldBe(plan.Regions.Select(r => r.Stage).Order());

        var image = await WriteAsync(options, sources, added, progress: null);
        ((long)image.Length).ShouldBe(plan.TotalBytes);
        using var stream = new MemoryStream(image);
        var files = new Iso9660Reader(stream).ListFiles().Where(f => !f.IsDirectory && f.Size > 0).ToDictionary(f => f.Path);
        var planned = plan.Tree.SourceFiles.Values.Concat(plan.Tree.AddedNodes).Where(n => n.Size > 0).ToList();
        planned.Count.ShouldBe(files.Count - 1, "every file but the hardlink's second name");
        foreach (var node in planned)
        {
            var (block, length) = plan.FileExtent(node);
            (files[node.Path].Extents[0].Block, files[node.Path].Size).ShouldBe((block, length), node.Path);
        }
    }

    [Fact]
    public async Task Directories_written_from_the_plan_alone_are_the_bytes_the_image_holds()
    {
        var (options, sources, added) = Hybrid();
        var image = await WriteAsync(options, sources, added, progress: null);

        // No file data is read or written: the metadata needs only the plan (so a large file may be written into its
        // extent separately, and the directories after it).
        var plan = IsoLayoutPlanner.Plan(options, sources, added);
        var writer = new IsoMetadataWriter(plan);
        plan.DescriptorSets.Count.ShouldBe(2);
        foreach (var region in plan.Regions.OfType<DirectoryMetadataRegion>())
        {
            using var alone = new MemoryStream();
            using (var sink = new ImageOutputStream(alone, computeSha256: false))
            {
                await writer.WriteDirectoryMetadataAsync(sink, region.Set, CancellationToken.None);
            }

            alone.Length.ShouldBe(region.Length);
            alone.ToArray().AsSpan().SequenceEqual(image.AsSpan((int)region.Offset, (int)region.Length)).ShouldBeTrue($"descriptor set {region.Set.Index}");
        }

        foreach (var region in plan.Regions.OfType<VolumeDescriptorsRegion>())
        {
            writer.BuildVolumeDescriptors(region.Set).AsSpan().SequenceEqual(image.AsSpan((int)region.Offset, (int)region.Length)).ShouldBeTrue();
        }
    }

    [Fact]
    public async Task Progress_counts_every_byte_towards_the_planned_total_at_a_bounded_rate_without_changing_the_image()
    {
        var (options, sources, added) = Hybrid();
        var reports = new List<IsoWriteProgress>();
        var withProgress = await WriteAsync(options, sources, added, new SynchronousProgress(reports.Add));
        var without = await WriteAsync(options, sources, added, progress: null);
        SHA256.HashData(withProgress).ShouldBe(SHA256.HashData(without));

        var total = (long)withProgress.Length;
        reports.ShouldAllBe(r => r.BytesTotal == total);
        reports[0].ShouldBe(new IsoWriteProgress(IsoWriteStage.SystemArea, 0, total, null));
        reports[^1].ShouldBe(new IsoWriteProgress(IsoWriteStage.Done, total, total, null));
        reports.Select(r => r.BytesWritten).ShouldBe(reports.Select(r => r.BytesWritten).Order());
        reports.Select(r => r.Stage).ShouldBe(reports.Select(r => r.Stage).Order());
        reports.Select(r => r.Stage).Distinct().ShouldBe(Enum.GetValues<IsoWriteStage>());
        reports.Count.ShouldBeLessThanOrEqualTo(Enum.GetValues<IsoWriteStage>().Length + added.Length + (int)(total / IsoProgressReporter.Interval) + 1);
        reports.ShouldContain(r => r.Stage == IsoWriteStage.TreeFiles && r.File == "sizes/size-1048576.bin");
        reports.ShouldContain(r => r.Stage == IsoWriteStage.AddedFiles && r.File == "boot/kernel");
    }

    /// <summary>The installer's shape: BIOS and UEFI El Torito, a second descriptor set, an appended ESP, added and tree files.</summary>
    private (IsoImageOptions Options, IFileTreeSource[] Sources, IsoAddedFile[] Added) Hybrid()
    {
        var esp = Path.Combine(_scratch.FullName, "esp.img");
        File.WriteAllBytes(esp, GoldenTrees.Bytes("esp.img", 3 << 20));
        var options = GoldenTrees.InstallerIso(esp);
        IsoAddedFile[] added =
        [
            new("boot/eltorito.img", GoldenTrees.Bytes("eltorito.img", 30_001), null, 30_001, 0x1A4),
            new("boot/kernel", GoldenTrees.Bytes("kernel", 5_000_000), null, 5_000_000, 0x1A4),
        ];
        return (options, [GoldenTrees.Rich(), GoldenTrees.Many(200)], added);
    }

    private static async Task<byte[]> WriteAsync(IsoImageOptions options, IFileTreeSource[] sources, IsoAddedFile[] added, IProgress<IsoWriteProgress>? progress)
    {
        var writer = new Iso9660Writer(options);
        foreach (var source in sources)
        {
            writer.AddFileTree(source);
        }

        foreach (var file in added)
        {
            writer.AddFile(file.IsoPath, file.Contents!, file.Mode);
        }

        using var output = new MemoryStream();
        await writer.WriteAsync(output, progress);
        return output.ToArray();
    }

    /// <summary>Records reports on the writing thread, in order (<see cref="Progress{T}"/> would post them to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<IsoWriteProgress> report) : IProgress<IsoWriteProgress>
    {
        public void Report(IsoWriteProgress value) => report(value);
    }

    public void Dispose() => _scratch.Delete(recursive: true);
}
