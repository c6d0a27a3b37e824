using EdgeForge.DiskFormats.Partitioning;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// Where every byte of an image goes, decided before any is written: the tree with each file's extent, the metadata
/// layout, El Torito entries, the hybrid system area, and the image's regions in ascending order. Writing needs only
/// this: the metadata of <see cref="IsoMetadataWriter"/> names every extent from the plan, so it may be written before
/// or after the file data it describes, and a file may be written straight into its <see cref="FileExtent"/>.
/// </summary>
internal sealed class IsoImagePlan
{
    public const int BlockSize = Iso9660Writer.BlockSize;

    public required IsoImageOptions Options { get; init; }
    public required IsoTree Tree { get; init; }
    public required IsoMetadataLayout Metadata { get; init; }

    /// <summary>Set 0 at block 16 with absolute addresses; with a partition offset, set 1 for GPT partition 1.</summary>
    public required IReadOnlyList<IsoDescriptorSet> DescriptorSets { get; init; }

    public required long? CatalogBlock { get; init; }
    public required IReadOnlyList<ElToritoPlacedEntry> CatalogEntries { get; init; }

    /// <summary>Added boot images to patch with their own location (boot-info table, GRUB2 boot info).</summary>
    public required IReadOnlyDictionary<IsoTreeNode, ElToritoBootEntry> Patches { get; init; }

    /// <summary>The first BIOS boot image: GRUB's hybrid MBR code is patched to load it.</summary>
    public required IsoTreeNode? MbrBootImage { get; init; }

    /// <summary>First block and block count of the tree files' data, laid out in delivery order.</summary>
    public required long TreeDataBlock { get; init; }
    public required long TreeDataBlocks { get; init; }

    /// <summary>First block of the tail file (<see cref="IsoFilePlacement.Tail"/>), whose contents the caller wrote before the image.</summary>
    public required long? TailBlock { get; init; }

    /// <summary>Blocks of the ISO 9660 volume (GPT partition 1 ends here); appended partitions follow.</summary>
    public required long IsoBlocks { get; init; }

    public required IsoHybridSystemArea? Hybrid { get; init; }
    public required long TotalBlocks { get; init; }

    /// <summary>Every region of the image in ascending, non-overlapping order; the gaps between them are zeros.</summary>
    public required IReadOnlyList<IsoRegion> Regions { get; init; }

    public long TotalBytes => TotalBlocks * BlockSize;

    /// <summary>The first block and byte length of a file's data (block 0 for an empty file); multi-extent files are contiguous.</summary>
    public (long Block, long Length) FileExtent(IsoTreeNode file)
    {
        var owner = file.DataOwner ?? throw new ArgumentException($"{file.Path}: has no data", nameof(file));
        return owner.IsCatalog ? (CatalogBlock!.Value, BlockSize) : (owner.DataBlock, owner.Size);
    }
}

/// <summary>The image's names as a tree, and which node each source file and added file became.</summary>
internal sealed class IsoTree
{
    public required IsoTreeNode Root { get; init; }
    public required IReadOnlyList<IsoTreeNode> AddedNodes { get; init; }
    public required IReadOnlyDictionary<(int Source, string Path), IsoTreeNode> SourceFiles { get; init; }

    /// <summary>Per source, its regular files in the order of its entries: the order their contents arrive.</summary>
    public required IReadOnlyList<IReadOnlyList<IsoTreeNode>> DeliveryOrder { get; init; }
}

/// <summary>
/// One volume descriptor set and the metadata it points at. Addresses written into the set are plan blocks minus
/// <see cref="AddressOffset"/>: set 1 describes GPT partition 1 as an ISO 9660 filesystem of its own (libisofs
/// "partition_offset"), so its addresses count from the partition start.
/// </summary>
internal sealed record IsoDescriptorSet(int Index, long DescriptorBlock, int DescriptorCount, long MetadataBlock, long AddressOffset, bool HasBootRecord);

/// <summary>
/// The metadata area of one descriptor set, in blocks from its start: the ISO 9660 path tables (type L, then M, ECMA-119
/// §9.4), the ISO 9660 directories, the Rock Ridge continuation areas, then the Joliet path tables and directories.
/// Every set repeats the same layout at its own <see cref="IsoDescriptorSet.MetadataBlock"/>.
/// </summary>
internal sealed class IsoMetadataLayout
{
    public required IsoDirectoryTree Iso { get; init; }
    public required IsoDirectoryTree? Joliet { get; init; }
    public required long ContinuationStart { get; init; }
    public required int ContinuationBlocks { get; init; }
    public required long Blocks { get; init; }
}

/// <summary>One directory hierarchy (ISO 9660 or Joliet) as laid out: its directories in path table order and its path tables.</summary>
internal sealed class IsoDirectoryTree
{
    public required bool Joliet { get; init; }
    public required IReadOnlyList<IsoDirectoryExtent> Directories { get; init; }
    public required long PathTableStart { get; init; }
    public required long PathTableBytes { get; init; }
    public required long PathTableBlocks { get; init; }

    public IsoDirectoryExtent Root => Directories[0];
}

/// <summary>An appended partition as placed after the ISO volume (whole 2048-byte blocks, its exact length).</summary>
internal sealed record AppendedPlacement(AppendedPartition Source, long StartBlock, long Length);

/// <summary>A region of the image: its byte range, the write stage it belongs to, and the file it holds, if one.</summary>
internal abstract record IsoRegion(long Offset, long Length)
{
    public abstract IsoWriteStage Stage { get; }

    public virtual string? Name => null;

    public long End => Offset + Length;
}

/// <summary>ECMA-119 §6.2.1: the 16 blocks before the first descriptor; MBR and primary GPT in a hybrid image.</summary>
internal sealed record SystemAreaRegion(long Length) : IsoRegion(0, Length)
{
    public override IsoWriteStage Stage => IsoWriteStage.SystemArea;
}

internal sealed record VolumeDescriptorsRegion(IsoDescriptorSet Set)
    : IsoRegion(Set.DescriptorBlock * IsoImagePlan.BlockSize, Set.DescriptorCount * (long)IsoImagePlan.BlockSize)
{
    public override IsoWriteStage Stage => IsoWriteStage.VolumeDescriptors;
}

internal sealed record BootCatalogRegion(long Block) : IsoRegion(Block * IsoImagePlan.BlockSize, IsoImagePlan.BlockSize)
{
    public override IsoWriteStage Stage => IsoWriteStage.BootCatalog;
}

internal sealed record DirectoryMetadataRegion(IsoDescriptorSet Set, long Blocks)
    : IsoRegion(Set.MetadataBlock * IsoImagePlan.BlockSize, Blocks * IsoImagePlan.BlockSize)
{
    public override IsoWriteStage Stage => IsoWriteStage.Directories;
}

internal sealed record AddedFileRegion(IsoTreeNode Node) : IsoRegion(Node.DataBlock * IsoImagePlan.BlockSize, Node.Size)
{
    public override IsoWriteStage Stage => IsoWriteStage.AddedFiles;

    public override string? Name => Node.Path;
}

/// <summary>The data of every tree file, each at its node's extent, in the order the sources deliver it.</summary>
internal sealed record TreeFilesRegion(long Block, long Blocks) : IsoRegion(Block * IsoImagePlan.BlockSize, Blocks * IsoImagePlan.BlockSize)
{
    public override IsoWriteStage Stage => IsoWriteStage.TreeFiles;
}

/// <summary>The tail file's extent: its contents are already in place, so writing the image only steps over them.</summary>
internal sealed record TailFileRegion(IsoTreeNode Node) : IsoRegion(Node.DataBlock * IsoImagePlan.BlockSize, Node.Size)
{
    public override IsoWriteStage Stage => IsoWriteStage.TreeFiles;

    public override string? Name => Node.Path;
}

internal sealed record AppendedPartitionRegion(AppendedPlacement Partition) : IsoRegion(Partition.StartBlock * IsoImagePlan.BlockSize, Partition.Length)
{
    public override IsoWriteStage Stage => IsoWriteStage.AppendedPartitions;

    public override string? Name => Partition.Source.LocalPath;
}

/// <summary>UEFI 2.10 §5.3.1: the backup entry array, then the backup header in the disk's last LBA.</summary>
internal sealed record BackupGptRegion(GptPartitionTable Gpt)
    : IsoRegion(Gpt.BackupEntriesLba * GptPartitionTable.SectorSize, (Gpt.EntryArraySectors + 1L) * GptPartitionTable.SectorSize)
{
    public override IsoWriteStage Stage => IsoWriteStage.BackupGpt;
}
