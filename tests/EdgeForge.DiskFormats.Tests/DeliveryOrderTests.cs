using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>A source that delivers contents in another order than its entries (IFileTreeSource allows its cheapest order).</summary>
internal sealed class ReversedDeliverySource(IFileTreeSource inner) : IFileTreeSource
{
    public IReadOnlyList<FileTreeEntry> Entries => inner.Entries;

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        var buffered = new List<(FileTreeEntry Entry, byte[] Bytes)>();
        await inner.ReadContentsAsync(async (entry, stream, ct) =>
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            buffered.Add((entry, copy.ToArray()));
        }, cancellationToken);
        buffered.Reverse();
        foreach (var (entry, bytes) in buffered)
        {
            await consumer(entry, new MemoryStream(bytes), cancellationToken);
        }
    }
}

public sealed class DeliveryOrderTests : IDisposable
{
    private readonly TestDirectory _temp = new();

    [Fact]
    public async Task Contents_delivered_out_of_entry_order_land_in_their_extents_in_a_file()
    {
        var tree = _temp.Combine("tree");
        for (var i = 0; i < 20; i++)
        {
            TestTrees.WriteRandom(Path.Combine(tree, $"d{i % 3}", $"f{i:D2}.bin"), 1000 + i * 3000, i);
        }

        var inOrder = _temp.Combine("in-order.iso");
        var reversed = _temp.Combine("reversed.iso");
        foreach (var (path, source) in new[] { (inOrder, (IFileTreeSource)new DirectoryFileTreeSource(tree)), (reversed, new ReversedDeliverySource(new DirectoryFileTreeSource(tree))) })
        {
            var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "ORDER", Timestamp = 1 });
            writer.AddFileTree(source);
            await using var output = File.Create(path);
            await writer.WriteAsync(output);
        }

        TestTrees.Sha256(reversed).ShouldBe(TestTrees.Sha256(inOrder), "the layout does not depend on the delivery order");
        var extracted = _temp.Combine("x");
        Directory.CreateDirectory(extracted);
        ExternalTool.Output("bsdtar", "-xf", reversed, "-C", extracted);
        foreach (var file in Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories))
        {
            TestTrees.Sha256(Path.Combine(extracted, Path.GetRelativePath(tree, file))).ShouldBe(TestTrees.Sha256(file));
        }
    }

    [Fact]
    public async Task Out_of_order_contents_fail_loudly_when_the_image_is_hashed_or_piped()
    {
        var tree = _temp.Combine("tree2");
        TestTrees.Write(Path.Combine(tree, "a"), "first\n");
        TestTrees.Write(Path.Combine(tree, "b"), "second\n");
        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "ORDER", ComputeSha256 = true });
        writer.AddFileTree(new ReversedDeliverySource(new DirectoryFileTreeSource(tree)));
        await using var output = File.Create(_temp.Combine("hashed.iso"));
        var error = await Should.ThrowAsync<IOException>(() => writer.WriteAsync(output));
        error.Message.ShouldContain("b: delivered out of the order of the source's entries (expected a)");
    }

    public void Dispose() => _temp.Dispose();
}
