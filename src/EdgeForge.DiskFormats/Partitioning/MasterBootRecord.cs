using System.Buffers.Binary;

namespace EdgeForge.DiskFormats.Partitioning;

/// <summary>One of the four primary MBR partition entries (UEFI 2.10 §5.2.1, table 5-2). LBAs in 512-byte sectors.</summary>
public sealed record MbrPartition(int Index, byte Status, byte Type, uint FirstLba, uint SectorCount);

/// <summary>
/// The classic MBR in sector 0: 440 bytes of boot code, the disk signature, four partition entries and 0x55AA
/// (UEFI 2.10 §5.2.1). With GPT it is a protective MBR (§5.2.3): one 0xEE entry from LBA 1 over the disk.
/// </summary>
public static class MasterBootRecord
{
    public const int BootCodeLength = MbrFields.BootCodeLength;
    public const int PartitionTableOffset = MbrFields.PartitionRecords;
    public const int SignatureOffset = MbrFields.Signature;
    public const byte ProtectiveGptType = 0xEE;
    public const byte ActiveStatus = 0x80;

    /// <summary>
    /// The CHS geometry xorriso assumes for the hybrid MBR ("MBR heads per cyl 64, secs per head 32"), used only to
    /// fill the legacy CHS fields; firmware that matters reads the LBA fields.
    /// </summary>
    public const int HeadsPerCylinder = 64;
    public const int SectorsPerHead = 32;

    public static void WritePartitionEntry(Span<byte> sector, MbrPartition partition)
    {
        var e = Record(sector, partition.Index - 1);
        e[MbrPartitionRecordFields.BootIndicator] = partition.Status;
        WriteChs(e.Slice(MbrPartitionRecordFields.StartingChs, MbrPartitionRecordFields.ChsLength), partition.FirstLba);
        e[MbrPartitionRecordFields.OsType] = partition.Type;
        WriteChs(e.Slice(MbrPartitionRecordFields.EndingChs, MbrPartitionRecordFields.ChsLength),
            partition.SectorCount == 0 ? partition.FirstLba : partition.FirstLba + partition.SectorCount - 1);
        BinaryPrimitives.WriteUInt32LittleEndian(e[MbrPartitionRecordFields.StartingLba..], partition.FirstLba);
        BinaryPrimitives.WriteUInt32LittleEndian(e[MbrPartitionRecordFields.SizeInLba..], partition.SectorCount);
    }

    public static void WriteSignature(Span<byte> sector)
    {
        sector[MbrFields.Signature] = MbrFields.Signature1;
        sector[MbrFields.Signature + 1] = MbrFields.Signature2;
    }

    /// <summary>The non-empty entries of sector 0, or an empty list when it carries no 0x55AA signature.</summary>
    public static IReadOnlyList<MbrPartition> Read(ReadOnlySpan<byte> sector)
    {
        var result = new List<MbrPartition>();
        if (sector[MbrFields.Signature] != MbrFields.Signature1 || sector[MbrFields.Signature + 1] != MbrFields.Signature2)
        {
            return result;
        }

        for (var i = 0; i < MbrFields.PartitionRecordCount; i++)
        {
            var e = Record(sector, i);
            var status = e[MbrPartitionRecordFields.BootIndicator];
            var type = e[MbrPartitionRecordFields.OsType];
            var count = BinaryPrimitives.ReadUInt32LittleEndian(e[MbrPartitionRecordFields.SizeInLba..]);
            if (type == 0 && count == 0 && status == 0)
            {
                continue;
            }

            result.Add(new MbrPartition(i + 1, status, type, BinaryPrimitives.ReadUInt32LittleEndian(e[MbrPartitionRecordFields.StartingLba..]), count));
        }

        return result;
    }

    private static Span<byte> Record(Span<byte> sector, int index) =>
        sector.Slice(MbrFields.PartitionRecords + index * MbrPartitionRecordFields.Length, MbrPartitionRecordFields.Length);

    private static ReadOnlySpan<byte> Record(ReadOnlySpan<byte> sector, int index) =>
        sector.Slice(MbrFields.PartitionRecords + index * MbrPartitionRecordFields.Length, MbrPartitionRecordFields.Length);

    /// <summary>CHS of an LBA in the 64/32 geometry; beyond cylinder 1023 the conventional maximum (1023, 63, 32) is written.</summary>
    private static void WriteChs(Span<byte> destination, uint lba)
    {
        var cylinder = lba / (HeadsPerCylinder * SectorsPerHead);
        var head = lba / SectorsPerHead % HeadsPerCylinder;
        var sector = lba % SectorsPerHead + 1;
        if (cylinder > 1023)
        {
            cylinder = 1023;
            head = HeadsPerCylinder - 1;
            sector = SectorsPerHead;
        }

        destination[0] = (byte)head;
        destination[1] = (byte)(sector | ((cylinder >> 2) & 0xC0));
        destination[2] = (byte)(cylinder & 0xFF);
    }
}
