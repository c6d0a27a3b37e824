using EdgeForge.DiskFormats.IO;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// Decides the whole <see cref="IsoImagePlan"/> from the trees' metadata and the options, before any byte is written.
/// </summary>
/// <remarks>
/// Image layout (2048-byte blocks): 0–15 system area; 16… volume descriptors (PVD, El Torito boot record, Joliet SVD,
/// terminator); with a partition offset P a second descriptor set at P+16 whose addresses are relative to P, so GPT
/// partition 1 is an ISO 9660 filesystem of its own (libisofs "partition_offset"); the boot catalog; path tables,
/// directories and Rock Ridge continuation areas of each descriptor set; added files (boot images); tree file data;
/// the tail file, if one, and the added files placed after it (<see cref="IsoFilePlacement"/>); appended partitions;
/// backup GPT. Directories precede all file data, and continuation areas precede the data of
/// their files, because streaming readers (libarchive) read an image strictly forwards.
/// </remarks>
internal static class IsoLayoutPlanner
{
    private const int BlockSize = Iso9660Writer.BlockSize;

    /// <summary>El Torito §2.2: BIOS loaders read 4 virtual sectors (one CD block) unless told otherwise.</summary>
    private const ushort DefaultBiosLoadSectors = 4;

    private const int VirtualSectorSize = 512;

    /// <summary>Where the tail file starts: fixed by everything before it, so known before its contents exist.</summary>
    public static long TailBlock(IsoImageOptions options, IReadOnlyList<IFileTreeSource> sources, IReadOnlyList<IsoAddedFile> added) =>
        Place(options, sources, added).TailBlock;

    public static IsoImagePlan Plan(IsoImageOptions options, IReadOnlyList<IFileTreeSource> sources, IReadOnlyList<IsoAddedFile> added)
    {
        var (tree, metadata, sets, catalogBlock, front, treeDataBlock, treeDataEnd, tail, tailBlock, late, isoBlocks) = Place(options, sources, added);
        var hybrid = options.Partitions is { } partitions ? IsoHybridSystemArea.Plan(options, partitions, isoBlocks, isoBlocks - treeDataBlock) : null;
        var totalBlocks = hybrid?.TotalBlocks ?? isoBlocks;
        var (catalogEntries, patches, mbrBootImage) = PlanElTorito(options, tree, hybrid);

        var regions = new List<IsoRegion> { new SystemAreaRegion(Iso9660Writer.SystemAreaBlocks * (long)BlockSize) };
        regions.AddRange(sets.Select(s => new VolumeDescriptorsRegion(s)));
        if (catalogBlock is { } catalog)
        {
            regions.Add(new BootCatalogRegion(catalog));
        }

        regions.AddRange(sets.Select(s => new DirectoryMetadataRegion(s, metadata.Blocks)));
        regions.AddRange(front.Where(n => n.Size > 0).Select(n => new AddedFileRegion(n)));
        regions.Add(new TreeFilesRegion(treeDataBlock, treeDataEnd - treeDataBlock));
        if (tail is { Size: > 0 })
        {
            regions.Add(new TailFileRegion(tail));
        }

        regions.AddRange(late.Where(n => n.Size > 0).Select(n => new AddedFileRegion(n)));
        if (hybrid is not null)
        {
            regions.AddRange(hybrid.Appended.Select(a => new AppendedPartitionRegion(a)));
            regions.Add(new BackupGptRegion(hybrid.Gpt));
        }

        return new IsoImagePlan
        {
            Options = options,
            Tree = tree,
            Metadata = metadata,
            DescriptorSets = sets,
            CatalogBlock = catalogBlock,
            CatalogEntries = catalogEntries,
            Patches = patches,
            MbrBootImage = mbrBootImage,
            TreeDataBlock = treeDataBlock,
            TreeDataBlocks = isoBlocks - treeDataBlock,
            TailBlock = tail is null ? null : tailBlock,
            IsoBlocks = isoBlocks,
            Hybrid = hybrid,
            TotalBlocks = totalBlocks,
            Regions = regions,
        };
    }

    /// <summary>What <see cref="Place"/> decides: the tree with every file's extent, the metadata, and where each group of files lies.</summary>
    private sealed record DataPlacement(IsoTree Tree, IsoMetadataLayout Metadata, List<IsoDescriptorSet> Sets, long? CatalogBlock, List<IsoTreeNode> Front,
        long TreeDataBlock, long TreeDataEnd, IsoTreeNode? Tail, long TailBlock, List<IsoTreeNode> Late, long IsoBlocks);

    /// <summary>The tree, its metadata layout and every file's extent, in the order of the image.</summary>
    private static DataPlacement Place(
        IsoImageOptions options, IReadOnlyList<IFileTreeSource> sources, IReadOnlyList<IsoAddedFile> added)
    {
        var tree = IsoTreeBuilder.Build(options, sources, added);

        // Descriptor sets and fixed blocks at the front: PVD and terminator, the boot record, the Joliet SVD.
        var descriptorsA = 2 + (options.ElTorito is null ? 0 : 1) + (options.Joliet ? 1 : 0);
        var next = VolumeDescriptorFields.FirstDescriptorBlock + (long)descriptorsA;
        var descriptorsB = 2 + (options.Joliet ? 1 : 0);
        var partitionOffset = options.Partitions?.PartitionOffset ?? 0;
        if (options.Partitions is not null)
        {
            next = Math.Max(next, partitionOffset + VolumeDescriptorFields.FirstDescriptorBlock + (long)descriptorsB);
        }

        long? catalogBlock = options.ElTorito is null ? null : next++;
        var metadata = IsoDirectoryLayout.Plan(tree.Root, options);
        var sets = new List<IsoDescriptorSet>
        {
            new(0, VolumeDescriptorFields.FirstDescriptorBlock, descriptorsA, next, 0, HasBootRecord: options.ElTorito is not null),
        };
        if (options.Partitions is not null)
        {
            sets.Add(new IsoDescriptorSet(1, partitionOffset + VolumeDescriptorFields.FirstDescriptorBlock, descriptorsB, next + metadata.Blocks, partitionOffset, HasBootRecord: false));
        }

        next += sets.Count * metadata.Blocks;
        void Allocate(IsoTreeNode node)
        {
            node.DataBlock = node.Size == 0 ? 0 : next;
            next += BinaryFields.DivideRoundingUp(node.Size, BlockSize);
        }

        var front = tree.AddedNodes.Where(n => n.Added!.Placement == IsoFilePlacement.Front).ToList();
        front.ForEach(Allocate);
        var treeDataBlock = next;
        foreach (var node in tree.DeliveryOrder.SelectMany(d => d))
        {
            Allocate(node);
        }

        var treeDataEnd = next;
        // The tail starts right after the trees' data whatever its length, so its offset is known before its contents.
        var tail = tree.AddedNodes.SingleOrDefault(n => n.Added!.Placement == IsoFilePlacement.Tail);
        var tailBlock = next;
        if (tail is not null)
        {
            Allocate(tail);
        }

        var late = tree.AddedNodes.Where(n => n.Added!.Placement == IsoFilePlacement.AfterTail).ToList();
        late.ForEach(Allocate);
        return new DataPlacement(tree, metadata, sets, catalogBlock, front, treeDataBlock, treeDataEnd, tail, tailBlock, late, next);
    }

    private static (List<ElToritoPlacedEntry> Entries, Dictionary<IsoTreeNode, ElToritoBootEntry> Patches, IsoTreeNode? MbrBootImage) PlanElTorito(
        IsoImageOptions options, IsoTree tree, IsoHybridSystemArea? hybrid)
    {
        var entries = new List<ElToritoPlacedEntry>();
        var patches = new Dictionary<IsoTreeNode, ElToritoBootEntry>();
        IsoTreeNode? mbrBootImage = null;
        if (options.ElTorito is not { } elTorito)
        {
            return (entries, patches, mbrBootImage);
        }

        if (elTorito.Entries.Count == 0)
        {
            throw new ArgumentException("El Torito needs at least one boot entry");
        }

        foreach (var entry in elTorito.Entries)
        {
            if (entry.AppendedPartition is { } number)
            {
                var placed = hybrid?.Appended.FirstOrDefault(a => a.Source.Number == number)
                    ?? throw new ArgumentException($"El Torito entry names appended partition {number}, which is not configured");
                if (entry.BootInfoTable || entry.Grub2BootInfo)
                {
                    throw new ArgumentException("boot images on appended partitions cannot be patched");
                }

                var sectors = (ushort)Math.Min(ushort.MaxValue, BinaryFields.DivideRoundingUp(placed.Length, VirtualSectorSize));
                entries.Add(new ElToritoPlacedEntry(entry.Platform, entry.LoadSectors ?? sectors, checked((uint)placed.StartBlock)));
                continue;
            }

            var path = IsoTreeBuilder.NormalisePath(entry.ImagePath ?? throw new ArgumentException("an El Torito entry needs an image path or an appended partition"));
            var node = tree.AddedNodes.FirstOrDefault(n => n.Path == path)
                ?? throw new ArgumentException($"El Torito image {path} must be added with AddFile (tree files are placed only as their source delivers them)");
            if (node.Size == 0)
            {
                throw new ArgumentException($"El Torito image {path} is empty");
            }

            var defaultSectors = entry.Platform == ElToritoPlatform.Bios
                ? DefaultBiosLoadSectors
                : (ushort)Math.Min(ushort.MaxValue, BinaryFields.DivideRoundingUp(node.Size, VirtualSectorSize));
            entries.Add(new ElToritoPlacedEntry(entry.Platform, entry.LoadSectors ?? defaultSectors, checked((uint)node.DataBlock)));
            if (entry.BootInfoTable || entry.Grub2BootInfo)
            {
                patches[node] = entry;
            }

            if (entry.Platform == ElToritoPlatform.Bios && mbrBootImage is null)
            {
                mbrBootImage = node;
            }
        }

        return (entries, patches, mbrBootImage);
    }
}
