namespace EdgeForge.DiskFormats.Iso9660;

// El Torito Bootable CD-ROM Format Specification 1.0 (Phoenix/IBM, 1995). All numbers are little-endian.

/// <summary>El Torito §2: the catalog is one block of 32-byte entries, validation entry first, then the initial/default entry, then sections.</summary>
internal static class ElToritoCatalogFields
{
    public const int EntryLength = 32;
    public const int ValidationEntry = 0;
    public const int InitialEntry = 32;
    public const int FirstSectionHeader = 64;
}

/// <summary>El Torito §2.1: the validation entry, whose sixteen 16-bit words sum to zero.</summary>
internal static class ElToritoValidationEntryFields
{
    /// <summary>Header id, 01.</summary>
    public const int HeaderId = 0;

    /// <summary>Platform id of the initial/default entry.</summary>
    public const int PlatformId = 1;

    /// <summary>Manufacturer/developer id, 24 bytes.</summary>
    public const int IdString = 4;

    public const int Checksum = 28;
    public const int KeyByte1 = 30;
    public const int KeyByte2 = 31;
    public const byte KeyByte1Value = 0x55, KeyByte2Value = 0xAA;
}

/// <summary>El Torito §2.2 (initial/default entry) and §2.4 (section entry): one boot image.</summary>
internal static class ElToritoEntryFields
{
    /// <summary>88 bootable, 00 not bootable.</summary>
    public const int BootIndicator = 0;

    /// <summary>Boot media type; 0 is no emulation.</summary>
    public const int MediaType = 1;

    /// <summary>Load segment; 0 means the traditional 0x7C0.</summary>
    public const int LoadSegment = 2;

    /// <summary>System type (the partition type byte of an emulated hard disk).</summary>
    public const int SystemType = 4;

    /// <summary>16-bit: virtual 512-byte sectors the BIOS loads.</summary>
    public const int SectorCount = 6;

    /// <summary>32-bit: the image's absolute 2048-byte block ("load RBA").</summary>
    public const int LoadRba = 8;
}

/// <summary>El Torito §2.3: a section header, followed by its entries.</summary>
internal static class ElToritoSectionHeaderFields
{
    /// <summary>90 more headers follow, 91 final header.</summary>
    public const int HeaderIndicator = 0;

    public const int PlatformId = 1;

    /// <summary>16-bit: entries in this section.</summary>
    public const int SectionEntryCount = 2;

    /// <summary>Id string, 28 bytes.</summary>
    public const int IdString = 4;
}

/// <summary>
/// The boot-info table of mkisofs <c>-boot-info-table</c> (libisofs <c>iso_patch_eltoritos</c>): 56 bytes at offset 8 of
/// a no-emulation boot image, patched in when the image is written. Little-endian 32-bit fields.
/// </summary>
internal static class BootInfoTableFields
{
    public const int Table = 8;
    public const int TableLength = 56;

    /// <summary>Block of the primary volume descriptor (always 16).</summary>
    public const int PrimaryVolumeDescriptorBlock = 8;

    /// <summary>Block of the boot image itself.</summary>
    public const int BootFileBlock = 12;

    /// <summary>Bytes of the boot image.</summary>
    public const int BootFileLength = 16;

    /// <summary>Sum of the image's 32-bit words from <see cref="ChecksumStart"/> on.</summary>
    public const int Checksum = 20;

    /// <summary>The checksum covers everything after the table's 40 reserved bytes.</summary>
    public const int ChecksumStart = Table + TableLength;
}
