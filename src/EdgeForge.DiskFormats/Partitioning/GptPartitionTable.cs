using System.Buffers.Binary;
using System.Text;
using EdgeForge.DiskFormats.IO;

namespace EdgeForge.DiskFormats.Partitioning;

/// <summary>One GPT partition entry (UEFI 2.10 §5.3.3, table 5-6). LBAs are 512-byte sectors, end inclusive.</summary>
public sealed record GptPartition(int Index, Guid TypeGuid, Guid UniqueGuid, long FirstLba, long LastLba, ulong Attributes, string Name)
{
    public long SectorCount => LastLba - FirstLba + 1;
}

/// <summary>
/// A GUID partition table (UEFI 2.10 §5.3): a header at LBA 1 with its entry array, and the backup copy — array then
/// header — ending at the last LBA of the disk. Writes and reads both, checking every CRC32 on read.
/// </summary>
public sealed class GptPartitionTable
{
    public const int SectorSize = 512;

    /// <summary>UEFI 2.10 §5.3.2: "EFI PART".</summary>
    public const ulong HeaderSignature = 0x5452415020494645;

    public const uint Revision10 = 0x00010000;
    public const int HeaderSize = GptHeaderFields.Length;
    public const int EntrySize = GptPartitionEntryFields.Length;

    /// <summary>xorriso's entry count: the array fills LBA 2..63, so the first usable LBA is 64 — the ISO partition offset 16 blocks.</summary>
    public const int DefaultEntryCount = 248;

    public static readonly Guid EfiSystemPartitionType = new("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    public static readonly Guid BasicDataPartitionType = new("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");

    /// <summary>UEFI 2.10 table 5-7: bit 0 "required partition"; bit 60 is the Microsoft basic-data "read-only" bit xorriso sets on the ISO partition.</summary>
    public const ulong RequiredPartitionAttribute = 1UL;
    public const ulong ReadOnlyAttribute = 1UL << 60;

    public required Guid DiskGuid { get; init; }
    public required long TotalSectors { get; init; }
    public int EntryCount { get; init; } = DefaultEntryCount;
    public required IReadOnlyList<GptPartition> Partitions { get; init; }

    /// <summary>UEFI 2.10 §5.3.1: the primary header is at LBA 1, its entry array from LBA 2.</summary>
    public const long PrimaryHeaderLba = 1;
    public const long PrimaryEntriesLba = 2;

    public int EntryArraySectors => (EntryCount * EntrySize + SectorSize - 1) / SectorSize;
    public long FirstUsableLba => PrimaryEntriesLba + EntryArraySectors;
    public long BackupHeaderLba => TotalSectors - 1;
    public long BackupEntriesLba => BackupHeaderLba - EntryArraySectors;
    public long LastUsableLba => BackupEntriesLba - 1;

    /// <summary>The entry array as written at LBA 2 and before the backup header.</summary>
    public byte[] BuildEntryArray()
    {
        var array = new byte[EntryArraySectors * SectorSize];
        foreach (var p in Partitions)
        {
            if (p.Index < 1 || p.Index > EntryCount)
            {
                throw new ArgumentOutOfRangeException(nameof(Partitions), $"GPT partition number {p.Index} is outside 1..{EntryCount}");
            }

            if (p.FirstLba < FirstUsableLba || p.LastLba > LastUsableLba || p.LastLba < p.FirstLba)
            {
                throw new ArgumentOutOfRangeException(nameof(Partitions), $"GPT partition {p.Index} ({p.FirstLba}..{p.LastLba}) is outside the usable LBAs {FirstUsableLba}..{LastUsableLba}");
            }

            var e = array.AsSpan((p.Index - 1) * EntrySize, EntrySize);
            p.TypeGuid.TryWriteBytes(e.Slice(GptPartitionEntryFields.PartitionTypeGuid, GptHeaderFields.GuidLength));
            p.UniqueGuid.TryWriteBytes(e.Slice(GptPartitionEntryFields.UniquePartitionGuid, GptHeaderFields.GuidLength));
            BinaryPrimitives.WriteInt64LittleEndian(e[GptPartitionEntryFields.StartingLba..], p.FirstLba);
            BinaryPrimitives.WriteInt64LittleEndian(e[GptPartitionEntryFields.EndingLba..], p.LastLba);
            BinaryPrimitives.WriteUInt64LittleEndian(e[GptPartitionEntryFields.Attributes..], p.Attributes);
            var name = Encoding.Unicode.GetBytes(p.Name);
            name.AsSpan(0, Math.Min(name.Length, GptPartitionEntryFields.PartitionNameLength)).CopyTo(e[GptPartitionEntryFields.PartitionName..]);
        }

        return array;
    }

    /// <summary>The 512-byte header sector; <paramref name="primary"/> selects LBA 1 or the backup at the last LBA (§5.3.2).</summary>
    public byte[] BuildHeader(bool primary, uint entryArrayCrc)
    {
        var sector = new byte[SectorSize];
        var h = sector.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(h[GptHeaderFields.Signature..], HeaderSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(h[GptHeaderFields.Revision..], Revision10);
        BinaryPrimitives.WriteUInt32LittleEndian(h[GptHeaderFields.HeaderSize..], HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(h[GptHeaderFields.MyLba..], primary ? PrimaryHeaderLba : BackupHeaderLba);
        BinaryPrimitives.WriteInt64LittleEndian(h[GptHeaderFields.AlternateLba..], primary ? BackupHeaderLba : PrimaryHeaderLba);
        BinaryPrimitives.WriteInt64LittleEndian(h[GptHeaderFields.FirstUsableLba..], FirstUsableLba);
        BinaryPrimitives.WriteInt64LittleEndian(h[GptHeaderFields.LastUsableLba..], LastUsableLba);
        DiskGuid.TryWriteBytes(h.Slice(GptHeaderFields.DiskGuid, GptHeaderFields.GuidLength));
        BinaryPrimitives.WriteInt64LittleEndian(h[GptHeaderFields.PartitionEntryLba..], primary ? PrimaryEntriesLba : BackupEntriesLba);
        BinaryPrimitives.WriteUInt32LittleEndian(h[GptHeaderFields.NumberOfPartitionEntries..], (uint)EntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(h[GptHeaderFields.SizeOfPartitionEntry..], EntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[GptHeaderFields.PartitionEntryArrayCrc32..], entryArrayCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(h[GptHeaderFields.HeaderCrc32..], Crc32.Compute(h[..HeaderSize]));
        return sector;
    }

    /// <summary>
    /// Reads the primary header at LBA 1 and the backup it names, verifying signatures, both header CRCs, both array
    /// CRCs and that the two copies agree. Returns null when LBA 1 has no GPT signature; throws <see cref="InvalidDataException"/> on damage.
    /// </summary>
    public static GptPartitionTable? Read(Stream disk)
    {
        var primary = ReadSector(disk, PrimaryHeaderLba);
        if (BinaryPrimitives.ReadUInt64LittleEndian(primary.AsSpan(GptHeaderFields.Signature)) != HeaderSignature)
        {
            return null;
        }

        var (table, backupLba) = ParseHeader(disk, primary, PrimaryHeaderLba, "primary");
        if ((backupLba + 1) * SectorSize > disk.Length)
        {
            throw new InvalidDataException($"GPT backup header LBA {backupLba} lies beyond the end of the image ({disk.Length / SectorSize} sectors)");
        }

        var backup = ReadSector(disk, backupLba);
        if (BinaryPrimitives.ReadUInt64LittleEndian(backup.AsSpan(GptHeaderFields.Signature)) != HeaderSignature)
        {
            throw new InvalidDataException($"GPT backup header at LBA {backupLba} has no signature");
        }

        var (backupTable, _) = ParseHeader(disk, backup, backupLba, "backup");
        if (backupTable.DiskGuid != table.DiskGuid || backupTable.Partitions.Count != table.Partitions.Count
            || !backupTable.Partitions.SequenceEqual(table.Partitions))
        {
            throw new InvalidDataException("GPT backup header or entries differ from the primary ones");
        }

        return table;
    }

    private static (GptPartitionTable Table, long OtherLba) ParseHeader(Stream disk, byte[] sector, long lba, string which)
    {
        var h = sector.AsSpan();
        var size = BinaryPrimitives.ReadUInt32LittleEndian(h[GptHeaderFields.HeaderSize..]);
        if (size < HeaderSize || size > SectorSize)
        {
            throw new InvalidDataException($"GPT {which} header size {size} is invalid");
        }

        var storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(h[GptHeaderFields.HeaderCrc32..]);
        var copy = h[..(int)size].ToArray();
        copy.AsSpan(GptHeaderFields.HeaderCrc32, sizeof(uint)).Clear();
        if (Crc32.Compute(copy) != storedCrc)
        {
            throw new InvalidDataException($"GPT {which} header CRC32 mismatch");
        }

        var myLba = BinaryPrimitives.ReadInt64LittleEndian(h[GptHeaderFields.MyLba..]);
        if (myLba != lba)
        {
            throw new InvalidDataException($"GPT {which} header at LBA {lba} names itself LBA {myLba}");
        }

        var otherLba = BinaryPrimitives.ReadInt64LittleEndian(h[GptHeaderFields.AlternateLba..]);
        var firstUsable = BinaryPrimitives.ReadInt64LittleEndian(h[GptHeaderFields.FirstUsableLba..]);
        var lastUsable = BinaryPrimitives.ReadInt64LittleEndian(h[GptHeaderFields.LastUsableLba..]);
        var diskGuid = new Guid(h.Slice(GptHeaderFields.DiskGuid, GptHeaderFields.GuidLength));
        var entriesLba = BinaryPrimitives.ReadInt64LittleEndian(h[GptHeaderFields.PartitionEntryLba..]);
        var count = (int)BinaryPrimitives.ReadUInt32LittleEndian(h[GptHeaderFields.NumberOfPartitionEntries..]);
        var entrySize = (int)BinaryPrimitives.ReadUInt32LittleEndian(h[GptHeaderFields.SizeOfPartitionEntry..]);
        var arrayCrc = BinaryPrimitives.ReadUInt32LittleEndian(h[GptHeaderFields.PartitionEntryArrayCrc32..]);
        if (entrySize < EntrySize || count <= 0 || count > 4096)
        {
            throw new InvalidDataException($"GPT {which} header: {count} entries of {entrySize} bytes is invalid");
        }

        var array = new byte[count * entrySize];
        disk.Position = entriesLba * SectorSize;
        disk.ReadExactly(array);
        if (Crc32.Compute(array) != arrayCrc)
        {
            throw new InvalidDataException($"GPT {which} partition entry array CRC32 mismatch");
        }

        var partitions = new List<GptPartition>();
        for (var i = 0; i < count; i++)
        {
            var e = array.AsSpan(i * entrySize, entrySize);
            var type = new Guid(e.Slice(GptPartitionEntryFields.PartitionTypeGuid, GptHeaderFields.GuidLength));
            if (type == Guid.Empty)
            {
                continue;
            }

            var name = Encoding.Unicode.GetString(e.Slice(GptPartitionEntryFields.PartitionName, GptPartitionEntryFields.PartitionNameLength)).TrimEnd('\0');
            partitions.Add(new GptPartition(i + 1, type, new Guid(e.Slice(GptPartitionEntryFields.UniquePartitionGuid, GptHeaderFields.GuidLength)),
                BinaryPrimitives.ReadInt64LittleEndian(e[GptPartitionEntryFields.StartingLba..]), BinaryPrimitives.ReadInt64LittleEndian(e[GptPartitionEntryFields.EndingLba..]),
                BinaryPrimitives.ReadUInt64LittleEndian(e[GptPartitionEntryFields.Attributes..]), name));
        }

        var table = new GptPartitionTable
        {
            DiskGuid = diskGuid,
            TotalSectors = (lba == PrimaryHeaderLba ? otherLba : lba) + 1,
            EntryCount = count,
            Partitions = partitions,
        };
        foreach (var p in partitions)
        {
            if (p.FirstLba < firstUsable || p.LastLba > lastUsable || p.LastLba < p.FirstLba)
            {
                throw new InvalidDataException($"GPT partition {p.Index} ({p.FirstLba}..{p.LastLba}) lies outside the usable LBAs {firstUsable}..{lastUsable}");
            }
        }

        return (table, otherLba);
    }

    private static byte[] ReadSector(Stream disk, long lba)
    {
        var sector = new byte[SectorSize];
        disk.Position = lba * SectorSize;
        disk.ReadExactly(sector);
        return sector;
    }
}
