namespace EdgeForge.DiskFormats.Partitioning;

// UEFI Specification 2.10, chapter 5 "GUID Partition Table (GPT) Disk Layout". All numbers are little-endian.

/// <summary>UEFI 2.10 §5.2.1, table 5-1: the legacy MBR in sector 0; §5.2.3 (table 5-3) lays a protective MBR out the same way.</summary>
internal static class MbrFields
{
    public const int BootCode = 0;
    public const int BootCodeLength = 440;

    /// <summary>Unique MBR disk signature, 4 bytes; unused by UEFI firmware.</summary>
    public const int DiskSignature = 440;

    /// <summary>Four 16-byte partition records (<see cref="MbrPartitionRecordFields"/>).</summary>
    public const int PartitionRecords = 446;
    public const int PartitionRecordCount = 4;

    /// <summary>0x55 0xAA.</summary>
    public const int Signature = 510;
    public const byte Signature1 = 0x55, Signature2 = 0xAA;
}

/// <summary>UEFI 2.10 §5.2.1, table 5-2: one legacy MBR partition record.</summary>
internal static class MbrPartitionRecordFields
{
    /// <summary>0x80 bootable ("active"); a protective MBR's 0xEE record must not be.</summary>
    public const int BootIndicator = 0;

    /// <summary>Head, sector (with the cylinder's two high bits), cylinder: 3 bytes each.</summary>
    public const int StartingChs = 1;
    public const int OsType = 4;
    public const int EndingChs = 5;
    public const int ChsLength = 3;

    public const int StartingLba = 8;
    public const int SizeInLba = 12;
    public const int Length = 16;
}

/// <summary>UEFI 2.10 §5.3.2, table 5-5: the GPT header.</summary>
internal static class GptHeaderFields
{
    /// <summary>"EFI PART".</summary>
    public const int Signature = 0;
    public const int Revision = 8;
    public const int HeaderSize = 12;

    /// <summary>CRC32 of the first <see cref="HeaderSize"/> bytes with this field zero.</summary>
    public const int HeaderCrc32 = 16;
    public const int MyLba = 24;
    public const int AlternateLba = 32;
    public const int FirstUsableLba = 40;
    public const int LastUsableLba = 48;
    public const int DiskGuid = 56;
    public const int GuidLength = 16;
    public const int PartitionEntryLba = 72;
    public const int NumberOfPartitionEntries = 80;
    public const int SizeOfPartitionEntry = 84;
    public const int PartitionEntryArrayCrc32 = 88;

    /// <summary>The header's defined bytes; the rest of its sector is reserved and zero.</summary>
    public const int Length = 92;
}

/// <summary>UEFI 2.10 §5.3.3, table 5-6: one GPT partition entry.</summary>
internal static class GptPartitionEntryFields
{
    public const int PartitionTypeGuid = 0;
    public const int UniquePartitionGuid = 16;
    public const int StartingLba = 32;

    /// <summary>Inclusive.</summary>
    public const int EndingLba = 40;

    /// <summary>Table 5-7 attribute bits.</summary>
    public const int Attributes = 48;

    /// <summary>36 UTF-16LE code units.</summary>
    public const int PartitionName = 56;
    public const int PartitionNameLength = 72;

    /// <summary>The entry's defined bytes; a table's entries may be larger (a multiple of 128).</summary>
    public const int Length = 128;
}
