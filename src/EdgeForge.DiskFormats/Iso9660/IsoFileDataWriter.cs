using EdgeForge.DiskFormats.IO;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// Copies file contents into their planned extents: added files (boot images patched in memory with their own
/// location) and the trees' files as each source delivers them.
/// </summary>
internal sealed class IsoFileDataWriter(IsoImagePlan plan, IReadOnlyList<IFileTreeSource> sources, IsoProgressReporter progress)
{
    private const int BlockSize = IsoImagePlan.BlockSize;

    /// <summary>Writes an added file from the sink's position, which must be its extent's start (<see cref="AddedFileRegion"/>).</summary>
    public async Task WriteAddedFileAsync(ImageOutputStream sink, IsoTreeNode node, CancellationToken cancellationToken)
    {
        var added = node.Added!;
        if (plan.Patches.TryGetValue(node, out var patch))
        {
            // Boot images are small; libisofs patches them in memory too (iso_patch_eltoritos): GRUB2 first, then
            // the boot-info table, whose checksum therefore covers the GRUB2 patch.
            var image = added.Contents is { } c ? (byte[])c.Clone() : await File.ReadAllBytesAsync(added.LocalPath!, cancellationToken).ConfigureAwait(false);
            if (image.Length != added.Size)
            {
                throw new IOException($"{added.LocalPath}: changed while the image was written");
            }

            if (patch.Grub2BootInfo)
            {
                ElToritoCatalog.PatchGrub2BootInfo(image, (uint)node.DataBlock);
            }

            if (patch.BootInfoTable)
            {
                ElToritoCatalog.PatchBootInfoTable(image, VolumeDescriptorFields.FirstDescriptorBlock, (uint)node.DataBlock);
            }

            await sink.WriteAsync(image, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (added.Contents is { } contents)
        {
            await sink.WriteAsync(contents, cancellationToken).ConfigureAwait(false);
            return;
        }

        await using var stream = new FileStream(added.LocalPath!, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        if (stream.Length != added.Size)
        {
            throw new IOException($"{added.LocalPath}: changed while the image was written");
        }

        await sink.CopyExactlyAsync(stream, added.Size, added.LocalPath!, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes every tree file at its extent, in the order the sources deliver them. The extents were laid out in the
    /// order of each source's entries; a source delivering in another order is placed by seeking when the target
    /// allows it (a file, not hashed in stream order), and fails loudly otherwise.
    /// </summary>
    public async Task WriteTreeFilesAsync(ImageOutputStream sink, CancellationToken cancellationToken)
    {
        var tree = plan.Tree;
        var delivered = new HashSet<IsoTreeNode>();
        var seeking = false;
        for (var s = 0; s < sources.Count; s++)
        {
            var expected = tree.DeliveryOrder[s];
            var next = 0;
            await sources[s].ReadContentsAsync(async (entry, stream, ct) =>
            {
                if (!tree.SourceFiles.TryGetValue((s, entry.Path), out var node) || !delivered.Add(node))
                {
                    throw new IOException($"{entry.Path}: delivered twice, or not a regular file of the source's entries");
                }

                if (entry.Size != node.Size)
                {
                    throw new IOException($"{entry.Path}: delivered with {entry.Size} bytes, its entry said {node.Size}");
                }

                if (!seeking && !ReferenceEquals(node, expected[next]))
                {
                    // The directories already name every extent, laid out in the order of the entries. A source that
                    // delivers in another order can still be placed when the target is a file we may seek in.
                    if (!sink.CanSeek)
                    {
                        throw new IOException($"{entry.Path}: delivered out of the order of the source's entries (expected {expected[next].Path}); " +
                            "writing to a pipe or hashing while writing needs contents in that order");
                    }

                    seeking = true;
                }

                while (next < expected.Count && delivered.Contains(expected[next]))
                {
                    next++;
                }

                if (node.Size == 0)
                {
                    return;
                }

                progress.Enter(IsoWriteStage.TreeFiles, entry.Path);
                if (seeking)
                {
                    sink.Seek(node.DataBlock * BlockSize);
                }
                else
                {
                    await sink.PadToAsync(node.DataBlock * BlockSize, ct).ConfigureAwait(false);
                }

                await sink.CopyExactlyAsync(stream, node.Size, entry.Path, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }

        var missing = tree.SourceFiles.Values.FirstOrDefault(n => !delivered.Contains(n));
        if (missing is not null)
        {
            throw new IOException($"{missing.Path}: the source never delivered its contents");
        }

        if (seeking)
        {
            sink.Seek(sink.HighWater);
        }
    }
}
