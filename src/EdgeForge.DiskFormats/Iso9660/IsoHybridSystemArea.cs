using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EdgeForge.DiskFormats.IO;
using EdgeForge.DiskFormats.Partitioning;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// The hybrid system area xorriso writes for <c>-boot_image grub grub2_mbr=… partition_offset=… -append_partition …
/// appended_part_as=gpt</c>: where the appended partitions go after the ISO volume, the GPT over them (partition 1 is the
/// ISO from the partition offset on), the protective MBR with GRUB's hybrid boot code, and the backup GPT at the end.
/// </summary>
internal sealed class IsoHybridSystemArea
{
    /// <summary>The GPT name of partition 1, as xorriso gives it; readers find the partition's own superblock by it.</summary>
    public const string IsoPartitionName = "ISO9660";

    /// <summary>ECMA-119 blocks are four 512-byte sectors.</summary>
    private const int SectorsPerBlock = Iso9660Writer.BlockSize / GptPartitionTable.SectorSize;

    private const byte EfiSystemMbrType = 0xEF;

    private readonly HybridPartitionOptions _options;

    private IsoHybridSystemArea(HybridPartitionOptions options, IReadOnlyList<AppendedPlacement> appended, GptPartitionTable gpt)
    {
        _options = options;
        Appended = appended;
        Gpt = gpt;
    }

    /// <summary>The appended partitions in number order, each from a block boundary right after the previous one.</summary>
    public IReadOnlyList<AppendedPlacement> Appended { get; }

    public GptPartitionTable Gpt { get; }

    /// <summary>The image's whole length in blocks: a multiple of 4 sectors that leaves room for the backup GPT.</summary>
    public long TotalBlocks => Gpt.TotalSectors / SectorsPerBlock;

    /// <summary>Places the appended partitions after the ISO volume's <paramref name="isoBlocks"/> and builds the GPT over them.</summary>
    public static IsoHybridSystemArea Plan(IsoImageOptions options, HybridPartitionOptions hybrid, long isoBlocks, long treeDataBlocks)
    {
        var appended = new List<AppendedPlacement>();
        var end = isoBlocks;
        foreach (var partition in hybrid.AppendedPartitions.OrderBy(p => p.Number))
        {
            if (partition.Number is < 2 or > 8 || hybrid.AppendedPartitions.Count(p => p.Number == partition.Number) > 1)
            {
                throw new ArgumentException($"appended partition number {partition.Number} must be unique and within 2..8");
            }

            var length = new FileInfo(partition.LocalPath).Length;
            appended.Add(new AppendedPlacement(partition, end, length));
            end += BinaryFields.DivideRoundingUp(length, Iso9660Writer.BlockSize);
        }

        // UEFI 2.10 §5.3.1: the backup entry array and header occupy the last LBAs of the disk.
        var entrySectors = GptPartitionTable.DefaultEntryCount * GptPartitionTable.EntrySize / GptPartitionTable.SectorSize;
        var totalSectors = BinaryFields.RoundUp(end * SectorsPerBlock + entrySectors + 1, SectorsPerBlock);
        var gpt = BuildGpt(options, hybrid, appended, totalSectors, isoBlocks, treeDataBlocks);
        return new IsoHybridSystemArea(hybrid, appended, gpt);
    }

    /// <summary>
    /// The 16-block system area: GRUB's boot code (patched to load <paramref name="mbrBootImage"/>), the protective MBR,
    /// the primary GPT header at LBA 1 and its entry array from LBA 2.
    /// </summary>
    public byte[] BuildSystemArea(IsoTreeNode? mbrBootImage)
    {
        var area = new byte[Iso9660Writer.SystemAreaBlocks * Iso9660Writer.BlockSize];
        var mbr = area.AsSpan(0, GptPartitionTable.SectorSize);
        if ((_options.MbrBootCode ?? (_options.MbrBootCodePath is { } path ? File.ReadAllBytes(path) : null)) is { } code)
        {
            code.AsSpan(0, Math.Min(code.Length, MbrFields.BootCodeLength)).CopyTo(mbr[MbrFields.BootCode..]);
            if (mbrBootImage is not null)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(mbr[ElToritoCatalog.Grub2MbrPatchOffset..],
                    (ulong)mbrBootImage.DataBlock * SectorsPerBlock + ElToritoCatalog.Grub2MbrSectorDelta);
            }
        }

        // UEFI 2.10 §5.2.3: protective MBR, one 0xEE partition from LBA 1 to the end (capped at 2^32-1 sectors).
        MasterBootRecord.WritePartitionEntry(mbr, new MbrPartition(1, 0, MasterBootRecord.ProtectiveGptType, (uint)GptPartitionTable.PrimaryHeaderLba,
            (uint)Math.Min(uint.MaxValue, Gpt.TotalSectors - 1)));
        if (_options.ForceBootable)
        {
            // xorriso mbr_force_bootable: an empty active entry at LBA 0, since 0xEE itself must not be active.
            MasterBootRecord.WritePartitionEntry(mbr, new MbrPartition(2, MasterBootRecord.ActiveStatus, 0, 0, 1));
        }

        MasterBootRecord.WriteSignature(mbr);
        var array = Gpt.BuildEntryArray();
        Gpt.BuildHeader(primary: true, Crc32.Compute(array)).CopyTo(area, GptPartitionTable.PrimaryHeaderLba * GptPartitionTable.SectorSize);
        array.CopyTo(area, GptPartitionTable.PrimaryEntriesLba * GptPartitionTable.SectorSize);
        return area;
    }

    /// <summary>The backup entry array followed by the backup header: the bytes of <see cref="BackupGptRegion"/>.</summary>
    public byte[] BuildBackupGpt()
    {
        var array = Gpt.BuildEntryArray();
        return [.. array, .. Gpt.BuildHeader(primary: false, Crc32.Compute(array))];
    }

    /// <summary>Copies an appended partition's file into its place; a file that changed size since planning is an error.</summary>
    public static async Task WriteAppendedPartitionAsync(ImageOutputStream sink, AppendedPlacement partition, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(partition.Source.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        if (stream.Length != partition.Length)
        {
            throw new IOException($"{partition.Source.LocalPath}: changed while the image was written");
        }

        await sink.CopyExactlyAsync(stream, partition.Length, partition.Source.LocalPath, cancellationToken).ConfigureAwait(false);
    }

    private static GptPartitionTable BuildGpt(IsoImageOptions options, HybridPartitionOptions hybrid, List<AppendedPlacement> appended, long totalSectors,
        long isoBlocks, long treeDataBlocks)
    {
        // Deterministic GUIDs from the volume's own data, shaped as RFC 4122 version-4 GUIDs; partition GUIDs derive
        // from the disk GUID by decrementing byte 9 per partition number, as libisofs does.
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"edgeforge-gpt|{options.VolumeId}|{options.Timestamp}|{totalSectors}|{isoBlocks}|{treeDataBlocks}"));
        foreach (var a in appended)
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"|{a.Source.Number}:{a.StartBlock}:{a.Length}"));
        }

        var bytes = sha.GetHashAndReset().AsSpan(0, 16).ToArray();
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var disk = new Guid(bytes);
        Guid PartitionGuid(int index)
        {
            var b = (byte[])bytes.Clone();
            b[9] = (byte)(b[9] - index);
            return new Guid(b);
        }

        var partitions = new List<GptPartition>
        {
            new(1, GptPartitionTable.BasicDataPartitionType, PartitionGuid(1), hybrid.PartitionOffset * (long)SectorsPerBlock, isoBlocks * SectorsPerBlock - 1,
                GptPartitionTable.ReadOnlyAttribute | GptPartitionTable.RequiredPartitionAttribute, IsoPartitionName),
        };
        foreach (var a in appended)
        {
            var type = a.Source.MbrType == EfiSystemMbrType ? GptPartitionTable.EfiSystemPartitionType : GptPartitionTable.BasicDataPartitionType;
            var sectors = Math.Max(1, BinaryFields.DivideRoundingUp(a.Length, GptPartitionTable.SectorSize));
            partitions.Add(new GptPartition(a.Source.Number, type, PartitionGuid(a.Source.Number), a.StartBlock * SectorsPerBlock,
                a.StartBlock * SectorsPerBlock + sectors - 1, 0, $"Appended{a.Source.Number}"));
        }

        return new GptPartitionTable { DiskGuid = disk, TotalSectors = totalSectors, Partitions = partitions };
    }
}
